r"""Softmax, log-softmax and the losses: cross-entropy, binary cross-entropy with logits, MSE.

All are written in their numerically stable forms: softmax subtracts the maximum before the
exponential, log-softmax and cross-entropy use log-sum-exp, and binary cross-entropy is computed
from the logits as :math:`\max(x, 0) - x t + \log(1 + e^{-|x|})`. None of them overflows, returns
NaN or warns for logits of magnitude 1e3 and beyond.

A loss returns a scalar (a numpy scalar of the input's dtype); its backward takes the upstream
gradient ``dout`` (a scalar, 1.0 at the top of a network) and returns the gradient of the
prediction only.
"""

from __future__ import annotations

import numpy as np

from ._validate import (as_float_array, check_axis, check_dout_shape, check_ndim,
                        check_reduction, check_same_shape)

__all__ = [
    "softmax_forward", "softmax_backward",
    "log_softmax_forward", "log_softmax_backward",
    "cross_entropy_forward", "cross_entropy_backward",
    "bce_with_logits_forward", "bce_with_logits_backward", "bce_elementwise",
    "mse_forward", "mse_backward",
]


def softmax_forward(x, axis=-1):
    r"""Softmax along ``axis``: :math:`y_i = e^{x_i - m} / \sum_j e^{x_j - m}`, :math:`m = \max_j x_j`.

    Subtracting the maximum changes nothing mathematically and keeps every exponential in (0, 1].

    Parameters
    ----------
    x : ndarray, any shape
    axis : int
        The axis that sums to one (the classes).

    Returns
    -------
    y : ndarray, shape of ``x``
    cache : tuple
        ``(y, axis)``.
    """
    x = as_float_array(x, "softmax", "x")
    axis = check_axis(x, axis, "softmax")
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    y = e / e.sum(axis=axis, keepdims=True)
    return y, (y, axis)


def softmax_backward(dy, cache):
    r"""Gradient of softmax, the Jacobian :math:`\diag(y) - y y^\T` applied without building it:
    :math:`\partial L/\partial x = y \odot (\partial L/\partial y - \langle \partial L/\partial y, y \rangle)`.

    Parameters
    ----------
    dy : ndarray, shape of ``y``
    cache : from :func:`softmax_forward`

    Returns
    -------
    dx : ndarray, shape of ``x``
    """
    y, axis = cache
    dy = check_dout_shape(dy, y.shape, "softmax")
    return y * (dy - np.sum(dy * y, axis=axis, keepdims=True))


def log_softmax_forward(x, axis=-1):
    r"""Log-softmax along ``axis``: :math:`y_i = x_i - \log \sum_j e^{x_j}`, by log-sum-exp
    :math:`\log\sum_j e^{x_j} = m + \log \sum_j e^{x_j - m}`.

    Parameters
    ----------
    x : ndarray, any shape
    axis : int

    Returns
    -------
    y : ndarray, shape of ``x``, values <= 0
    cache : tuple
        ``(softmax(x), axis)``.
    """
    x = as_float_array(x, "log_softmax", "x")
    axis = check_axis(x, axis, "log_softmax")
    z = x - x.max(axis=axis, keepdims=True)
    y = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
    return y, (np.exp(y), axis)


def log_softmax_backward(dy, cache):
    r"""Gradient of log-softmax: :math:`\partial L/\partial x = \partial L/\partial y - \mathrm{softmax}(x)
    \sum_i \partial L/\partial y_i` (the Jacobian is :math:`I - \one\, \mathrm{softmax}(x)^\T`).

    Parameters
    ----------
    dy : ndarray, shape of ``y``
    cache : from :func:`log_softmax_forward`

    Returns
    -------
    dx : ndarray, shape of ``x``
    """
    p, axis = cache
    dy = check_dout_shape(dy, p.shape, "log_softmax")
    return dy - p * np.sum(dy, axis=axis, keepdims=True)


def _class_targets(logits, target, op):
    t = np.asarray(target)
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"{op}: target must hold integer class indices, got dtype {t.dtype}")
    n, c = logits.shape
    if t.shape != (n,):
        raise ValueError(f"{op}: target must have shape (N,) = ({n},) to match logits {logits.shape}, "
                         f"got shape {t.shape}")
    if n and (t.min() < 0 or t.max() >= c):
        raise ValueError(f"{op}: target values must be class indices in [0, {c - 1}] for logits "
                         f"{logits.shape}, got values in [{t.min()}, {t.max()}]")
    return t


def cross_entropy_forward(logits, target, reduction="mean"):
    r"""Cross-entropy of softmax(logits) against integer class targets.

    :math:`L = -\sum_n \log \mathrm{softmax}(x_n)_{t_n}`, divided by ``N`` when ``reduction`` is
    'mean'. Computed with log-sum-exp, never as the log of a softmax.

    Parameters
    ----------
    logits : ndarray, shape (N, C)
    target : ndarray of int, shape (N,), values in [0, C)
    reduction : {'mean', 'sum'}

    Returns
    -------
    loss : scalar, dtype of ``logits``
    cache : tuple
        ``(softmax(logits), target, scale)`` with ``scale = 1/N`` or 1.
    """
    op = "cross_entropy"
    logits = as_float_array(logits, op, "logits")
    check_ndim(logits, 2, op, "logits", "(N, C)")
    check_reduction(reduction, op)
    t = _class_targets(logits, target, op)
    n = logits.shape[0]
    if n == 0:
        raise ValueError(f"{op}: logits must hold at least one sample, got shape {logits.shape}")
    z = logits - logits.max(axis=1, keepdims=True)     # shift: every exponent <= 0
    e = np.exp(z)                                       # the one exponential of the op
    total = e.sum(axis=1)
    scale = 1.0 / n if reduction == "mean" else 1.0
    # -log softmax(x)_t = log sum_j e^{z_j} - z_t, summed over the batch
    loss = (np.log(total).sum() - z[np.arange(n), t].sum()) * scale
    p = e / total[:, None]                              # softmax, kept for the backward
    return logits.dtype.type(loss), (p, t, scale)


