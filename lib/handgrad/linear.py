r"""The linear (fully connected) layer in the batch-first layout: ``y = x @ W.T + b``.

With rows as samples, :math:`Y = X W^\T + \one b^\T` for ``X`` (N, D), ``W`` (M, D), ``b`` (M,).
Its gradients are :math:`\partial L/\partial X = G W`, :math:`\partial L/\partial W = G^\T X` and
:math:`\partial L/\partial b = G^\T \one` for the upstream gradient ``G`` (N, M): the column-vector
formulas :math:`W^\T g`, :math:`g x^\T`, :math:`g` transposed and summed over the batch.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_dout_shape, check_ndim

__all__ = ["linear_forward", "linear_backward"]


def linear_forward(x, W, b):
    """Affine map ``y = x @ W.T + b``, as ``torch.nn.functional.linear``.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        A batch of N row vectors.
    W : ndarray, shape (M, D)
        Weights, one row per output feature.
    b : ndarray, shape (M,)
        Bias.

    Returns
    -------
    y : ndarray, shape (N, M)
    cache : tuple
        ``(x, W)``.
    """
    op = "linear"
    x = as_float_array(x, op, "x")
    W = as_float_array(W, op, "W")
    b = as_float_array(b, op, "b")
    check_ndim(x, 2, op, "x", "(N, D)")
    check_ndim(W, 2, op, "W", "(M, D)")
    if W.shape[1] != x.shape[1]:
        raise ValueError(f"{op}: W must have shape (M, D) with D = {x.shape[1]} to match x "
                         f"{x.shape}, got shape {W.shape}")
    if b.shape != (W.shape[0],):
        raise ValueError(f"{op}: b must have shape (M,) = ({W.shape[0]},) to match W {W.shape}, "
                         f"got shape {b.shape}")
    return x @ W.T + b, (x, W)


def linear_backward(dy, cache):
    """Gradients of ``y = x @ W.T + b``: ``dx = dy @ W``, ``dW = dy.T @ x``, ``db = dy.sum(0)``.

    Parameters
    ----------
    dy : ndarray, shape (N, M)
    cache : from :func:`linear_forward`

    Returns
    -------
    dx : ndarray, shape (N, D)
    dW : ndarray, shape (M, D)
    db : ndarray, shape (M,)
    """
    x, W = cache
    dy = check_dout_shape(dy, (x.shape[0], W.shape[0]), "linear")
    return dy @ W, dy.T @ x, dy.sum(axis=0)
