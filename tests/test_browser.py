"""A real browser on the built site: every page loads and every formula typesets.

Headless Chromium opens each HTML page of _build/html from the file system (as a reader does, with
no network) and the test fails on a page that does not load, a MathJax error, an undefined macro, a
formula left untypeset or a missing image. Without Chromium the test is skipped on a user's machine
and fails in CI (where .ci/run installs it).
"""

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import browser  # noqa: E402

REPORTS: list = []


@pytest.fixture(scope="module")
def chromium():
    path = browser.find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test, but Chromium was not found. " + browser.INSTALL_HINT)
        pytest.skip(browser.INSTALL_HINT)
    return path


def _check(chromium, html_root, page):
    dom = browser.dump_dom(chromium, page.as_uri())
    source = page.read_text(encoding="utf-8")
    return browser.analyse(page.relative_to(html_root).as_posix(), dom, source, page)


def test_every_page_loads_and_typesets_all_its_math(built_site, chromium):
    pages = browser.site_pages(built_site)
    assert len(pages) >= 5, f"too few pages in the site: {pages}"
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda p: _check(chromium, built_site, p), pages))
    REPORTS[:] = reports
    failures = [f"{r.page}: {e}" for r in reports for e in r.errors]
    assert not failures, "browser found problems:\n" + "\n".join(failures)
    chapters = [r for r in reports if r.page.startswith("notebooks/")]
    assert chapters and all(r.formulas > 0 for r in chapters), "a chapter shows no typeset formula"


def test_a_broken_formula_is_caught(chromium, tmp_path):
    """The detector itself: a page with a TeX error, an undefined macro and raw math must fail."""
    mathjax = Path(__file__).resolve().parent.parent / "book" / "_extra" / "mathjax" / "tex-chtml.js"
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><script>window.MathJax = {tex: {macros: {R: '\\\\mathbb{R}'}}};"
        f"</script><script defer src='{mathjax.as_uri()}'></script></head><body>"
        "<p><span class='math'>\\(x \\in \\R\\)</span> fine, "
        "<span class='math'>\\(\\frac{1}\\)</span> broken, "
        "<span class='math'>\\(\\nosuchmacro{x}\\)</span> undefined, "
        "<span class='mathjax_ignore'>\\(a+b\\)</span> left raw.</p>"
        "<img src='missing.png'></body></html>")
    report = browser.analyse("broken.html", browser.dump_dom(chromium, page.as_uri()),
                             page.read_text(), page)
    text = "\n".join(report.errors)
    assert report.loaded and report.formulas >= 2
    assert "Missing argument for \\frac" in text
    assert "undefined macro \\nosuchmacro" in text
    assert "untypeset math" in text
    assert "missing image missing.png" in text
