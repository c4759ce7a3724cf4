"""Fixtures shared by the site tests: the book is built once per test session."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def built_site():
    """Build the book with warnings as errors (`jupyter-book build --all -W -n`) into _build/html.

    Returns the html folder. The build log is attached to the failure when the build fails.
    """
    jb = Path(sys.executable).parent / "jupyter-book"
    # --all: a full rebuild, since an incremental one can keep stale static files (CSS)
    cmd = [str(jb if jb.exists() else shutil.which("jupyter-book")), "build", str(ROOT),
           "--all", "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"jupyter-book build -W -n failed (exit {proc.returncode}):\n{log[-6000:]}")
    return HTML


def pytest_terminal_summary(terminalreporter):
    """Report, per page, how many formulas the browser test saw typeset."""
    try:
        from test_browser import REPORTS
    except ImportError:
        return
    if not REPORTS:
        return
    tr = terminalreporter
    tr.section("browser: formulas typeset per page")
    width = max(len(r.page) for r in REPORTS)
    for r in REPORTS:
        status = "ok" if r.ok else f"{len(r.errors)} problem(s)"
        tr.write_line(f"{r.page.ljust(width)}  {r.formulas:5d} formulas  {status}")
