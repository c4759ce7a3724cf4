"""Numeric gradients and the checks that prove a hand-written backward right.

Every backward in the book is verified with the tools of this module (the gradient-checking
chapter derives them):

* :func:`numeric_gradient` -- central differences of a scalar function, one input element at a time;
* :func:`numeric_jacobian` -- the full Jacobian of an array function, for small inputs;
* :func:`complex_step_gradient` / :func:`complex_step_jacobian` -- the complex-step derivative,
  free of subtractive cancellation;
* :func:`directional_derivative` and :func:`adjoint_test` -- one directional derivative compared
  with the backward's answer, for inputs too large for a full numeric gradient;
* :func:`relative_error` -- the error measure used throughout;
* :func:`check_op` -- one entry point that checks a ``<name>_forward`` / ``<name>_backward`` pair
  over every differentiable input and returns a :class:`GradcheckReport`.

All numeric derivatives are taken in float64.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

__all__ = [
    "DEFAULT_TOL",
    "GradcheckError",
    "GradcheckReport",
    "GradcheckRow",
    "adjoint_test",
    "check_op",
    "complex_step_gradient",
    "complex_step_jacobian",
    "directional_derivative",
    "numeric_gradient",
    "numeric_jacobian",
    "relative_error",
]

#: Default tolerance on the relative error of a smooth function checked in float64.
DEFAULT_TOL = 1e-7

#: Floor of the denominator of :func:`relative_error`, so that two zero gradients agree.
TINY = 1e-30


class GradcheckError(AssertionError):
    """Raised by :meth:`GradcheckReport.raise_if_failed` when a gradient check fails."""


def _as_float64(x, name="x"):
    arr = np.asarray(x)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"gradcheck: argument {name} must be a real array, got dtype {arr.dtype}")
    return np.array(arr, dtype=np.float64, copy=True, order="C")


def relative_error(analytic, numeric, floor=TINY):
    r"""Relative error between two arrays, taken over the whole array.

    .. math::

        \mathrm{err}(a, n) = \frac{\lVert a - n \rVert}{\max(\lVert a \rVert, \lVert n \rVert, \text{floor})}

    with the Euclidean (Frobenius) norm over all elements. The error is 0 when both arrays are
    zero, at most 2 when they differ, and exactly 1 when one of them is zero and the other is not.
    It is symmetric and does not depend on the scale of the gradient.

    Parameters
    ----------
    analytic, numeric : array_like, same shape
        The gradient from the backward and its numeric estimate.
    floor : float
        Smallest denominator: two gradients both below it in norm count as equal.

    Returns
    -------
    float
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(
            f"relative_error: analytic has shape {a.shape} but numeric has shape {n.shape}"
        )
    num = np.linalg.norm((a - n).ravel())
    den = max(np.linalg.norm(a.ravel()), np.linalg.norm(n.ravel()), floor)
    return float(num / den)


def numeric_gradient(f: Callable[[np.ndarray], float], x, eps: float = 1e-6) -> np.ndarray:
    r"""Gradient of a scalar function by central differences.

    ``g[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every element ``i`` of ``x``; the
    truncation error is :math:`O(\varepsilon^2)`, the round-off error :math:`O(u/\varepsilon)`.

    Parameters
    ----------
    f : callable
        Takes an array of the shape of ``x`` and returns a scalar.
    x : array_like, any shape
        The point; it is copied to float64 and never modified.
    eps : float
        The step.

    Returns
    -------
    ndarray, shape of ``x``, float64
    """
    x = _as_float64(x)
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + eps
        fp = float(np.real(f(x)))
        flat_x[i] = old - eps
        fm = float(np.real(f(x)))
        flat_x[i] = old
        flat_g[i] = (fp - fm) / (2.0 * eps)
    return grad


