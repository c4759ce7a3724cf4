"""The site builds with warnings as errors and has a page for every entry of the table of contents."""

import re

from _book import ROOT, toc_entries


def test_book_builds_without_warnings_and_has_every_page(built_site):
    assert (built_site / "index.html").exists()
    for entry in toc_entries():
        assert (built_site / f"{entry}.html").exists(), f"no page for {entry}"


def test_chapters_are_numbered_and_show_math_tables_and_figures(built_site):
    for entry in toc_entries():
        if not entry.startswith("notebooks/"):
            continue
        html = (built_site / f"{entry}.html").read_text(encoding="utf-8")
        number = int(entry.split("/")[1][:2])
        numbered = re.search(r'<h1><span class="section-number">(\d+)\. </span>', html)
        assert numbered, f"{entry}: its title is not numbered"
        assert int(numbered.group(1)) == number, f"{entry}: numbered {numbered.group(1)}, not {number}"
        assert html.count('class="math') >= 5, f"{entry}: too little math"
        assert "<img" in html, f"{entry}: no figure"
        assert "<table" in html, f"{entry}: no table"


def test_bibliography_lists_the_required_references(built_site):
    html = (built_site / "book" / "bibliography.html").read_text(encoding="utf-8")
    for needle in ("Deep Learning", "Matrix Cookbook", "Matrix Calculus You Need",
                   "Batch normalization", "Long short-term memory", "Tiled convolutional",
                   "You only look once", "CS231n"):
        assert needle.lower() in html.lower(), f"bibliography lacks {needle!r}"


def test_each_chapter_offers_its_notebook_for_download_and_numbers_its_equations(built_site):
    for entry in toc_entries():
        if not entry.startswith("notebooks/"):
            continue
        page = built_site / f"{entry}.html"
        html = page.read_text(encoding="utf-8")
        name = entry.split("/")[1]
        link = f'href="../_sources/notebooks/{name}.ipynb"'
        assert link in html, f"{entry}: no download link for its notebook"
        assert (built_site / "_sources" / "notebooks" / f"{name}.ipynb").exists()
        number = int(name[:2])
        eqnos = re.findall(r'<span class="eqno">\((\d+)\.(\d+)\)', html)
        assert eqnos, f"{entry}: no numbered equation"
        assert all(int(ch) == number for ch, _ in eqnos), f"{entry}: equation numbers {eqnos[:3]}"


def test_search_works_offline(built_site):
    """Sphinx's search runs in the browser from a local index: no server, no network."""
    index = (built_site / "searchindex.js").read_text(encoding="utf-8")
    assert "backward" in index and "jacobian" in index.lower()
    assert (built_site / "search.html").exists()


def test_library_page_marks_exactly_the_existing_ops_as_available():
    from handgrad import ops

    text = (ROOT / "book" / "library.md").read_text(encoding="utf-8")
    available, planned = set(), set()
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[5] in ("available", "planned"):
            names = set(re.findall(r"`(\w+)`", cells[0]))
            (available if cells[5] == "available" else planned).update(names)
    assert available == set(ops.OPS), f"library.md says available: {sorted(available)}"
    assert not planned & set(ops.OPS)