def cross_entropy_backward(dout, cache):
    r"""Gradient of cross-entropy with respect to the logits: :math:`(\mathrm{softmax}(x) - T)`
    times ``dout`` (and ``1/N`` for 'mean'), with ``T`` the one-hot targets.

    Parameters
    ----------
    dout : scalar
        Upstream gradient of the loss (1.0 when the loss is the objective).
    cache : from :func:`cross_entropy_forward`

    Returns
    -------
    dlogits : ndarray, shape (N, C)
    """
    p, t, scale = cache
    dout = check_dout_shape(dout, (), "cross_entropy")
    g = (dout * scale).astype(p.dtype)
    d = p * g                                 # g (softmax - onehot), without building onehot
    d[np.arange(p.shape[0]), t] -= g
    return d


def bce_elementwise(x, t):
    r"""Elementwise :math:`H_b(t, \sigma(x)) = -t \log \sigma(x) - (1 - t) \log(1 - \sigma(x))`
    from the logits ``x``, as :math:`\max(x, 0) - x t + \log(1 + e^{-|x|})`: no exponential of a
    positive number, so no overflow, and no logarithm of 0.

    Parameters
    ----------
    x, t : ndarray, shapes that broadcast

    Returns
    -------
    ndarray, the broadcast shape
    """
    return np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))


def bce_with_logits_forward(logits, target, reduction="mean"):
    r"""Binary cross-entropy of sigmoid(logits) against targets in [0, 1], from the logits.

    Elementwise :math:`\ell = -t \log \sigma(x) - (1 - t) \log(1 - \sigma(x))
    = \max(x, 0) - x t + \log(1 + e^{-|x|})`, summed, and divided by the number of elements
    when ``reduction`` is 'mean'.

    Parameters
    ----------
    logits : ndarray, any shape
    target : ndarray, shape of ``logits``, values in [0, 1]
    reduction : {'mean', 'sum'}

    Returns
    -------
    loss : scalar, dtype of ``logits``
    cache : tuple
        ``(logits, target, scale)``.
    """
    op = "bce_with_logits"
    x = as_float_array(logits, op, "logits")
    t = as_float_array(target, op, "target")
    check_same_shape(x, t, op, "logits", "target")
    check_reduction(reduction, op)
    if x.size == 0:
        raise ValueError(f"{op}: logits must not be empty, got shape {x.shape}")
    if t.min() < 0 or t.max() > 1:
        raise ValueError(f"{op}: target values must lie in [0, 1], got values in "
                         f"[{t.min()}, {t.max()}] (shape {t.shape})")
    elementwise = bce_elementwise(x, t)
    scale = 1.0 / x.size if reduction == "mean" else 1.0
    return x.dtype.type(elementwise.sum() * scale), (x, t, scale)


def bce_with_logits_backward(dout, cache):
    r"""Gradient of binary cross-entropy with respect to the logits: :math:`(\sigma(x) - t)`
    times ``dout`` (and ``1/size`` for 'mean'). Exact at ``x = 0`` (:math:`\sigma(0) = 1/2`)
    and at targets 0 and 1.

    Parameters
    ----------
    dout : scalar
    cache : from :func:`bce_with_logits_forward`

    Returns
    -------
    dlogits : ndarray, shape of ``logits``
    """
    from .activations import _stable_sigmoid

    x, t, scale = cache
    dout = check_dout_shape(dout, (), "bce_with_logits")
    return (_stable_sigmoid(x) - t) * (dout * scale).astype(x.dtype)


def mse_forward(y, target, reduction="mean"):
    r"""Squared error :math:`\sum_i (y_i - t_i)^2`, divided by the number of elements when
    ``reduction`` is 'mean' (the mean of squared differences, as ``torch.nn.functional.mse_loss``).

    Parameters
    ----------
    y : ndarray, any shape
    target : ndarray, shape of ``y``
    reduction : {'mean', 'sum'}

    Returns
    -------
    loss : scalar, dtype of ``y``
    cache : tuple
        ``(y - target, scale)``.
    """
    op = "mse"
    y = as_float_array(y, op, "y")
    t = as_float_array(target, op, "target")
    check_same_shape(y, t, op, "y", "target")
    check_reduction(reduction, op)
    if y.size == 0:
        raise ValueError(f"{op}: y must not be empty, got shape {y.shape}")
    diff = y - t
    scale = 1.0 / y.size if reduction == "mean" else 1.0
    return y.dtype.type(np.sum(diff * diff) * scale), (diff, scale)


def mse_backward(dout, cache):
    r"""Gradient of the squared error: :math:`2 (y - t)` times ``dout`` (and ``1/size`` for 'mean').

    Parameters
    ----------
    dout : scalar
    cache : from :func:`mse_forward`

    Returns
    -------
    dy : ndarray, shape of ``y``
    """
    diff, scale = cache
    dout = check_dout_shape(dout, (), "mse")
    return diff * (2.0 * dout * scale).astype(diff.dtype)
