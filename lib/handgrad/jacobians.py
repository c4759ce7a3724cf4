"""Explicit Jacobians of the small functions of chapter 2, built with numpy.

The book's layout is the numerator layout: the Jacobian of ``f`` from ``R^n`` to ``R^m`` is the
``(m, n)`` matrix with entries ``d f_i / d x_j``. When the input or the output is a matrix, the
Jacobian acts on the matrix *flattened* into a vector, and the order of flattening decides where
every entry goes:

* ``order="C"`` -- row-major, numpy's default and the order of
  ``handgrad.gradcheck.numeric_jacobian``: the rows of the matrix one after another. It is the
  column-major vec of the transpose, ``vec(X^T)``.
* ``order="F"`` -- column-major, the mathematicians' ``vec``: the columns one after another, so
  that ``vec(A X B) = (B^T kron A) vec(X)``.

Each builder states its order in its docstring; the batched ones take ``order`` as an argument.
``reorder_jacobian`` converts a row-major Jacobian (a numeric one, say) to any other order,
and ``check_jacobian`` compares a formula with a numeric Jacobian in a given order.

These Jacobians are for reading and checking: a real backward never builds one (see
``affine_vjp`` and ``linear_vjp``, which apply their transposes without forming them).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .gradcheck import (DEFAULT_TOL, GradcheckRow, complex_step_jacobian, numeric_jacobian,
                        relative_error)

__all__ = [
    "vec",
    "reorder_jacobian",
    "check_jacobian",
    "jacobian_inner_wrt_x",
    "jacobian_matvec_wrt_x",
    "jacobian_affine_wrt_x",
    "jacobian_affine_wrt_b",
    "jacobian_affine_wrt_W",
    "jacobian_elementwise",
    "jacobian_chain",
    "jacobian_product_rule",
    "jacobian_two_paths",
    "jacobian_batched_inner_wrt_X",
    "jacobian_batched_affine_wrt_X",
    "jacobian_batched_affine_wrt_W",
    "jacobian_batched_affine_wrt_b",
    "jacobian_linear_wrt_x",
    "jacobian_linear_wrt_W",
    "jacobian_linear_wrt_b",
    "vjp_from_jacobian",
    "affine_vjp",
    "linear_vjp",
]

_ORDERS = ("C", "F")


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def _array(fn, name, a, ndim=None):
    arr = np.asarray(a)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{fn}: argument {name} must be a real array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        kind = {0: "a scalar", 1: "a vector (1-d)", 2: "a matrix (2-d)"}[ndim]
        raise ValueError(f"{fn}: argument {name} must be {kind}, got shape {arr.shape}")
    return arr.astype(np.result_type(arr.dtype, np.float64)) if arr.dtype.kind == "i" else arr


def _count(fn, name, k):
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{fn}: argument {name} must be a positive integer, got {k!r}")
    return int(k)


def _kron(A, B):
    # np.kron, with the -0.0 that a negative entry times a zero makes turned into 0.0 (for printing)
    return np.kron(A, B) + 0.0


def _order(fn, order, name="order"):
    if order not in _ORDERS:
        raise ValueError(f"{fn}: argument {name} must be 'C' (row-major) or 'F' (column-major), "
                         f"got {order!r}")
    return order


# ---------------------------------------------------------------------------------------------
# Flattening and checking
# ---------------------------------------------------------------------------------------------


def vec(X, order="F"):
    """Flatten an array into a vector: column-major ``vec`` by default.

    Parameters
    ----------
    X : array_like, any shape
    order : {"F", "C"}
        ``"F"``: columns one after another (the ``vec`` of the formulas);
        ``"C"``: rows one after another (numpy's default, ``vec(X^T)`` for a matrix).

    Returns
    -------
    ndarray, shape (X.size,)
    """
    _order("vec", order)
    return np.asarray(X).reshape(-1, order=order)


def reorder_jacobian(J, out_shape, in_shape, out_order="F", in_order="F"):
    """Re-express a row-major Jacobian with its output and input flattened in other orders.

    ``J`` is in the layout of ``handgrad.gradcheck.numeric_jacobian``: entry ``(i, j)`` is the
    derivative of output element ``i`` by input element ``j``, both counted in row-major (C)
    order. The result has the same entries, with rows counted in ``out_order`` and columns in
    ``in_order``. With ``"F"`` for both it is the Jacobian of ``vec(X) -> vec(Y)``.

    Parameters
    ----------
    J : array_like, shape (prod(out_shape), prod(in_shape))
    out_shape, in_shape : tuple of int
        Shapes of the function's output and input.
    out_order, in_order : {"F", "C"}

    Returns
    -------
    ndarray, shape of ``J``
    """
    fn = "reorder_jacobian"
    J = _array(fn, "J", J, ndim=2)
    _order(fn, out_order, "out_order")
    _order(fn, in_order, "in_order")
    m, n = int(np.prod(out_shape)), int(np.prod(in_shape))
    if J.shape != (m, n):
        raise ValueError(f"{fn}: argument J must have shape ({m}, {n}) for out_shape "
                         f"{tuple(out_shape)} and in_shape {tuple(in_shape)}, got {J.shape}")
    # position k in the requested order holds the element whose row-major index is rows[k]
    rows = np.arange(m).reshape(out_shape).ravel(order=out_order)
    cols = np.arange(n).reshape(in_shape).ravel(order=in_order)
    return J[np.ix_(rows, cols)]


def check_jacobian(name: str, analytic, f: Callable, x, *, method: str = "central",
                   out_order: str = "C", in_order: str = "C",
                   tol: float = DEFAULT_TOL) -> GradcheckRow:
    """Compare an explicit Jacobian with a numeric one; a row for a ``GradcheckReport``.

    Parameters
    ----------
    name : str
        What is checked, printed in the report's first column.
    analytic : array_like, shape (f(x).size, x.size)
        The formula's Jacobian, with rows in ``out_order`` and columns in ``in_order``.
    f : callable
        The function; takes an array of the shape of ``x``.
    x : array_like, any shape
        The point.
    method : {"central", "complex"}
        Central differences (``numeric_jacobian``) or the complex step
        (``complex_step_jacobian``, for analytic ``f`` only).
    out_order, in_order : {"C", "F"}
        Flattening orders of the output and input in ``analytic``.
    tol : float
        Largest relative error that passes.

    Returns
    -------
    GradcheckRow
        ``error`` is the ``relative_error`` of the two Jacobians, ``inf`` when the analytic
        one does not even have the right shape.
    """
    fn = "check_jacobian"
    if method not in ("central", "complex"):
        raise ValueError(f"{fn}: argument method must be 'central' or 'complex', got {method!r}")
    # C-contiguous: the numeric Jacobians perturb x through a flat view, which a transposed
    # (Fortran-ordered) array would silently turn into a copy
    x = np.ascontiguousarray(x, dtype=np.float64)
    A = _array(fn, "analytic", analytic, ndim=2)
    if method == "central":
        N = numeric_jacobian(f, x)
    else:
        N = complex_step_jacobian(f, x)
    out_shape = np.shape(np.asarray(f(x)))
    N = reorder_jacobian(N, out_shape, x.shape, out_order, in_order)
    err = relative_error(A, N) if A.shape == N.shape else float("inf")
    return GradcheckRow(name, tuple(A.shape), method, err, tol)


# ---------------------------------------------------------------------------------------------
# One sample, column vectors (seed 000, problems 4-5, 7-8, 12-13, 22, 24-30)
# ---------------------------------------------------------------------------------------------


def jacobian_inner_wrt_x(a):
    """Jacobian of ``f(x) = a^T x`` by ``x``: the row ``a^T``.

    Parameters
    ----------
    a : array_like, shape (n,)

    Returns
    -------
    ndarray, shape (1, n)
    """
    a = _array("jacobian_inner_wrt_x", "a", a, ndim=1)
    return a.reshape(1, -1).copy()


def jacobian_matvec_wrt_x(A):
    """Jacobian of ``f(x) = A x`` by ``x``: ``A`` itself.

    Parameters
    ----------
    A : array_like, shape (m, n)

    Returns
    -------
    ndarray, shape (m, n)
    """
    return _array("jacobian_matvec_wrt_x", "A", A, ndim=2).copy()


def jacobian_affine_wrt_x(W):
    """Jacobian of ``y = W x + b`` by ``x``: ``W``.

    Parameters
    ----------
    W : array_like, shape (m, n)

    Returns
    -------
    ndarray, shape (m, n)
    """
    return _array("jacobian_affine_wrt_x", "W", W, ndim=2).copy()


def jacobian_affine_wrt_b(m):
    """Jacobian of ``y = W x + b`` by ``b``: the identity ``I_m``.

    Parameters
    ----------
    m : int
        Number of outputs (the length of ``b``).

    Returns
    -------
    ndarray, shape (m, m)
    """
    return np.eye(_count("jacobian_affine_wrt_b", "m", m))


def jacobian_affine_wrt_W(x, m, order="C"):
    """Jacobian of ``y = W x + b`` by the entries of ``W`` (shape ``(m, n)``).

    ``y_i = sum_k W_ik x_k``, so ``d y_i / d W_jk = delta_ij x_k``: output ``i`` depends on row
    ``i`` of ``W`` only, through ``x^T``.

    Parameters
    ----------
    x : array_like, shape (n,)
    m : int
        Number of outputs (rows of ``W``).
    order : {"C", "F"}
        Flattening of ``W``. ``"C"`` (row-major, as ``numeric_jacobian``): ``I_m kron x^T``,
        block diagonal with ``m`` copies of the row ``x^T``. ``"F"`` (column-major ``vec W``):
        ``x^T kron I_m``.

    Returns
    -------
    ndarray, shape (m, m * n)
    """
    fn = "jacobian_affine_wrt_W"
    x = _array(fn, "x", x, ndim=1)
    m = _count(fn, "m", m)
    _order(fn, order)
    row = x.reshape(1, -1)
    return _kron(np.eye(m), row) if order == "C" else _kron(row, np.eye(m))


def jacobian_elementwise(fprime_values):
    """Jacobian of an elementwise function ``y = f(x)``: ``diag(f'(x))``.

    Parameters
    ----------
    fprime_values : array_like, any shape
        The derivative ``f'`` at each element of ``x``. The Jacobian is the same in either
        flattening order as long as input and output use the same one.

    Returns
    -------
    ndarray, shape (size, size)
    """
    d = _array("jacobian_elementwise", "fprime_values", fprime_values)
    return np.diag(d.reshape(-1))


def jacobian_chain(*jacobians):
    """The chain rule: the product of Jacobians, outermost function first.

    For ``f = f_k o ... o f_1``, pass ``J_{f_k}, ..., J_{f_1}`` (each evaluated at its own input),
    as in the formula ``J_f(x) = J_{f_k}(...) ... J_{f_1}(x)``.

    Parameters
    ----------
    *jacobians : array_like, shapes (m, p), (p, q), ..., (r, n)
        At least one; the columns of each must match the rows of the next.

    Returns
    -------
    ndarray, shape (m, n)
    """
    fn = "jacobian_chain"
    if not jacobians:
        raise ValueError(f"{fn}: needs at least one Jacobian")
    mats = [_array(fn, f"jacobians[{k}]", J, ndim=2) for k, J in enumerate(jacobians)]
    out = mats[0]
    for k in range(1, len(mats)):
        if out.shape[1] != mats[k].shape[0]:
            raise ValueError(
                f"{fn}: jacobians[{k - 1}] has {mats[k - 1].shape[1]} columns (shape "
                f"{mats[k - 1].shape}) but jacobians[{k}] has shape {mats[k].shape}")
        out = out @ mats[k]
    return out


def jacobian_product_rule(f1, J1, f2, J2):
    """Jacobian of ``f(x) = f_1(x)^T f_2(x)``: ``f_1^T J_2 + f_2^T J_1``.

    Parameters
    ----------
    f1, f2 : array_like, shape (m,)
        The two factors at ``x``; an inner product needs them of the same length.
    J1, J2 : array_like, shape (m, n)
        Their Jacobians at ``x``.

    Returns
    -------
    ndarray, shape (1, n)
    """
    fn = "jacobian_product_rule"
    f1 = _array(fn, "f1", f1, ndim=1)
    f2 = _array(fn, "f2", f2, ndim=1)
    J1 = _array(fn, "J1", J1, ndim=2)
    J2 = _array(fn, "J2", J2, ndim=2)
    if f1.shape != f2.shape:
        raise ValueError(f"{fn}: f1 has shape {f1.shape} but f2 has shape {f2.shape}; "
                         "f1^T f2 needs vectors of the same length")
    for name, J in (("J1", J1), ("J2", J2)):
        if J.shape[0] != f1.shape[0]:
            raise ValueError(f"{fn}: argument {name} must have {f1.shape[0]} rows (one per "
                             f"element of f1, f2), got shape {J.shape}")
    if J1.shape != J2.shape:
        raise ValueError(f"{fn}: J1 has shape {J1.shape} but J2 has shape {J2.shape}")
    return (f1 @ J2 + f2 @ J1).reshape(1, -1)


def jacobian_two_paths(Jz_x, Jx_t, Jz_y, Jy_t):
    """The chain rule with two paths: ``z = f(x(t), y(t))`` gives ``J_z_x J_x_t + J_z_y J_y_t``.

    Parameters
    ----------
    Jz_x : array_like, shape (k, m1)
        Partial Jacobian of ``z`` by ``x`` (``y`` held fixed).
    Jx_t : array_like, shape (m1, p)
    Jz_y : array_like, shape (k, m2)
        Partial Jacobian of ``z`` by ``y`` (``x`` held fixed).
    Jy_t : array_like, shape (m2, p)

    Returns
    -------
    ndarray, shape (k, p)
    """
    fn = "jacobian_two_paths"
    a = jacobian_chain(Jz_x, Jx_t)
    b = jacobian_chain(Jz_y, Jy_t)
    if a.shape != b.shape:
        raise ValueError(f"{fn}: the path through x gives shape {a.shape}, the path through y "
                         f"gives {b.shape}; Jz_x, Jz_y need the same rows and Jx_t, Jy_t the "
                         "same columns")
    return a + b


# ---------------------------------------------------------------------------------------------
# A batch as the columns of X (n, b): problems 25, 31-33
# ---------------------------------------------------------------------------------------------


def jacobian_batched_inner_wrt_X(w, batch, order="F"):
    """Jacobian of ``y = w^T X + b 1^T`` (shape ``(1, batch)``) by ``X`` (shape ``(n, batch)``).

    ``y_j = w^T x_j + b`` depends on column ``j`` of ``X`` only.

    Parameters
    ----------
    w : array_like, shape (n,)
    batch : int
        Number of columns of ``X``.
    order : {"F", "C"}
        Flattening of ``X``. ``"F"`` (``vec X``, columns stacked): ``I_b kron w^T``, block
        diagonal. ``"C"`` (rows stacked): ``w^T kron I_b``.

    Returns
    -------
    ndarray, shape (batch, n * batch)
    """
    fn = "jacobian_batched_inner_wrt_X"
    w = _array(fn, "w", w, ndim=1)
    b = _count(fn, "batch", batch)
    _order(fn, order)
    row = w.reshape(1, -1)
    return _kron(np.eye(b), row) if order == "F" else _kron(row, np.eye(b))


def jacobian_batched_affine_wrt_X(W, batch, order="F"):
    """Jacobian of ``Y = W X + b 1^T`` by ``X``; ``X`` is ``(n, batch)``, ``Y`` is ``(m, batch)``.

    Parameters
    ----------
    W : array_like, shape (m, n)
    batch : int
    order : {"F", "C"}
        Flattening of both ``X`` and ``Y``. ``"F"``: ``vec Y = (I_b kron W) vec X``, block
        diagonal with ``batch`` copies of ``W``. ``"C"``: ``W kron I_b``.

    Returns
    -------
    ndarray, shape (m * batch, n * batch)
    """
    fn = "jacobian_batched_affine_wrt_X"
    W = _array(fn, "W", W, ndim=2)
    b = _count(fn, "batch", batch)
    _order(fn, order)
    return _kron(np.eye(b), W) if order == "F" else _kron(W, np.eye(b))


def jacobian_batched_affine_wrt_W(X, m, order="F"):
    """Jacobian of ``Y = W X + b 1^T`` by ``W`` (shape ``(m, n)``); ``X`` is ``(n, batch)``.

    Parameters
    ----------
    X : array_like, shape (n, batch)
    m : int
        Number of rows of ``W`` and ``Y``.
    order : {"F", "C"}
        Flattening of both ``W`` and ``Y``. ``"F"``: ``vec Y = (X^T kron I_m) vec W``.
        ``"C"``: ``I_m kron X^T``, block diagonal with ``m`` copies of ``X^T``.

    Returns
    -------
    ndarray, shape (m * batch, m * n)
    """
    fn = "jacobian_batched_affine_wrt_W"
    X = _array(fn, "X", X, ndim=2)
    m = _count(fn, "m", m)
    _order(fn, order)
    return _kron(X.T, np.eye(m)) if order == "F" else _kron(np.eye(m), X.T)


def jacobian_batched_affine_wrt_b(m, batch, order="F"):
    """Jacobian of ``Y = W X + b 1^T`` (shape ``(m, batch)``) by ``b`` (shape ``(m,)``).

    Parameters
    ----------
    m : int
    batch : int
    order : {"F", "C"}
        Flattening of ``Y``. ``"F"``: ``1_b kron I_m`` (``batch`` identities stacked).
        ``"C"``: ``I_m kron 1_b``.

    Returns
    -------
    ndarray, shape (m * batch, m)
    """
    fn = "jacobian_batched_affine_wrt_b"
    m = _count(fn, "m", m)
    b = _count(fn, "batch", batch)
    _order(fn, order)
    ones = np.ones((b, 1))
    return _kron(ones, np.eye(m)) if order == "F" else _kron(np.eye(m), ones)


# ---------------------------------------------------------------------------------------------
# The code's batch-first layout: Y = X W^T + b, rows are samples, everything row-major
# ---------------------------------------------------------------------------------------------


def jacobian_linear_wrt_x(W, batch):
    """Jacobian of the batch-first ``Y = X W^T + b`` by ``X``, both flattened row-major.

    Row-major ``X`` (shape ``(N, D)``) is the column-major ``vec`` of ``X^T``, the column-layout
    batch, so the Jacobian is that of ``jacobian_batched_affine_wrt_X`` with ``order="F"``.

    Parameters
    ----------
    W : array_like, shape (M, D)
    batch : int
        ``N``, the number of rows of ``X``.

    Returns
    -------
    ndarray, shape (N * M, N * D)
        ``I_N kron W``.
    """
    fn = "jacobian_linear_wrt_x"
    W = _array(fn, "W", W, ndim=2)
    n = _count(fn, "batch", batch)
    return _kron(np.eye(n), W)


def jacobian_linear_wrt_W(x, out_features):
    """Jacobian of the batch-first ``Y = X W^T + b`` by ``W``; ``Y`` and ``W`` row-major.

    ``Y_nm = sum_d X_nd W_md``, so ``d Y_nm / d W_kd = delta_mk X_nd``: the block of rows of
    sample ``n`` is ``I_M kron x_n^T``, the one-sample Jacobian of ``jacobian_affine_wrt_W``.

    Parameters
    ----------
    x : array_like, shape (N, D)
    out_features : int
        ``M``, the number of rows of ``W``.

    Returns
    -------
    ndarray, shape (N * M, M * D)
        The ``N`` blocks ``I_M kron x_n^T`` stacked.
    """
    fn = "jacobian_linear_wrt_W"
    x = _array(fn, "x", x, ndim=2)
    M = _count(fn, "out_features", out_features)
    return np.vstack([_kron(np.eye(M), row.reshape(1, -1)) for row in x])


def jacobian_linear_wrt_b(out_features, batch):
    """Jacobian of the batch-first ``Y = X W^T + b`` (shape ``(N, M)``, row-major) by ``b``.

    Parameters
    ----------
    out_features : int
        ``M``.
    batch : int
        ``N``.

    Returns
    -------
    ndarray, shape (N * M, M)
        ``1_N kron I_M``: ``N`` identities stacked.
    """
    fn = "jacobian_linear_wrt_b"
    M = _count(fn, "out_features", out_features)
    n = _count(fn, "batch", batch)
    return _kron(np.ones((n, 1)), np.eye(M))


# ---------------------------------------------------------------------------------------------
# Vector-Jacobian products: with the explicit Jacobian, and without it
# ---------------------------------------------------------------------------------------------


def vjp_from_jacobian(J, g, in_shape, order="C"):
    """The backward the expensive way: ``J^T vec(g)``, reshaped to the input's shape.

    Parameters
    ----------
    J : array_like, shape (g.size, prod(in_shape))
        The Jacobian, output and input flattened in ``order``.
    g : array_like, any shape
        The upstream gradient (shape of the output).
    in_shape : tuple of int
        Shape of the input.
    order : {"C", "F"}
        The flattening ``J`` uses.

    Returns
    -------
    ndarray, shape in_shape
    """
    fn = "vjp_from_jacobian"
    J = _array(fn, "J", J, ndim=2)
    g = _array(fn, "g", g)
    _order(fn, order)
    n = int(np.prod(in_shape))
    if J.shape != (g.size, n):
        raise ValueError(f"{fn}: argument J must have shape ({g.size}, {n}) for g of shape "
                         f"{g.shape} and in_shape {tuple(in_shape)}, got {J.shape}")
    return (J.T @ g.reshape(-1, order=order)).reshape(in_shape, order=order)


def affine_vjp(G, W, X):
    """The backward of ``Y = W X + b 1^T`` (columns are samples), without any Jacobian.

    Parameters
    ----------
    G : array_like, shape (m, b)
        The upstream gradient, shape of ``Y``.
    W : array_like, shape (m, n)
    X : array_like, shape (n, b)

    Returns
    -------
    dX, dW, db : ndarrays, shapes (n, b), (m, n), (m,)
        ``W^T G``, ``G X^T`` and ``G 1``.
    """
    fn = "affine_vjp"
    G = _array(fn, "G", G, ndim=2)
    W = _array(fn, "W", W, ndim=2)
    X = _array(fn, "X", X, ndim=2)
    if W.shape[1] != X.shape[0]:
        raise ValueError(f"{fn}: W has shape {W.shape}, so X needs {W.shape[1]} rows; "
                         f"got X of shape {X.shape}")
    if G.shape != (W.shape[0], X.shape[1]):
        raise ValueError(f"{fn}: argument G must have the shape of Y, "
                         f"{(W.shape[0], X.shape[1])}, got {G.shape}")
    return W.T @ G, G @ X.T, G.sum(axis=1)


def linear_vjp(G, W, X):
    """The backward of the batch-first ``Y = X W^T + b`` (rows are samples), no Jacobian.

    The column-layout formulas of ``affine_vjp``, transposed.

    Parameters
    ----------
    G : array_like, shape (N, M)
        The upstream gradient, shape of ``Y``.
    W : array_like, shape (M, D)
    X : array_like, shape (N, D)

    Returns
    -------
    dX, dW, db : ndarrays, shapes (N, D), (M, D), (M,)
        ``G W``, ``G^T X`` and ``G^T 1`` (the column sums of ``G``).
    """
    fn = "linear_vjp"
    G = _array(fn, "G", G, ndim=2)
    W = _array(fn, "W", W, ndim=2)
    X = _array(fn, "X", X, ndim=2)
    if W.shape[1] != X.shape[1]:
        raise ValueError(f"{fn}: W has shape {W.shape}, so X needs {W.shape[1]} columns; "
                         f"got X of shape {X.shape}")
    if G.shape != (X.shape[0], W.shape[0]):
        raise ValueError(f"{fn}: argument G must have the shape of Y, "
                         f"{(X.shape[0], W.shape[0])}, got {G.shape}")
    return G @ W, G.T @ X, G.sum(axis=0)
