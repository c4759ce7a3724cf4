"""The benchmark script runs (small shapes, few repeats); its timings are not tested here."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import bench  # noqa: E402


def test_benchmark_script_runs_every_case(capsys):
    assert bench.main(["--quick", "--repeat", "1", "--number", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("linear", "bilinear", "conv2d", "float32", "max_pool2d", "avg_pool2d", "cross_entropy", "mse",
                 "lstm", "rnn",
                 "bce_with_logits", "batchnorm"):
        assert name in out
