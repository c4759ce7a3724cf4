r"""Bilinear forms and the bilinear layer (chapter 14), from one sample to a batch.

A bilinear form multiplies two vectors through a matrix, :math:`z = x^\T A y`. It is linear in
``x`` for a fixed ``y`` and linear in ``y`` for a fixed ``x``, so each gradient is the gradient of a
linear map: :math:`\partial z/\partial x = A y`, :math:`\partial z/\partial y = A^\T x`,
:math:`\partial z/\partial A = x y^\T`. Every function below is this form applied to more vectors
at once:

========================  ==========================  ===================================  ======
function                  inputs                      output                               notes
========================  ==========================  ===================================  ======
``bilinear_form``         x (D1,), y (D2,), A         z = x^T A y, a scalar                 §5
``bilinear_pairs``        X (N1, D1), Y (N2, D2), A   Z[n, k] = X[n] A Y[k], all pairs      §6
``bilinear_rows``         X (N, D1), Y (N, D2), A     z[n] = X[n] A Y[n], row by row        §8
``bilinear`` (the op)     x1 (N, D1), x2 (N, D2),     y[n, m] = x1[n] A[m] x2[n] + b[m]     §10-12
                          A (M, D1, D2), b (M,)
========================  ==========================  ===================================  ======

The op ``bilinear`` is ``torch.nn.functional.bilinear``.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_dout_shape, check_ndim

__all__ = ["bilinear_form_forward", "bilinear_form_backward", "bilinear_pairs_forward",
           "bilinear_pairs_backward", "bilinear_rows_forward", "bilinear_rows_backward",
           "bilinear_forward", "bilinear_backward"]


def _inputs(op, x, y, A, x_layout, y_layout, x_ndim):
    """Validate the two vectors (or batches) and the matrix of a bilinear form."""
    x = as_float_array(x, op, "x")
    y = as_float_array(y, op, "y")
    A = as_float_array(A, op, "A")
    check_ndim(x, x_ndim, op, "x", x_layout)
    check_ndim(y, x_ndim, op, "y", y_layout)
    check_ndim(A, 2, op, "A", "(D1, D2)")
    if A.shape != (x.shape[-1], y.shape[-1]):
        raise ValueError(f"{op}: A must have shape (D1, D2) = ({x.shape[-1]}, {y.shape[-1]}) to "
                         f"match x {x.shape} and y {y.shape}, got shape {A.shape}")
    return x, y, A


def bilinear_form_forward(x, y, A):
    r"""The bilinear form :math:`z = x^\T A y` of two vectors (section 5 of the notes).

    Parameters
    ----------
    x : ndarray, shape (D1,)
    y : ndarray, shape (D2,)
    A : ndarray, shape (D1, D2)

    Returns
    -------
    z : scalar
    cache : tuple
        ``(x, y, A)``.
    """
    x, y, A = _inputs("bilinear_form", x, y, A, "(D1,)", "(D2,)", 1)
    return x @ A @ y, (x, y, A)


def bilinear_form_backward(dz, cache):
    r"""Gradients of :math:`z = x^\T A y`: ``dx = dz A y``, ``dy = dz A^T x``,
    ``dA = dz x y^T``.

    Parameters
    ----------
    dz : scalar
    cache : from :func:`bilinear_form_forward`

    Returns
    -------
    dx : ndarray, shape (D1,)
    dy : ndarray, shape (D2,)
    dA : ndarray, shape (D1, D2)
    """
    x, y, A = cache
    dz = check_dout_shape(dz, (), "bilinear_form").astype(x.dtype)
    return dz * (A @ y), dz * (A.T @ x), dz * np.outer(x, y)


def bilinear_pairs_forward(X, Y, A):
    r"""The form of every row of ``X`` with every row of ``Y``: :math:`Z = X A Y^\T`
    (section 6 of the notes, whose vectors are columns: there :math:`Z = X^\T A Y`).

    Parameters
    ----------
    X : ndarray, shape (N1, D1)
    Y : ndarray, shape (N2, D2)
    A : ndarray, shape (D1, D2)

    Returns
    -------
    Z : ndarray, shape (N1, N2)
        ``Z[n, k] = X[n] @ A @ Y[k]``.
    cache : tuple
        ``(X, Y, A)``.
    """
    X, Y, A = _inputs("bilinear_pairs", X, Y, A, "(N1, D1)", "(N2, D2)", 2)
    return X @ A @ Y.T, (X, Y, A)


def bilinear_pairs_backward(dZ, cache):
    r"""Gradients of :math:`Z = X A Y^\T`, the product of three matrices:
    ``dX = dZ Y A^T``, ``dY = dZ^T X A``, ``dA = X^T dZ Y``.

    Parameters
    ----------
    dZ : ndarray, shape (N1, N2)
    cache : from :func:`bilinear_pairs_forward`

    Returns
    -------
    dX : ndarray, shape (N1, D1)
    dY : ndarray, shape (N2, D2)
    dA : ndarray, shape (D1, D2)
    """
    X, Y, A = cache
    dZ = check_dout_shape(dZ, (X.shape[0], Y.shape[0]), "bilinear_pairs")
    return dZ @ Y @ A.T, dZ.T @ X @ A, X.T @ dZ @ Y


def bilinear_rows_forward(X, Y, A):
    r"""The form of each row of ``X`` with the same row of ``Y``: :math:`z_n = x_n^\T A y_n`
    (section 8 of the notes), the diagonal of :func:`bilinear_pairs_forward`.

    Computed as ``((X @ A) * Y).sum(axis=1)``: one matrix product and rowwise inner products,
    never the N x N matrix of all pairs.

    Parameters
    ----------
    X : ndarray, shape (N, D1)
    Y : ndarray, shape (N, D2)
    A : ndarray, shape (D1, D2)

    Returns
    -------
    z : ndarray, shape (N,)
    cache : tuple
        ``(X, Y, A, X @ A)``.
    """
    op = "bilinear_rows"
    X, Y, A = _inputs(op, X, Y, A, "(N, D1)", "(N, D2)", 2)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"{op}: Y must have as many rows as X {X.shape}, got shape {Y.shape}")
    XA = X @ A
    return (XA * Y).sum(axis=1), (X, Y, A, XA)


def bilinear_rows_backward(dz, cache):
    r"""Gradients of :math:`z_n = x_n^\T A y_n`: row ``n`` of ``dX`` is ``dz[n] A y_n``, row ``n``
    of ``dY`` is ``dz[n] A^T x_n``, and ``dA`` sums ``dz[n] x_n y_n^T`` over the rows:
    ``dX = diag(dz) Y A^T``, ``dY = diag(dz) X A``, ``dA = X^T diag(dz) Y``.

    Parameters
    ----------
    dz : ndarray, shape (N,)
    cache : from :func:`bilinear_rows_forward`

    Returns
    -------
    dX : ndarray, shape (N, D1)
    dY : ndarray, shape (N, D2)
    dA : ndarray, shape (D1, D2)
    """
    X, Y, A, XA = cache
    dz = check_dout_shape(dz, (X.shape[0],), "bilinear_rows")[:, None]
    return dz * (Y @ A.T), dz * XA, X.T @ (dz * Y)


def bilinear_forward(x1, x2, A, b):
    r"""The bilinear layer :math:`y_{nm} = x_{1,n}^\T A_m x_{2,n} + b_m`, as
    ``torch.nn.functional.bilinear`` (section 12 of the notes).

    Each output feature ``m`` is a bilinear form of the two inputs with its own matrix ``A[m]``.
    The forward computes ``U[n, m] = x1[n] @ A[m]`` for all ``m`` with one matrix product, then
    the rowwise inner products with ``x2[n]``.

    Parameters
    ----------
    x1 : ndarray, shape (N, D1)
    x2 : ndarray, shape (N, D2)
    A : ndarray, shape (M, D1, D2)
        One matrix per output feature.
    b : ndarray, shape (M,)

    Returns
    -------
    y : ndarray, shape (N, M)
    cache : tuple
        ``(x1, x2, A, U)`` with ``U`` (N, M, D2).
    """
    op = "bilinear"
    x1 = as_float_array(x1, op, "x1")
    x2 = as_float_array(x2, op, "x2")
    A = as_float_array(A, op, "A")
    b = as_float_array(b, op, "b")
    check_ndim(x1, 2, op, "x1", "(N, D1)")
    check_ndim(x2, 2, op, "x2", "(N, D2)")
    check_ndim(A, 3, op, "A", "(M, D1, D2)")
    (n, d1), d2 = x1.shape, x2.shape[1]
    if x2.shape[0] != n:
        raise ValueError(f"{op}: x2 must have shape (N, D2) with N = {n} to match x1 {x1.shape}, "
                         f"got shape {x2.shape}")
    if A.shape[1:] != (d1, d2):
        raise ValueError(f"{op}: A must have shape (M, D1, D2) with (D1, D2) = ({d1}, {d2}) to "
                         f"match x1 {x1.shape} and x2 {x2.shape}, got shape {A.shape}")
    m = A.shape[0]
    if b.shape != (m,):
        raise ValueError(f"{op}: b must have shape (M,) = ({m},) to match A {A.shape}, got shape "
                         f"{b.shape}")
    # U[n, m, j] = sum_i x1[n, i] A[m, i, j]: A laid out as a (D1, M * D2) matrix.
    U = (x1 @ A.transpose(1, 0, 2).reshape(d1, m * d2)).reshape(n, m, d2)
    y = np.matmul(U, x2[:, :, None])[:, :, 0] + b
    return y, (x1, x2, A, U)


def bilinear_backward(dy, cache):
    r"""Gradients of the bilinear layer, for the upstream gradient ``G = dy`` (N, M):

    .. math::

        \partial L/\partial x_{1,n} = \textstyle\sum_m G_{nm} A_m x_{2,n}, \qquad
        \partial L/\partial x_{2,n} = \textstyle\sum_m G_{nm} A_m^\T x_{1,n},

        \partial L/\partial A_m = \textstyle\sum_n G_{nm} x_{1,n} x_{2,n}^\T, \qquad
        \partial L/\partial b_m = \textstyle\sum_n G_{nm}.

    Each is a sum over the output features of section 5's gradients, weighted by ``G``; ``dA[m]``
    is ``x1^T diag(G[:, m]) x2``, section 8's ``dA`` for output ``m``.

    Parameters
    ----------
    dy : ndarray, shape (N, M)
    cache : from :func:`bilinear_forward`

    Returns
    -------
    dx1 : ndarray, shape (N, D1)
    dx2 : ndarray, shape (N, D2)
    dA : ndarray, shape (M, D1, D2)
    db : ndarray, shape (M,)
    """
    x1, x2, A, U = cache
    (n, d1), (m, _, d2) = x1.shape, A.shape
    G = check_dout_shape(dy, (n, m), "bilinear").astype(x1.dtype, copy=False)
    # V[n, m, i] = sum_j A[m, i, j] x2[n, j]: A laid out as a (M * D1, D2) matrix.
    V = (x2 @ A.reshape(m * d1, d2).T).reshape(n, m, d1)
    dx1 = np.matmul(G[:, None, :], V)[:, 0, :]
    dx2 = np.matmul(G[:, None, :], U)[:, 0, :]
    dA = ((G[:, :, None] * x1[:, None, :]).reshape(n, m * d1).T @ x2).reshape(m, d1, d2)
    return dx1, dx2, dA, G.sum(axis=0)
