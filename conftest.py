"""Settings for the whole suite (library tests, notebooks under nbval, site tests)."""

import os

from hypothesis import settings

# The notebooks' kernel inherits this environment: it must use the inline backend (a global
# MPLBACKEND=Agg would drop every figure from the outputs) and one BLAS thread, like
# tools/execute_notebooks.py, so that outputs reproduce.
os.environ.pop("MPLBACKEND", None)
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

# Hypothesis: no example database on disk (a test run changes no file), no deadline (CI machines
# are slow and shared), and derandomized so that a run is reproducible.
settings.register_profile("book", database=None, deadline=None, derandomize=True)
settings.load_profile("book")