def numeric_jacobian(f: Callable[[np.ndarray], np.ndarray], x, eps: float = 1e-6) -> np.ndarray:
    r"""Full Jacobian of an array function by central differences.

    The layout is the book's (numerator layout on the flattened arrays):
    ``J[i, j] = d f(x).ravel()[i] / d x.ravel()[j]``, so a function from :math:`\mathbb{R}^n` to
    :math:`\mathbb{R}^m` has an ``(m, n)`` Jacobian. Arrays are flattened in C (row-major) order.

    Parameters
    ----------
    f : callable
        Takes an array of the shape of ``x`` and returns an array of any shape (``m`` elements).
    x : array_like, any shape (``n`` elements)
    eps : float

    Returns
    -------
    ndarray, shape (m, n), float64
    """
    x = _as_float64(x)
    flat_x = x.reshape(-1)
    columns = []
    for j in range(flat_x.size):
        old = flat_x[j]
        flat_x[j] = old + eps
        fp = np.array(f(x), dtype=np.float64).ravel()
        flat_x[j] = old - eps
        fm = np.array(f(x), dtype=np.float64).ravel()
        flat_x[j] = old
        columns.append((fp - fm) / (2.0 * eps))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def complex_step_gradient(f: Callable[[np.ndarray], complex], x, h: float = 1e-20) -> np.ndarray:
    r"""Gradient of a real-analytic scalar function by the complex step.

    ``g[i] = Im f(x + i h e_i) / h``. There is no subtraction, so no cancellation: ``h`` can be
    tiny and the result is exact to machine precision. ``f`` must accept complex input and be
    analytic (no ``abs``, ``max``, comparisons or ``np.real`` on the way).

    Parameters
    ----------
    f : callable
        Takes a complex array of the shape of ``x`` and returns a (complex) scalar.
    x : array_like, any shape, real
    h : float
        The imaginary step.

    Returns
    -------
    ndarray, shape of ``x``, float64
    """
    x = _as_float64(x).astype(np.complex128)
    grad = np.zeros(x.shape, dtype=np.float64)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + 1j * h
        flat_g[i] = np.imag(f(x)) / h
        flat_x[i] = old
    return grad


def complex_step_jacobian(f: Callable[[np.ndarray], np.ndarray], x, h: float = 1e-20) -> np.ndarray:
    """Full Jacobian of a real-analytic array function by the complex step.

    Same layout as :func:`numeric_jacobian`: ``(m, n)`` for ``m`` outputs and ``n`` inputs.

    Parameters
    ----------
    f : callable
        Takes a complex array of the shape of ``x``, returns a complex array (``m`` elements).
    x : array_like, any shape (``n`` elements), real
    h : float

    Returns
    -------
    ndarray, shape (m, n), float64
    """
    x = _as_float64(x).astype(np.complex128)
    flat_x = x.reshape(-1)
    columns = []
    for j in range(flat_x.size):
        old = flat_x[j]
        flat_x[j] = old + 1j * h
        columns.append(np.imag(np.asarray(f(x)).ravel()) / h)
        flat_x[j] = old
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def directional_derivative(f: Callable[[np.ndarray], np.ndarray], x, u, eps: float = 1e-6):
    r"""Central-difference derivative of ``f`` at ``x`` along the direction ``u``.

    Returns ``(f(x + eps u) - f(x - eps u)) / (2 eps)``, an estimate of the Jacobian-vector product
    :math:`J u` with the shape of ``f(x)``: two evaluations of ``f`` whatever the size of ``x``.

    Parameters
    ----------
    f : callable
        Takes an array of the shape of ``x``.
    x, u : array_like, same shape
    eps : float

    Returns
    -------
    ndarray, shape of ``f(x)``, float64
    """
    x = _as_float64(x)
    u = _as_float64(u, "u")
    if u.shape != x.shape:
        raise ValueError(f"directional_derivative: u has shape {u.shape}, x has shape {x.shape}")
    fp = np.array(f(x + eps * u), dtype=np.float64)
    fm = np.array(f(x - eps * u), dtype=np.float64)
    return (fp - fm) / (2.0 * eps)


