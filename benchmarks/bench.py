"""Speed of handgrad's forward+backward, and its ratio to PyTorch on the same machine.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench.py            # handgrad only (PyTorch is not a dependency)
    python benchmarks/bench.py                      # in an environment that also has torch==2.13.0

Both libraries are held to one thread. Each case times one forward and one backward pass and
reports the best of several repeats (milliseconds). When PyTorch is importable it prints the
ratio handgrad / PyTorch next to the target the book sets for it; `--check` makes the script exit
non-zero when a ratio misses its target. Timings depend on the machine: they are never part of the
test suite or of a notebook's text output.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy (and torch) are imported

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402

from handgrad import ops  # noqa: E402

try:  # optional
    import torch  # noqa: E402

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - depends on the environment
    torch = None


@dataclass
class Case:
    name: str
    handgrad: Callable[[], object]
    torch: Callable[[], object] | None
    target: float | None  # largest acceptable handgrad / torch ratio


def best_time(fn, repeat: int, number: int) -> float:
    """Best of `repeat` runs of `number` calls, in seconds per call."""
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def _pair(name, inputs, options=None):
    fwd, bwd = getattr(ops, f"{name}_forward"), getattr(ops, f"{name}_backward")
    options = options or {}

    def run():
        out, cache = fwd(*inputs, **options)
        return bwd(np.ones_like(out), cache)

    return run


def _torch_run(fn, tensors, *rest):
    def run():
        out = fn(*tensors, *rest)
        return torch.autograd.grad(out, tensors, torch.ones_like(out))

    return run


def cases(quick: bool) -> list[Case]:
    rng = np.random.default_rng(0)
    n, d, m = (32, 64, 64) if quick else (256, 512, 512)
    out = []

    x, W, b = rng.standard_normal((n, d)), rng.standard_normal((m, d)), rng.standard_normal(m)
    t_lin = None
    if torch is not None:
        tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
        t_lin = _torch_run(torch.nn.functional.linear, (tx, tW, tb))
    out.append(Case(f"linear {n}x{d} -> {m}, float64", _pair("linear", [x, W, b]), t_lin, 1.3))

    c = 100 if quick else 1000
    logits, target = rng.standard_normal((n, c)), rng.integers(0, c, n)
    t_ce = None
    if torch is not None:
        tl, tt = torch.tensor(logits, requires_grad=True), torch.tensor(target)

        def t_ce():
            loss = torch.nn.functional.cross_entropy(tl, tt)
            return torch.autograd.grad(loss, (tl,))

    out.append(Case(f"cross_entropy {n}x{c}, float64", _pair("cross_entropy", [logits, target]),
                    t_ce, 1.5))

    xb, g, be = rng.standard_normal((n, d)), rng.uniform(0.5, 2, d), rng.standard_normal(d)
    t_bn = None
    if torch is not None:
        txb, tg, tbe = (torch.tensor(a, requires_grad=True) for a in (xb, g, be))
        t_bn = _torch_run(lambda a, w, bb: torch.nn.functional.batch_norm(
            a, None, None, w, bb, training=True, eps=1e-5), (txb, tg, tbe))
    out.append(Case(f"batchnorm {n}x{d}, float64", _pair("batchnorm", [xb, g, be]), t_bn, 3.5))

    xi = rng.standard_normal((8, 16, 8, 8) if quick else (32, 16, 32, 32))
    gi, bi = rng.uniform(0.5, 2, 16), rng.standard_normal(16)
    t_bn4 = None
    if torch is not None:
        txi, tgi, tbi = (torch.tensor(a, requires_grad=True) for a in (xi, gi, bi))
        t_bn4 = _torch_run(lambda a, w, bb: torch.nn.functional.batch_norm(
            a, None, None, w, bb, training=True, eps=1e-5), (txi, tgi, tbi))
    shape = "x".join(map(str, xi.shape))
    out.append(Case(f"batchnorm {shape}, float64", _pair("batchnorm", [xi, gi, bi]), t_bn4, None))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, for a smoke test")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=10)
    parser.add_argument("--check", action="store_true", help="fail when a ratio misses its target")
    args = parser.parse_args(argv)

    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else
                                       ", torch not installed (ratios skipped)"))
    header = f"{'case':<40}{'handgrad ms':>12}{'torch ms':>10}{'ratio':>8}{'target':>8}  result"
    print(header)
    print("-" * len(header))
    missed = 0
    for case in cases(args.quick):
        th = best_time(case.handgrad, args.repeat, args.number) * 1e3
        if case.torch is None:
            print(f"{case.name:<40}{th:>12.3f}")
            continue
        tt = best_time(case.torch, args.repeat, args.number) * 1e3
        ratio = th / tt
        verdict, target = "", ""
        if case.target is not None:
            target = f"{case.target:.1f}"
            verdict = "ok" if ratio <= case.target else "MISSED"
            missed += verdict == "MISSED"
        print(f"{case.name:<40}{th:>12.3f}{tt:>10.3f}{ratio:>8.2f}{target:>8}  {verdict}")
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
