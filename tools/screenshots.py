"""Render the first screen of every page of the built site to PNG, at desktop and phone width.

Usage: python tools/screenshots.py [OUTDIR]   (default: screenshots/; run `make screenshots`)
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import browser

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def main(argv: list[str]) -> int:
    chromium = browser.find_chromium()
    if chromium is None:
        print(browser.INSTALL_HINT)
        return 1
    if not (HTML / "index.html").exists():
        print("No built site in _build/html: run `make book` first.")
        return 1
    outdir = Path(argv[0]) if argv else ROOT / "screenshots"
    jobs = []
    for page in browser.site_pages(HTML):
        stem = page.relative_to(HTML).with_suffix("").as_posix().replace("/", "__")
        for size, (w, h) in SIZES.items():
            jobs.append((page, outdir / f"{stem}.{size}.png", w, h))
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda j: browser.screenshot(chromium, j[0].as_uri(), j[1], j[2], j[3]),
                             jobs))
    for (page, out, w, h), ok in zip(jobs, done):
        print(f"{'ok  ' if ok else 'FAIL'} {out.relative_to(outdir.parent) if out.is_relative_to(outdir.parent) else out}")
    return 0 if all(done) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