def adjoint_test(f, vjp, x, g, u, eps: float = 1e-6):
    r"""The directional (adjoint, dot-product) test of a vector-Jacobian product.

    Compares :math:`\langle g, (f(x + \varepsilon u) - f(x - \varepsilon u)) / 2\varepsilon \rangle`
    (numeric, two forward passes) with :math:`\langle \mathrm{vjp}(g), u \rangle` (the backward).
    Both equal :math:`g^\top J u` if the backward is right.

    Parameters
    ----------
    f : callable
        The forward, a function of one array of the shape of ``x``.
    vjp : callable
        The backward: takes ``g`` (shape of ``f(x)``) and returns an array of the shape of ``x``.
    x, u : array_like, same shape
        The point and the direction.
    g : array_like, shape of ``f(x)``
        The upstream gradient.
    eps : float

    Returns
    -------
    (numeric, analytic, error) : (float, float, float)
        The two inner products and their :func:`relative_error`.
    """
    g = np.asarray(g, dtype=np.float64)
    numeric = float(np.sum(g * directional_derivative(f, x, u, eps)))
    back = np.asarray(vjp(g), dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    if back.shape != u.shape:
        raise ValueError(f"adjoint_test: vjp returned shape {back.shape}, expected {u.shape}")
    analytic = float(np.sum(back * u))
    return numeric, analytic, relative_error(analytic, numeric)


# ---------------------------------------------------------------------------------------------
# The entry point: check a forward/backward pair of the library's contract.
# ---------------------------------------------------------------------------------------------


@dataclass
class GradcheckRow:
    """The check of one input: which method, what error, against which tolerance."""

    name: str
    shape: tuple
    method: str
    error: float
    tol: float

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.error) and self.error <= self.tol)


def _fmt_err(e: float) -> str:
    return f"{e:.1e}" if np.isfinite(e) else str(e)


