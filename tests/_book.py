"""Facts about the book shared by the tests: where it lives and what its table of contents lists."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_entries() -> list:
    """The root page and every chapter of _toc.yml, in reading order (paths without suffix)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [toc["root"]]
    for part in toc.get("parts", []):
        entries += [ch["file"] for ch in part.get("chapters", [])]
    return entries
