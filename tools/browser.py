"""Headless Chromium on the built site: load pages, inspect the typeset DOM, take screenshots.

Used by tests/test_browser.py (every page loads, every formula typesets) and by
tools/screenshots.py (`make screenshots`). Chromium is Debian's `chromium` package.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = ("Chromium is needed for the browser test. Install it with "
                "`sudo apt-get install chromium` (Debian/Ubuntu) or your system's package manager, "
                "or point the CHROMIUM environment variable at a Chrome/Chromium binary.")

# Quiet, offline, reproducible: no background traffic on a closed network, no GPU, no sandbox
# (CI runs as root).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--force-device-scale-factor=1"]


def find_chromium() -> str | None:
    """Path of a Chromium binary (the CHROMIUM variable first), or None."""
    env = os.environ.get("CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(chromium: str, args: list[str], budget_ms: int, timeout: float) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        cmd = [chromium, *FLAGS, f"--user-data-dir={profile}",
               f"--virtual-time-budget={budget_ms}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def dump_dom(chromium: str, url: str, budget_ms: int = 20000, timeout: float = 90) -> str:
    """The page's DOM after its scripts (MathJax) ran, as HTML text."""
    proc = _run(chromium, ["--dump-dom", url], budget_ms, timeout)
    return proc.stdout


def screenshot(chromium: str, url: str, out: Path, width: int, height: int,
               budget_ms: int = 20000, timeout: float = 90) -> bool:
    """Render the first screen of ``url`` at ``width`` x ``height`` CSS pixels into ``out`` (PNG)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(chromium, [f"--screenshot={out}", f"--window-size={width},{height}", url],
         budget_ms, timeout)
    return out.exists() and out.stat().st_size > 0


class _TextAndImages(HTMLParser):
    """Collect visible text (outside scripts, styles, code and typeset math) and image sources."""

    SKIP = {"script", "style", "pre", "code", "mjx-container", "textarea", "noscript", "kbd"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.stack: list[str] = []
        self.text: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.images.append(src)
            return
        if tag in ("br", "hr", "meta", "link", "input", "source", "wbr", "col"):
            return
        self.stack.append(tag)
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag not in self.stack:
            return
        while self.stack:
            top = self.stack.pop()
            if top in self.SKIP:
                self.depth -= 1
            if top == tag:
                break

    def handle_data(self, data):
        if self.depth == 0:
            self.text.append(data)


@dataclass
class PageReport:
    """What the browser found on one page."""

    page: str
    loaded: bool
    formulas: int = 0
    expected_formulas: int = 0
    errors: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.loaded and not self.errors


_MERROR = re.compile(r'<mjx-merror[^>]*data-mjx-error="([^"]*)"')
_DATA_ERROR = re.compile(r'data-mjx-error="([^"]*)"')
# MathJax's `noundefined` package typesets an undefined macro as its name in red.
_UNDEFINED = re.compile(r'style="[^"]*color:\s*red[^"]*">((?:<mjx-c class="mjx-c[0-9A-F]+"></mjx-c>)+)')
_CHAR = re.compile(r'mjx-c([0-9A-F]+)')
_LEFTOVER = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{")


def count_source_formulas(source_html: str) -> int:
    """Formulas Sphinx left for MathJax in a built page (inline and display math)."""
    return len(re.findall(r'class="math notranslate nohighlight"', source_html))


def analyse(page: str, dom: str, source_html: str, page_path: Path) -> PageReport:
    """Check one page's DOM: loaded, no MathJax error, no undefined macro, nothing left
    untypeset, every image present."""
    report = PageReport(page, loaded="</html>" in dom and "<body" in dom)
    if not report.loaded:
        report.errors.append("page did not load")
        return report
    report.formulas = dom.count("<mjx-container")
    report.expected_formulas = count_source_formulas(source_html)
    for msg in sorted(set(_MERROR.findall(dom)) | set(_DATA_ERROR.findall(dom))):
        report.errors.append(f"MathJax error: {msg}")
    for chars in _UNDEFINED.findall(dom):
        name = "".join(chr(int(c, 16)) for c in _CHAR.findall(chars))
        report.errors.append(f"undefined macro {name}")
    parser = _TextAndImages()
    parser.feed(dom)
    text = "".join(parser.text)
    for m in _LEFTOVER.finditer(text):
        context = text[max(0, m.start() - 40): m.end() + 40].replace("\n", " ")
        report.errors.append(f"untypeset math: ...{context}...")
        break
    if report.formulas < report.expected_formulas:
        report.errors.append(f"only {report.formulas} of {report.expected_formulas} formulas typeset")
    for src in parser.images:
        if src.startswith(("data:", "http://", "https://")):
            continue
        target = (page_path.parent / src.split("#")[0].split("?")[0]).resolve()
        if not target.exists():
            report.errors.append(f"missing image {src}")
    return report


def site_pages(html_root: Path) -> list[Path]:
    """Every HTML page of the built site, in a stable order (MathJax's own files excluded)."""
    skip = {"_static", "_sources", "mathjax", "_images", "_sphinx_design_static"}
    return sorted(p for p in html_root.rglob("*.html")
                  if not (set(p.relative_to(html_root).parts[:-1]) & skip))
