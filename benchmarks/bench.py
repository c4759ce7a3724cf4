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


def _case(name, op, inputs, options, torch_fn, target, grad_inputs=None):
    """A case timing ``op`` on ``inputs``; ``torch_fn(*tensors)`` is the same computation in
    PyTorch, differentiated with respect to the first ``grad_inputs`` inputs (default: all)."""
    t_run = None
    if torch is not None and torch_fn is not None:
        k = len(inputs) if grad_inputs is None else grad_inputs
        tensors = [torch.tensor(a, requires_grad=i < k) for i, a in enumerate(inputs)]
        grads = tensors[:k]

        def t_run():
            out = torch_fn(*tensors)
            return torch.autograd.grad(out, grads, torch.ones_like(out))

    return Case(name, _pair(op, inputs, options), t_run, target)


def cases(quick: bool) -> list[Case]:
    rng = np.random.default_rng(0)
    F = torch.nn.functional if torch is not None else None
    n, d, m = (32, 64, 64) if quick else (256, 512, 512)
    out = []

    def fn(name):  # a torch.nn.functional function, or None without torch
        return getattr(F, name) if F is not None else None

    x, W, b = rng.standard_normal((n, d)), rng.standard_normal((m, d)), rng.standard_normal(m)
    out.append(_case(f"linear {n}x{d} -> {m}, float64", "linear", [x, W, b], {},
                     fn("linear"), 1.3))

    # bilinear: M = 64 forms of two 64-vectors per sample (no target: the torch op is _trilinear)
    bn, bd = (16, 8) if quick else (256, 64)
    x1, x2 = rng.standard_normal((bn, bd)), rng.standard_normal((bn, bd))
    Ab, bb = rng.standard_normal((bd, bd, bd)), rng.standard_normal(bd)
    out.append(_case(f"bilinear {bn}x{bd}, {bn}x{bd} -> {bd}, float64", "bilinear",
                     [x1, x2, Ab, bb], {}, fn("bilinear"), None))

    # convolution: the case x (32, 16, 32, 32), w (32, 16, 3, 3), padding 1
    xs, ws = ((4, 8, 16, 16), (8, 8, 3, 3)) if quick else ((32, 16, 32, 32), (32, 16, 3, 3))
    for dtype, target in ((np.float64, 1.5), (np.float32, 3.5)):
        xc = rng.standard_normal(xs).astype(dtype)
        wc = rng.standard_normal(ws).astype(dtype)
        bc = rng.standard_normal(ws[0]).astype(dtype)
        for stride in (1, 2):
            name = f"conv2d {'x'.join(map(str, xs))} s{stride}, {np.dtype(dtype).name}"
            out.append(_case(name, "conv2d", [xc, wc, bc], {"stride": stride, "padding": 1},
                             F and (lambda a, w, bb, s=stride: F.conv2d(a, w, bb, s, 1)),
                             target))

    xp = rng.standard_normal(xs)
    shape = "x".join(map(str, xs))
    out.append(_case(f"max_pool2d 2x2 {shape}, float64", "max_pool2d", [xp],
                     {"kernel_size": 2}, F and (lambda a: F.max_pool2d(a, 2)), 1.5))
    out.append(_case(f"avg_pool2d 2x2 {shape}, float64", "avg_pool2d", [xp],
                     {"kernel_size": 2}, F and (lambda a: F.avg_pool2d(a, 2)), 2.5))
    out.append(_case(f"max_pool2d 3x3 s2 {shape}, float64", "max_pool2d", [xp],
                     {"kernel_size": 3, "stride": 2},
                     F and (lambda a: F.max_pool2d(a, 3, 2)), None))

    c = 100 if quick else 1000
    logits, target = rng.standard_normal((n, c)), rng.integers(0, c, n)
    out.append(_case(f"cross_entropy {n}x{c}, float64", "cross_entropy", [logits, target], {},
                     F and (lambda a, t: F.cross_entropy(a, t)), 1.5, grad_inputs=1))
    pred, tgt = rng.standard_normal((n, c)), rng.standard_normal((n, c))
    out.append(_case(f"mse {n}x{c}, float64", "mse", [pred, tgt], {},
                     F and (lambda a, t: F.mse_loss(a, t)), None, grad_inputs=1))
    prob = rng.uniform(0, 1, (n, c))
    out.append(_case(f"bce_with_logits {n}x{c}, float64", "bce_with_logits", [pred, prob], {},
                     F and (lambda a, t: F.binary_cross_entropy_with_logits(a, t)), None,
                     grad_inputs=1))

    # recurrent layers: the case N 32, T 50, D 64, H 128, float64
    sn, st, sd, sh = (4, 10, 8, 16) if quick else (32, 50, 64, 128)
    xs_, h0 = rng.standard_normal((sn, st, sd)), np.zeros((sn, sh))
    w_ih, w_hh = 0.1 * rng.standard_normal((4 * sh, sd)), 0.1 * rng.standard_normal((4 * sh, sh))
    b4 = 0.1 * rng.standard_normal(4 * sh)
    def torch_recurrent(module_cls, weights, with_cell):
        """The same layer in PyTorch (its second bias zero), timed like ``_pair``."""
        module = module_cls(sd, sh, batch_first=True).double()
        with torch.no_grad():
            for param, value in zip((module.weight_ih_l0, module.weight_hh_l0,
                                     module.bias_ih_l0), weights):
                param.copy_(torch.tensor(value))
            module.bias_hh_l0.zero_()
        tx = torch.tensor(xs_, requires_grad=True)
        states = [torch.zeros((1, sn, sh), dtype=torch.float64, requires_grad=True)
                  for _ in range(2 if with_cell else 1)]
        wanted = [tx, *states, module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0]

        def run():
            seq, _ = module(tx, tuple(states) if with_cell else states[0])
            return torch.autograd.grad(seq, wanted, torch.ones_like(seq))

        return run

    out.append(Case(f"lstm N{sn} T{st} D{sd} H{sh}, float64",
                    _pair("lstm", [xs_, h0, h0.copy(), w_ih, w_hh, b4]),
                    torch and torch_recurrent(torch.nn.LSTM, (w_ih, w_hh, b4), True), 1.2))
    w_xh, w_hh1, b1 = w_ih[:sh], w_hh[:sh], b4[:sh]
    t_rnn = torch and torch_recurrent(torch.nn.RNN, (w_xh, w_hh1, b1), False)
    out.append(Case(f"rnn N{sn} T{st} D{sd} H{sh}, float64",
                    _pair("rnn", [xs_, h0, w_xh, w_hh1, b1]), t_rnn, None))

    xb, g, be = rng.standard_normal((n, d)), rng.uniform(0.5, 2, d), rng.standard_normal(d)
    bn = F and (lambda a, w, bb: F.batch_norm(a, None, None, w, bb, training=True, eps=1e-5))
    out.append(_case(f"batchnorm {n}x{d}, float64", "batchnorm", [xb, g, be], {}, bn, 3.5))
    xi = rng.standard_normal((8, 16, 8, 8) if quick else (32, 16, 32, 32))
    gi, bi = rng.uniform(0.5, 2, 16), rng.standard_normal(16)
    shape = "x".join(map(str, xi.shape))
    out.append(_case(f"batchnorm {shape}, float64", "batchnorm", [xi, gi, bi], {}, bn, None))
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
    header = f"{'case':<44}{'handgrad ms':>12}{'torch ms':>10}{'ratio':>8}{'target':>8}  result"
    print(header)
    print("-" * len(header))
    missed = 0
    for case in cases(args.quick):
        th = best_time(case.handgrad, args.repeat, args.number) * 1e3
        if case.torch is None:
            print(f"{case.name:<44}{th:>12.3f}")
            continue
        tt = best_time(case.torch, args.repeat, args.number) * 1e3
        ratio = th / tt
        verdict, target = "", ""
        if case.target is not None:
            target = f"{case.target:.1f}"
            verdict = "ok" if ratio <= case.target else "MISSED"
            missed += verdict == "MISSED"
        print(f"{case.name:<44}{th:>12.3f}{tt:>10.3f}{ratio:>8.2f}{target:>8}  {verdict}")
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
