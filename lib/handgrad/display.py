"""Show library code inside a chapter, so that the book never holds a second copy of it."""

from __future__ import annotations

import inspect
from pathlib import Path

__all__ = ["SourceListing", "show_source"]


class SourceListing:
    """The source of a library object; renders as a highlighted code block in a notebook.

    Its plain-text form is the source itself, so a notebook whose committed output no longer
    matches the library fails its nbval check and must be re-executed. The header names the file
    but not the line numbers, so that editing another function of the file does not make every
    listing below it stale.
    """

    def __init__(self, obj):
        self.obj = obj
        lines, _ = inspect.getsourcelines(obj)
        self.source = "".join(lines).rstrip("\n")
        path = Path(inspect.getsourcefile(obj)).resolve()
        parts = path.parts
        rel = "/".join(parts[parts.index("handgrad"):]) if "handgrad" in parts else path.name
        self.location = f"lib/{rel}"

    def __repr__(self) -> str:
        return f"# {self.location}\n{self.source}"

    def _repr_markdown_(self) -> str:
        return f"`{self.location}`\n\n```python\n{self.source}\n```"


def show_source(obj) -> SourceListing:
    """Return a displayable listing of a function or class of the library.

    Parameters
    ----------
    obj : function, class or module
        Anything ``inspect.getsource`` accepts.

    Returns
    -------
    SourceListing
        Displayed as a code block when it is the value of a notebook cell.
    """
    return SourceListing(obj)
