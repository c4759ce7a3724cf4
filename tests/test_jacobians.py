"""handgrad.jacobians: every explicit Jacobian equals the numeric one, in the order it states."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handgrad import jacobians as jac
from handgrad.gradcheck import complex_step_jacobian, numeric_jacobian, relative_error

TOL = 1e-7
dims = st.integers(min_value=1, max_value=4)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
orders = st.sampled_from(["C", "F"])
SETTINGS = settings(deadline=None, max_examples=20)


def numeric(f, x, out_order="C", in_order="C", method="central"):
    x = np.ascontiguousarray(x, dtype=np.float64)
    J = numeric_jacobian(f, x) if method == "central" else complex_step_jacobian(f, x)
    return jac.reorder_jacobian(J, np.shape(f(x)), x.shape, out_order, in_order)


# ---------------------------------------------------------------------------------------------
# Flattening
# ---------------------------------------------------------------------------------------------


@SETTINGS
@given(m=dims, n=dims, p=dims, q=dims, seed=seeds)
def test_vec_of_a_product_is_the_kronecker_product_times_vec(m, n, p, q, seed):
    rng = np.random.default_rng(seed)
    A, X, B = rng.standard_normal((m, n)), rng.standard_normal((n, p)), rng.standard_normal((p, q))
    assert np.allclose(jac.vec(A @ X @ B), np.kron(B.T, A) @ jac.vec(X))
    assert np.allclose(jac.vec(A @ X @ B, "C"), np.kron(A, B.T) @ jac.vec(X, "C"))


@SETTINGS
@given(m=dims, n=dims, seed=seeds, out_order=orders, in_order=orders)
def test_reorder_jacobian_matches_a_jacobian_taken_in_that_order(m, n, seed, out_order, in_order):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    C = rng.standard_normal((n, m))

    def f(X_):
        return np.sin(X_) @ C

    J = jac.reorder_jacobian(numeric_jacobian(f, X), (m, m), (m, n), out_order, in_order)

    # the same Jacobian taken directly on vectors flattened in the requested orders
    def g(v):
        return f(v.reshape((m, n), order=in_order)).reshape(-1, order=out_order)

    assert relative_error(J, numeric_jacobian(g, X.reshape(-1, order=in_order))) < 1e-12


# ---------------------------------------------------------------------------------------------
# One sample
# ---------------------------------------------------------------------------------------------


@SETTINGS
@given(n=dims, seed=seeds)
def test_inner_product_jacobian_wrt_x_matches_numeric_jacobian(n, seed):
    rng = np.random.default_rng(seed)
    a, x = rng.standard_normal(n), rng.standard_normal(n)
    assert relative_error(jac.jacobian_inner_wrt_x(a), numeric(lambda x_: a @ x_, x)) < TOL


@SETTINGS
@given(m=dims, n=dims, seed=seeds)
def test_matvec_jacobian_wrt_x_matches_numeric_jacobian(m, n, seed):
    rng = np.random.default_rng(seed)
    A, x = rng.standard_normal((m, n)), rng.standard_normal(n)
    assert relative_error(jac.jacobian_matvec_wrt_x(A), numeric(lambda x_: A @ x_, x)) < TOL


@SETTINGS
@given(m=dims, n=dims, seed=seeds)
def test_affine_jacobians_wrt_x_and_b_match_numeric_jacobian(m, n, seed):
    rng = np.random.default_rng(seed)
    W, x, b = rng.standard_normal((m, n)), rng.standard_normal(n), rng.standard_normal(m)
    assert relative_error(jac.jacobian_affine_wrt_x(W), numeric(lambda x_: W @ x_ + b, x)) < TOL
    assert relative_error(jac.jacobian_affine_wrt_b(m), numeric(lambda b_: W @ x + b_, b)) < TOL


@SETTINGS
@given(m=dims, n=dims, seed=seeds, order=orders)
def test_affine_jacobian_wrt_W_matches_numeric_jacobian(m, n, seed, order):
    rng = np.random.default_rng(seed)
    W, x, b = rng.standard_normal((m, n)), rng.standard_normal(n), rng.standard_normal(m)
    J = numeric(lambda W_: W_ @ x + b, W, in_order=order)
    assert relative_error(jac.jacobian_affine_wrt_W(x, m, order), J) < TOL


@SETTINGS
@given(m=dims, n=dims, seed=seeds)
def test_affine_jacobian_wrt_W_is_a_permutation_of_the_other_order(m, n, seed):
    x = np.random.default_rng(seed).standard_normal(n)
    C, F = jac.jacobian_affine_wrt_W(x, m, "C"), jac.jacobian_affine_wrt_W(x, m, "F")
    assert np.array_equal(jac.reorder_jacobian(C, (m,), (m, n), "C", "F"), F)


@SETTINGS
@given(n=dims, seed=seeds)
def test_elementwise_jacobian_matches_complex_step_jacobian(n, seed):
    x = np.random.default_rng(seed).standard_normal((n, 2))
    J = numeric(np.tanh, x, method="complex")
    assert relative_error(jac.jacobian_elementwise(1 - np.tanh(x) ** 2), J) < 1e-13


@SETTINGS
@given(m=dims, k=dims, n=dims, seed=seeds)
def test_chain_rule_jacobian_matches_complex_step_jacobian(m, k, n, seed):
    rng = np.random.default_rng(seed)
    A, B, x = rng.standard_normal((m, k)), rng.standard_normal((k, n)), rng.standard_normal(n)

    def f(x_):  # x -> B x -> tanh -> A (.)
        return A @ np.tanh(B @ x_)

    u = B @ x
    J = jac.jacobian_chain(A, jac.jacobian_elementwise(1 - np.tanh(u) ** 2), B)
    assert relative_error(J, numeric(f, x, method="complex")) < 1e-13
    assert relative_error(J, numeric(f, x)) < TOL


@SETTINGS
@given(m=dims, n=dims, seed=seeds)
def test_product_rule_jacobian_matches_numeric_jacobian(m, n, seed):
    rng = np.random.default_rng(seed)
    A, B, x = rng.standard_normal((m, n)), rng.standard_normal((m, n)), rng.standard_normal(n)

    def f(x_):  # sin(A x)^T exp(B x)
        return np.sin(A @ x_) @ np.exp(B @ x_)

    f1, f2 = np.sin(A @ x), np.exp(B @ x)
    J1, J2 = np.cos(A @ x)[:, None] * A, f2[:, None] * B
    J = jac.jacobian_product_rule(f1, J1, f2, J2)
    assert relative_error(J, numeric(f, x)) < TOL
    assert relative_error(J, numeric(f, x, method="complex")) < 1e-13


@SETTINGS
@given(m1=dims, m2=dims, seed=seeds)
def test_two_paths_jacobian_matches_numeric_jacobian(m1, m2, seed):
    rng = np.random.default_rng(seed)
    a, c = rng.standard_normal(m1), rng.standard_normal(m2)
    t = rng.standard_normal(1)

    def z(t_):  # z = sum(x) * sum(y^2), x = sin(a t), y = exp(c t)
        x, y = np.sin(a * t_), np.exp(c * t_)
        return np.atleast_1d(np.sum(x) * np.sum(y**2))

    x, y = np.sin(a * t), np.exp(c * t)
    Jz_x = np.full((1, m1), np.sum(y**2))
    Jz_y = (np.sum(x) * 2 * y).reshape(1, -1)
    Jx_t = (a * np.cos(a * t)).reshape(-1, 1)
    Jy_t = (c * y).reshape(-1, 1)
    J = jac.jacobian_two_paths(Jz_x, Jx_t, Jz_y, Jy_t)
    assert relative_error(J, numeric(z, t)) < TOL
    assert relative_error(J, numeric(z, t, method="complex")) < 1e-13


# ---------------------------------------------------------------------------------------------
# A batch in the columns of X
# ---------------------------------------------------------------------------------------------


@SETTINGS
@given(n=dims, b=dims, seed=seeds, order=orders)
def test_batched_inner_jacobian_wrt_X_matches_numeric_jacobian(n, b, seed, order):
    rng = np.random.default_rng(seed)
    w, X = rng.standard_normal(n), rng.standard_normal((n, b))
    J = numeric(lambda X_: w @ X_ + 0.5, X, order, order)
    assert relative_error(jac.jacobian_batched_inner_wrt_X(w, b, order), J) < TOL


@SETTINGS
@given(m=dims, n=dims, b=dims, seed=seeds, order=orders)
def test_batched_affine_jacobians_match_numeric_jacobian(m, n, b, seed, order):
    rng = np.random.default_rng(seed)
    W, X, bias = rng.standard_normal((m, n)), rng.standard_normal((n, b)), rng.standard_normal(m)

    def Y(W_=W, X_=X, b_=bias):
        return W_ @ X_ + b_[:, None]

    JX = numeric(lambda X_: Y(X_=X_), X, order, order)
    JW = numeric(lambda W_: Y(W_=W_), W, order, order)
    Jb = numeric(lambda b_: Y(b_=b_), bias, order, "C")
    assert relative_error(jac.jacobian_batched_affine_wrt_X(W, b, order), JX) < TOL
    assert relative_error(jac.jacobian_batched_affine_wrt_W(X, m, order), JW) < TOL
    assert relative_error(jac.jacobian_batched_affine_wrt_b(m, b, order), Jb) < TOL


# ---------------------------------------------------------------------------------------------
# The code's batch-first layout
# ---------------------------------------------------------------------------------------------


@SETTINGS
@given(N=dims, D=dims, M=dims, seed=seeds)
def test_linear_jacobians_match_numeric_jacobian(N, D, M, seed):
    rng = np.random.default_rng(seed)
    X, W, bias = rng.standard_normal((N, D)), rng.standard_normal((M, D)), rng.standard_normal(M)

    def Y(X_=X, W_=W, b_=bias):
        return X_ @ W_.T + b_

    assert relative_error(jac.jacobian_linear_wrt_x(W, N), numeric(lambda X_: Y(X_=X_), X)) < TOL
    assert relative_error(jac.jacobian_linear_wrt_W(X, M), numeric(lambda W_: Y(W_=W_), W)) < TOL
    assert relative_error(jac.jacobian_linear_wrt_b(M, N), numeric(lambda b_: Y(b_=b_), bias)) < TOL


@SETTINGS
@given(N=dims, D=dims, M=dims, seed=seeds)
def test_linear_jacobian_wrt_x_is_the_column_layout_jacobian(N, D, M, seed):
    W = np.random.default_rng(seed).standard_normal((M, D))
    assert np.array_equal(jac.jacobian_linear_wrt_x(W, N),
                          jac.jacobian_batched_affine_wrt_X(W, N, "F"))


# ---------------------------------------------------------------------------------------------
# Vector-Jacobian products
# ---------------------------------------------------------------------------------------------


@SETTINGS
@given(m=dims, n=dims, b=dims, seed=seeds, order=orders)
def test_affine_vjp_equals_the_explicit_jacobian_transpose(m, n, b, seed, order):
    rng = np.random.default_rng(seed)
    W, X, G = rng.standard_normal((m, n)), rng.standard_normal((n, b)), rng.standard_normal((m, b))
    dX, dW, db = jac.affine_vjp(G, W, X)
    JX = jac.jacobian_batched_affine_wrt_X(W, b, order)
    JW = jac.jacobian_batched_affine_wrt_W(X, m, order)
    Jb = jac.jacobian_batched_affine_wrt_b(m, b, order)
    assert np.allclose(dX, jac.vjp_from_jacobian(JX, G, X.shape, order))
    assert np.allclose(dW, jac.vjp_from_jacobian(JW, G, W.shape, order))
    # b is a vector: its flattening is the same in both orders
    assert np.allclose(db, Jb.T @ G.reshape(-1, order=order))


@SETTINGS
@given(N=dims, D=dims, M=dims, seed=seeds)
def test_linear_vjp_matches_numeric_gradient(N, D, M, seed):
    rng = np.random.default_rng(seed)
    X, W, bias = rng.standard_normal((N, D)), rng.standard_normal((M, D)), rng.standard_normal(M)
    G = rng.standard_normal((N, M))
    dX, dW, db = jac.linear_vjp(G, W, X)
    # the gradient of <G, Y> is G^T J: one row of the numeric Jacobian of that scalar
    for arg, analytic in ((0, dX), (1, dW), (2, db)):
        args = [X, W, bias]

        def phi(a, arg=arg):
            args_ = list(args)
            args_[arg] = a
            return np.atleast_1d(np.sum(G * (args_[0] @ args_[1].T + args_[2])))

        num = numeric_jacobian(phi, args[arg]).reshape(analytic.shape)
        assert relative_error(analytic, num) < TOL


# ---------------------------------------------------------------------------------------------
# check_jacobian: passes a right formula, fails a wrong one
# ---------------------------------------------------------------------------------------------


def test_check_jacobian_passes_the_right_formula_and_fails_a_transposed_one():
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((3, 3)), rng.standard_normal(3)
    right = jac.check_jacobian("W", W, lambda x_: W @ x_, x)
    wrong = jac.check_jacobian("W^T", W.T, lambda x_: W @ x_, x)
    assert right.passed and not wrong.passed


def test_check_jacobian_reports_a_wrong_shape_as_an_infinite_error():
    W, x = np.ones((2, 3)), np.ones(3)
    row = jac.check_jacobian("wrong shape", np.ones((2, 4)), lambda x_: W @ x_, x)
    assert row.error == float("inf") and not row.passed


def test_check_jacobian_handles_a_transposed_input():
    # a Fortran-ordered view (X.T) must give the same check as a C-ordered copy
    rng = np.random.default_rng(1)
    W, X = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    row = jac.check_jacobian("X", jac.jacobian_linear_wrt_x(W, 4), lambda X_: X_ @ W.T, X.T)
    assert row.passed


def test_check_jacobian_with_complex_step_is_exact_on_an_analytic_function():
    x = np.linspace(-1.0, 1.0, 4)
    row = jac.check_jacobian("tanh", jac.jacobian_elementwise(1 - np.tanh(x) ** 2), np.tanh, x,
                             method="complex", tol=1e-13)
    assert row.passed


# ---------------------------------------------------------------------------------------------
# Bad input: a ValueError naming the function and the argument
# ---------------------------------------------------------------------------------------------

BAD_CALLS = [
    (lambda: jac.jacobian_inner_wrt_x(np.ones((2, 2))), "jacobian_inner_wrt_x: argument a"),
    (lambda: jac.jacobian_matvec_wrt_x(np.ones(3)), "jacobian_matvec_wrt_x: argument A"),
    (lambda: jac.jacobian_affine_wrt_x(np.ones(3)), "jacobian_affine_wrt_x: argument W"),
    (lambda: jac.jacobian_affine_wrt_b(0), "jacobian_affine_wrt_b: argument m"),
    (lambda: jac.jacobian_affine_wrt_b(2.0), "jacobian_affine_wrt_b: argument m"),
    (lambda: jac.jacobian_affine_wrt_W(np.ones((2, 1)), 2), "jacobian_affine_wrt_W: argument x"),
    (lambda: jac.jacobian_affine_wrt_W(np.ones(2), 2, "K"),
     "jacobian_affine_wrt_W: argument order"),
    (lambda: jac.jacobian_affine_wrt_W(np.array(["a", "b"]), 2),
     "jacobian_affine_wrt_W: argument x must be a real array"),
    (lambda: jac.jacobian_chain(np.ones((2, 3)), np.ones((2, 3))), "jacobian_chain: jacobians[0]"),
    (lambda: jac.jacobian_chain(), "jacobian_chain: needs at least one"),
    (lambda: jac.jacobian_product_rule(np.ones(2), np.ones((2, 3)), np.ones(3), np.ones((3, 3))),
     "jacobian_product_rule: f1 has shape (2,) but f2 has shape (3,)"),
    (lambda: jac.jacobian_product_rule(np.ones(2), np.ones((3, 3)), np.ones(2), np.ones((2, 3))),
     "jacobian_product_rule: argument J1"),
    (lambda: jac.jacobian_two_paths(np.ones((1, 2)), np.ones((2, 1)), np.ones((1, 3)),
                                    np.ones((3, 2))), "jacobian_two_paths"),
    (lambda: jac.jacobian_batched_inner_wrt_X(np.ones(2), 0),
     "jacobian_batched_inner_wrt_X: argument batch"),
    (lambda: jac.jacobian_batched_affine_wrt_X(np.ones(2), 3),
     "jacobian_batched_affine_wrt_X: argument W"),
    (lambda: jac.jacobian_batched_affine_wrt_W(np.ones(2), 3),
     "jacobian_batched_affine_wrt_W: argument X"),
    (lambda: jac.jacobian_batched_affine_wrt_b(2, 3, "A"),
     "jacobian_batched_affine_wrt_b: argument order"),
    (lambda: jac.jacobian_linear_wrt_x(np.ones(2), 3), "jacobian_linear_wrt_x: argument W"),
    (lambda: jac.jacobian_linear_wrt_W(np.ones(2), 3), "jacobian_linear_wrt_W: argument x"),
    (lambda: jac.jacobian_linear_wrt_b(3, -1), "jacobian_linear_wrt_b: argument batch"),
    (lambda: jac.reorder_jacobian(np.ones((2, 3)), (2,), (2, 2)), "reorder_jacobian: argument J"),
    (lambda: jac.reorder_jacobian(np.ones((2, 4)), (2,), (2, 2), "X"),
     "reorder_jacobian: argument out_order"),
    (lambda: jac.vjp_from_jacobian(np.ones((2, 3)), np.ones(3), (3,)),
     "vjp_from_jacobian: argument J"),
    (lambda: jac.affine_vjp(np.ones((2, 4)), np.ones((2, 3)), np.ones((3, 5))),
     "affine_vjp: argument G"),
    (lambda: jac.affine_vjp(np.ones((2, 5)), np.ones((2, 3)), np.ones((4, 5))), "affine_vjp: W"),
    (lambda: jac.linear_vjp(np.ones((4, 3)), np.ones((2, 3)), np.ones((4, 3))),
     "linear_vjp: argument G"),
    (lambda: jac.linear_vjp(np.ones((4, 2)), np.ones((2, 3)), np.ones((4, 5))), "linear_vjp: W"),
    (lambda: jac.check_jacobian("x", np.ones((1, 1)), np.sin, np.ones(1), method="forward"),
     "check_jacobian: argument method"),
    (lambda: jac.vec(np.ones(3), "K"), "vec: argument order"),
]


@pytest.mark.parametrize("call, message", BAD_CALLS, ids=[m.split(":")[0] + f"-{i}"
                                                          for i, (_, m) in enumerate(BAD_CALLS)])
def test_bad_input_raises_a_value_error_naming_function_and_argument(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)
