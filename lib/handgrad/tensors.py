r"""Tensors and contractions (chapter 8): the inner product, products over multi-indices, and a
fully connected layer whose input and output are tensors rather than vectors.

A *contraction* of ``k`` axes multiplies two tensors and sums over ``k`` axes they share:

.. math::

    Y[\mathbf i, \mathbf j] = \sum_{\mathbf p} W[\mathbf i, \mathbf p]\, X[\mathbf p, \mathbf j],

where :math:`\mathbf i, \mathbf p, \mathbf j` are multi-indices (tuples of indices). With one
index each this is the matrix product; it is ``np.tensordot(W, X, axes=k)``. Flattening each
multi-index into one index (C order) turns every contraction into a matrix product, which is why
the gradients have the matrix product's form: :math:`\partial L/\partial W = G \cdot X^\T`,
:math:`\partial L/\partial X = W^\T \cdot G`, with the transposes and products read over
multi-indices.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_dout_shape

__all__ = ["inner", "contract_forward", "contract_backward", "tensor_dense_forward",
           "tensor_dense_backward"]


def inner(A, B):
    r"""Inner product of two tensors of the same shape: :math:`\sum_{\mathbf i} A[\mathbf i]
    B[\mathbf i]` (the Frobenius inner product for matrices).

    Parameters
    ----------
    A, B : ndarray, the same shape (any number of axes)

    Returns
    -------
    scalar
    """
    A = as_float_array(A, "inner", "A")
    B = as_float_array(B, "inner", "B")
    if A.shape != B.shape:
        raise ValueError(f"inner: B must have the shape of A {A.shape}, got shape {B.shape}")
    return np.tensordot(A, B, axes=A.ndim)[()]


def contract_forward(W, X, k):
    r"""The product of ``W`` and ``X`` over ``k`` shared axes: ``np.tensordot(W, X, axes=k)``.

    :math:`Y[\mathbf i, \mathbf j] = \langle W[\mathbf i, :], X[:, \mathbf j] \rangle`, the
    inner product of a slice of ``W`` with a slice of ``X``.

    Parameters
    ----------
    W : ndarray, shape I + P
        ``P``, the last ``k`` axes, are summed over.
    X : ndarray, shape P + J
        Its first ``k`` axes must equal ``W``'s last ``k``.
    k : int, >= 0

    Returns
    -------
    Y : ndarray, shape I + J
    cache : tuple
        ``(W, X, k)``.
    """
    op = "contract"
    W = as_float_array(W, op, "W")
    X = as_float_array(X, op, "X")
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= min(W.ndim, X.ndim):
        raise ValueError(f"{op}: k must be an int between 0 and min(W.ndim, X.ndim) = "
                         f"{min(W.ndim, X.ndim)}, got {k!r}")
    shared = W.shape[W.ndim - k:]
    if X.shape[:k] != shared:
        raise ValueError(f"{op}: X must start with the last {k} axes of W {shared}, got shape "
                         f"{X.shape}")
    return np.tensordot(W, X, axes=k), (W, X, k)


def contract_backward(dY, cache):
    r"""Gradients of :func:`contract_forward`, as contractions themselves.

    :math:`\partial L/\partial W[\mathbf i, \mathbf p] = \sum_{\mathbf j} G[\mathbf i, \mathbf j]
    X[\mathbf p, \mathbf j]` (``G`` times ``X`` transposed, over ``J``) and
    :math:`\partial L/\partial X[\mathbf p, \mathbf j] = \sum_{\mathbf i} W[\mathbf i, \mathbf p]
    G[\mathbf i, \mathbf j]` (``W`` transposed times ``G``, over ``I``).

    Parameters
    ----------
    dY : ndarray, shape I + J
    cache : from :func:`contract_forward`

    Returns
    -------
    dW : ndarray, shape I + P
    dX : ndarray, shape P + J
    """
    W, X, k = cache
    ni, nj = W.ndim - k, X.ndim - k
    dY = check_dout_shape(dY, W.shape[:ni] + X.shape[k:], "contract")
    dW = np.tensordot(dY, X, axes=(list(range(ni, ni + nj)), list(range(k, k + nj))))
    dX = np.tensordot(W, dY, axes=(list(range(ni)), list(range(ni))))
    return dW, dX


def tensor_dense_forward(x, W, b):
    r"""A fully connected layer from tensors to tensors, batch first.

    Each sample ``x[n]`` of shape ``S_in`` gives ``y[n] = W · x[n] + b`` of shape ``S_out``, with
    :math:`y[n, \mathbf i] = \sum_{\mathbf j} W[\mathbf i, \mathbf j]\, x[n, \mathbf j] +
    b[\mathbf i]` (problem 43 of the notes, with a batch axis in front). Flattening
    ``S_in`` and ``S_out`` gives :func:`handgrad.ops.linear_forward` exactly.

    Parameters
    ----------
    x : ndarray, shape (N,) + S_in
    W : ndarray, shape S_out + S_in
    b : ndarray, shape S_out

    Returns
    -------
    y : ndarray, shape (N,) + S_out
    cache : tuple
        ``(x, W)``.
    """
    op = "tensor_dense"
    x = as_float_array(x, op, "x")
    W = as_float_array(W, op, "W")
    b = as_float_array(b, op, "b")
    if x.ndim < 1:
        raise ValueError(f"{op}: x must have shape (N,) + S_in, got shape {x.shape}")
    s_in = x.shape[1:]
    k = len(s_in)
    if W.ndim < k or W.shape[W.ndim - k:] != s_in:
        raise ValueError(f"{op}: W must have shape S_out + S_in with S_in = {s_in} from x "
                         f"{x.shape}, got shape {W.shape}")
    s_out = W.shape[:W.ndim - k]
    if b.shape != s_out:
        raise ValueError(f"{op}: b must have shape S_out = {s_out} to match W {W.shape}, got "
                         f"shape {b.shape}")
    # Sum over the k input axes: axes 1..k of x against the last k axes of W.
    y = np.tensordot(x, W, axes=(list(range(1, k + 1)), list(range(len(s_out), W.ndim))))
    return y + b, (x, W)


def tensor_dense_backward(dy, cache):
    r"""Gradients of :func:`tensor_dense_forward`.

    :math:`\partial L/\partial x[n, \mathbf j] = \sum_{\mathbf i} G[n, \mathbf i]
    W[\mathbf i, \mathbf j]`, :math:`\partial L/\partial W[\mathbf i, \mathbf j] = \sum_n
    G[n, \mathbf i]\, x[n, \mathbf j]` (an outer product summed over the batch) and
    :math:`\partial L/\partial b = \sum_n G[n]`.

    Parameters
    ----------
    dy : ndarray, shape (N,) + S_out
    cache : from :func:`tensor_dense_forward`

    Returns
    -------
    dx : ndarray, shape (N,) + S_in
    dW : ndarray, shape S_out + S_in
    db : ndarray, shape S_out
    """
    x, W = cache
    k = x.ndim - 1
    m = W.ndim - k
    dy = check_dout_shape(dy, (x.shape[0],) + W.shape[:m], "tensor_dense")
    out_axes = list(range(1, m + 1))
    dx = np.tensordot(dy, W, axes=(out_axes, list(range(m))))
    dW = np.tensordot(dy, x, axes=([0], [0]))
    return dx, dW, dy.sum(axis=0)
