"""Every notebook is a chapter of the book: listed in the table of contents and committed executed.

Strict nbval compares the committed outputs with a fresh run; it cannot do so for a notebook saved
without outputs (that one passes trivially), so this test makes sure none is.
"""

import nbformat
import pytest
from _book import ROOT
from _book import toc_entries as toc_files

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def code_cells(path):
    nb = nbformat.read(path, as_version=4)
    return nb, [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebook found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_listed_in_the_table_of_contents(path):
    assert f"notebooks/{path.stem}" in toc_files(), f"{path.name} is missing from _toc.yml"


def test_every_toc_entry_exists():
    for entry in toc_files():
        candidates = [ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb")]
        assert any(c.exists() for c in candidates), f"_toc.yml lists {entry}, which does not exist"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_fully_executed_in_order(path):
    nb, cells = code_cells(path)
    assert cells, f"{path.name} has no code cell"
    counts = [c.execution_count for c in cells]
    assert None not in counts, f"{path.name}: {counts.count(None)} code cell(s) never executed"
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: execution counts {counts}"
    assert any(c.outputs for c in cells), f"{path.name} has no output at all"
    assert not any(o.output_type == "error" for c in cells for o in c.outputs), \
        f"{path.name} has an error in its committed outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_a_kernelspec_and_one_title(path):
    nb, _ = code_cells(path)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    titles = [line for c in nb.cells if c.cell_type == "markdown"
              for line in c.source.splitlines() if line.startswith("# ")]
    assert len(titles) == 1, f"{path.name} must have exactly one H1 title, has {titles}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_outputs_show_no_machine_paths_or_addresses(path):
    import json
    import re

    _, cells = code_cells(path)
    texts = []
    for c in cells:
        for o in c.outputs:
            texts.append(o.get("text", ""))
            texts += [v for k, v in o.get("data", {}).items() if not k.startswith("image/")]
    text = json.dumps(texts)
    found = re.findall(r"(/work/|/tmp/|/root/|/home/|0x[0-9a-f]{8,})", text)
    assert not found, f"{path.name} outputs contain {sorted(set(found))}"