@dataclass
class GradcheckReport:
    """Result of :func:`check_op`: one :class:`GradcheckRow` per differentiable input.

    It is true when every row passes, prints as a small text table and renders as an HTML table
    in a notebook. ``raise_if_failed()`` turns a failure into a :class:`GradcheckError`.
    """

    op: str
    rows: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def max_error(self) -> float:
        return max((r.error for r in self.rows), default=0.0)

    def raise_if_failed(self) -> "GradcheckReport":
        if not self.passed:
            raise GradcheckError(f"gradient check failed\n{self}")
        return self

    def _cells(self):
        return [
            (r.name, "x".join(map(str, r.shape)) or "scalar", r.method, _fmt_err(r.error),
             f"{r.tol:.0e}", "pass" if r.passed else "FAIL")
            for r in self.rows
        ]

    _HEAD = ("input", "shape", "method", "rel. error", "tolerance", "result")

    def __str__(self) -> str:
        cells = [self._HEAD, *self._cells()]
        widths = [max(len(c[i]) for c in cells) for i in range(len(self._HEAD))]
        lines = [f"gradcheck {self.op}: {'passed' if self.passed else 'FAILED'}"]
        for k, c in enumerate(cells):
            lines.append("  ".join(s.ljust(w) for s, w in zip(c, widths)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in self._HEAD)
        body = "".join(
            "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>" for cells in self._cells()
        )
        status = "passed" if self.passed else "FAILED"
        return (f"<p><code>gradcheck {self.op}</code>: <b>{status}</b></p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _op_name(forward) -> str:
    name = getattr(forward, "__name__", "op")
    return name[: -len("_forward")] if name.endswith("_forward") else name


def _input_names(forward, n) -> list:
    try:
        params = [p.name for p in inspect.signature(forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"arg{i}" for i in range(n)]


def _is_differentiable(a) -> bool:
    return isinstance(a, (np.ndarray, float)) and np.issubdtype(np.asarray(a).dtype, np.floating)


def check_op(
    forward: Callable,
    backward: Callable,
    inputs: Sequence,
    kwargs: dict | None = None,
    *,
    method: str = "auto",
    tol: float = DEFAULT_TOL,
    eps: float = 1e-6,
    max_full: int = 512,
    directions: int = 3,
    seed: int = 0,
) -> GradcheckReport:
    r"""Check a ``<name>_forward`` / ``<name>_backward`` pair over every differentiable input.

    The forward is called as ``out, cache = forward(*inputs, **kwargs)`` and the backward as
    ``backward(g, cache)`` with a random upstream gradient ``g`` of the shape of ``out``. The
    backward's result (one array, or a tuple) is matched in order with the floating-point arrays
    among ``inputs``; integer arrays (class targets) and non-array options are held fixed. A loss
    whose backward returns one array is thus checked for its first input only. A forward with
    several outputs returns them as a tuple (an LSTM step's ``(h, c)``); its backward then gets a
    tuple of random upstream gradients, one per output, and :math:`\phi` sums their inner
    products.

    For each checked input ``x`` the scalar :math:`\phi(x) = \langle g, f(x) \rangle` is
    differentiated numerically and compared with the backward's gradient:

    * ``"full"``: the numeric gradient of :math:`\phi` element by element (central differences);
    * ``"directional"``: ``directions`` random Gaussian directions ``u`` (elements of size about
      1, so that ``eps * u`` perturbs each element as much as the full check does), each
      compared by :func:`adjoint_test`; the row's error is the :func:`relative_error` of the
      vector of the ``directions`` inner products, so one direction nearly orthogonal to the
      gradient by chance cannot fail the check; cost independent of the size of ``x``;
    * ``"complex"``: the complex-step gradient of :math:`\phi` (the forward must be analytic and
      accept complex arrays);
    * ``"auto"``: ``"full"`` when ``x`` has at most ``max_full`` elements, else ``"directional"``.

    Parameters
    ----------
    forward, backward : callable
        The pair, following the library's contract.
    inputs : sequence
        Positional inputs of the forward. Floating arrays are copied to float64.
    kwargs : dict, optional
        Keyword options of the forward (stride, padding, reduction, ...).
    method : {"auto", "full", "directional", "complex"}
    tol : float
        Largest relative error that passes.
    eps : float
        Step of the central differences.
    max_full : int
        Size limit of the full numeric gradient under ``"auto"``.
    directions : int
        Number of random directions under ``"directional"``.
    seed : int
        Seed of the random upstream gradient and directions.

    Returns
    -------
    GradcheckReport
    """
    if method not in ("auto", "full", "directional", "complex"):
        raise ValueError(f"check_op: unknown method {method!r}")
    kwargs = dict(kwargs or {})
    rng = np.random.default_rng(seed)
    inputs = [(_as_float64(a) if _is_differentiable(a) else a) for a in inputs]
    names = _input_names(forward, len(inputs))
    diff_idx = [i for i, a in enumerate(inputs) if _is_differentiable(a)]

    out, cache = forward(*inputs, **kwargs)
    multi = isinstance(out, tuple)  # several outputs, e.g. an LSTM step's (h, c)
    outs = tuple(np.asarray(o) for o in out) if multi else (np.asarray(out),)
    gs = tuple(rng.standard_normal(o.shape) for o in outs)
    g_flat = np.concatenate([gk.ravel() for gk in gs])
    grads = backward(gs if multi else gs[0], cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) > len(diff_idx):
        raise ValueError(
            f"check_op: {_op_name(forward)}_backward returned {len(grads)} gradients "
            f"but the forward has {len(diff_idx)} floating-point inputs"
        )

    report = GradcheckReport(op=_op_name(forward))
    for k, i in enumerate(diff_idx[: len(grads)]):
        x = inputs[i]
        grad = np.asarray(grads[k], dtype=np.float64)
        if grad.shape != np.shape(x):
            raise ValueError(
                f"check_op: gradient of {names[i]} has shape {grad.shape}, "
                f"input has shape {np.shape(x)}"
            )

        def f_of(xi, i=i):  # every output, flattened into one vector
            args = list(inputs)
            args[i] = xi
            res = forward(*args, **kwargs)[0]
            res = res if multi else (res,)
            return np.concatenate([np.ravel(r) for r in res])

        def phi(xi):
            return np.sum(g_flat * f_of(xi))

        m = method
        if m == "auto":
            m = "full" if np.size(x) <= max_full else "directional"
        if m == "full":
            err = relative_error(grad, numeric_gradient(phi, x, eps))
        elif m == "complex":
            err = relative_error(grad, complex_step_gradient(phi, x))
        else:
            numeric, analytic = [], []
            for _ in range(directions):
                u = rng.standard_normal(np.shape(x))
                n_val, a_val, _ = adjoint_test(f_of, lambda _g, gr=grad: gr, x, g_flat, u, eps)
                numeric.append(n_val)
                analytic.append(a_val)
            err = relative_error(analytic, numeric)
        report.rows.append(GradcheckRow(names[i], tuple(np.shape(x)), m, err, tol))
    return report
