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
    """Build the book with warnings as errors (`jupyter-book build -W -n`) into _build/html.

    Returns the html folder. The build log is attached to the failure when the build fails.
    """
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb if jb.exists() else shutil.which("jupyter-book")), "build", str(ROOT),
           "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"jupyter-book build -W -n failed (exit {proc.returncode}):\n{log[-6000:]}")
    return HTML
