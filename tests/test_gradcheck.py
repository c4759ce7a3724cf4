"""The checker itself: exact on known derivatives, and it must catch every kind of wrong backward."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handgrad import gradcheck as gc

# ---------------------------------------------------------------------------------------------
# A subject to check: the affine map y = x W^T + b (batch first), written here as the test's own
# example. Its backward comes in a right version and in the typical wrong ones.
# ---------------------------------------------------------------------------------------------


def affine_forward(x, W, b):
    return x @ W.T + b, (x, W)


def affine_backward(dy, cache):
    x, W = cache
    return dy @ W, dy.T @ x, dy.sum(axis=0)


def transposed_backward(dy, cache):
    """Uses W where W^T belongs, and x^T dy where dy^T x belongs (a layout slip)."""
    x, W = cache
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def scaled_backward(dy, cache):
    """Twice the right gradient (a factor 2 from a squared term, forgotten)."""
    return tuple(2.0 * g for g in affine_backward(dy, cache))


def sign_flipped_backward(dy, cache):
    """The negative of the right gradient (a sign error)."""
    return tuple(-g for g in affine_backward(dy, cache))


def one_element_off_backward(dy, cache):
    """Right everywhere but one element of dW (a boundary case mishandled)."""
    dx, dW, db = affine_backward(dy, cache)
    dW = dW.copy()
    dW.flat[dW.size // 2] += 0.01 * (1.0 + abs(dW.flat[dW.size // 2]))
    return dx, dW, db


def index_shifted_backward(dy, cache):
    """dx shifted by one position (an off-by-one index)."""
    dx, dW, db = affine_backward(dy, cache)
    return np.roll(dx, 1), dW, db


WRONG_BACKWARDS = {
    "transposed": transposed_backward,
    "scaled_by_2": scaled_backward,
    "sign_flipped": sign_flipped_backward,
    "one_element_off": one_element_off_backward,
    "index_shifted": index_shifted_backward,
}


def affine_inputs(n=4, d=5, seed=0):
    """Square W (d, d) so that a transposed backward still has the right shapes."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, d)), rng.standard_normal((d, d)), rng.standard_normal(d)]


# ---------------------------------------------------------------------------------------------
# numeric derivatives against known ones
# ---------------------------------------------------------------------------------------------


def test_numeric_gradient_matches_known_derivative():
    x = np.linspace(-1.0, 2.0, 7).reshape(7, 1)
    g = gc.numeric_gradient(lambda v: np.sum(np.sin(v) * v), x)
    assert g.shape == x.shape
    assert gc.relative_error(g, np.cos(x) * x + np.sin(x)) < 1e-9


def test_numeric_gradient_does_not_modify_its_input():
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    gc.numeric_gradient(lambda v: np.sum(v**2), x)
    np.testing.assert_array_equal(x, before)


def test_numeric_jacobian_is_numerator_layout_in_row_major_order():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((3, 5))
    J = gc.numeric_jacobian(lambda v: A @ v, rng.standard_normal(5))
    assert J.shape == (3, 5)
    assert gc.relative_error(J, A) < 1e-9
    # a matrix input is flattened row by row: d(XB)/dX = I kron B^T in row-major order
    B = rng.standard_normal((4, 2))
    J2 = gc.numeric_jacobian(lambda X: X @ B, rng.standard_normal((3, 4)))
    assert gc.relative_error(J2, np.kron(np.eye(3), B.T)) < 1e-9


def test_complex_step_is_exact_to_machine_precision():
    x = np.array([0.3, 1.5, -2.0])
    f = lambda v: np.sum(np.exp(v) / np.sqrt(np.sin(v) ** 3 + np.cos(v) ** 3 + 2.0))
    exact_num = gc.numeric_gradient(f, x, eps=1e-5)
    cs = gc.complex_step_gradient(f, x)
    assert gc.relative_error(cs, exact_num) < 1e-8
    # the complex step does not degrade as the step shrinks; central differences would
    assert gc.relative_error(gc.complex_step_gradient(f, x, h=1e-200), cs) < 1e-15


def test_complex_step_jacobian_matches_numeric_jacobian():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((4, 3))
    f = lambda v: np.tanh(W @ v)
    x = rng.standard_normal(3)
    exact = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    assert gc.relative_error(gc.complex_step_jacobian(f, x), exact) < 1e-14
    assert gc.relative_error(gc.numeric_jacobian(f, x), exact) < 1e-8


def test_directional_derivative_is_the_jacobian_vector_product():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((4, 6))
    x, u = rng.standard_normal(6), rng.standard_normal(6)
    jvp = gc.directional_derivative(lambda v: np.sin(A @ v), x, u)
    assert gc.relative_error(jvp, np.cos(A @ x) * (A @ u)) < 1e-8


def test_adjoint_test_accepts_the_transpose_and_rejects_the_matrix_itself():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((5, 5))
    x, u, g = rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal(5)
    _, _, good = gc.adjoint_test(lambda v: A @ v, lambda gg: A.T @ gg, x, g, u)
    _, _, bad = gc.adjoint_test(lambda v: A @ v, lambda gg: A @ gg, x, g, u)
    assert good < 1e-9
    assert bad > 1e-3


# ---------------------------------------------------------------------------------------------
# relative error
# ---------------------------------------------------------------------------------------------


def test_relative_error_is_zero_for_two_zero_gradients():
    assert gc.relative_error(np.zeros(3), np.zeros(3)) == 0.0


def test_relative_error_is_one_when_exactly_one_side_is_zero():
    assert gc.relative_error(np.zeros(3), np.ones(3)) == 1.0
    assert gc.relative_error(np.ones(3), np.zeros(3)) == 1.0


@given(scale=st.sampled_from([1e-8, 1e-3, 1.0, 1e4, 1e9]))
def test_relative_error_is_symmetric_and_scale_invariant(scale):
    a = np.array([1.0, -2.0, 3.0])
    n = np.array([1.0, -2.0, 3.001])
    e = gc.relative_error(a, n)
    assert gc.relative_error(n, a) == pytest.approx(e)
    assert gc.relative_error(scale * a, scale * n) == pytest.approx(e, rel=1e-9)


def test_relative_error_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"relative_error.*\(2, 3\).*\(3, 2\)"):
        gc.relative_error(np.zeros((2, 3)), np.zeros((3, 2)))


# ---------------------------------------------------------------------------------------------
# check_op: the right backward passes, every wrong one fails, with every method
# ---------------------------------------------------------------------------------------------

METHODS = ["full", "directional", "complex"]


@pytest.mark.parametrize("method", METHODS + ["auto"])
def test_check_op_passes_a_correct_backward(method):
    report = gc.check_op(affine_forward, affine_backward, affine_inputs(), method=method)
    assert report.passed, str(report)
    assert [r.name for r in report.rows] == ["x", "W", "b"]
    assert report.max_error < 1e-8


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", sorted(WRONG_BACKWARDS))
def test_check_op_catches_a_wrong_backward(kind, method):
    report = gc.check_op(affine_forward, WRONG_BACKWARDS[kind], affine_inputs(), method=method)
    assert not report.passed, f"{kind} backward not caught by the {method} check\n{report}"
    assert not bool(report)
    # the failure is far above the tolerance, not a borderline round-off
    assert report.max_error > 1e3 * report.rows[0].tol


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 6), d=st.integers(2, 6), seed=st.integers(0, 2**16),
       kind=st.sampled_from(sorted(WRONG_BACKWARDS)))
def test_check_op_verdicts_hold_over_random_shapes(n, d, seed, kind):
    inputs = affine_inputs(n, d, seed)
    assert gc.check_op(affine_forward, affine_backward, inputs, seed=seed).passed
    assert not gc.check_op(affine_forward, WRONG_BACKWARDS[kind], inputs, seed=seed).passed


@pytest.mark.parametrize("kind", sorted(WRONG_BACKWARDS))
def test_directional_check_catches_wrong_backwards_of_a_large_layer(kind):
    inputs = affine_inputs(n=64, d=48, seed=5)  # W has 2304 elements: too many for "full"
    good = gc.check_op(affine_forward, affine_backward, inputs)
    assert [r.method for r in good.rows] == ["directional", "directional", "full"]
    assert good.passed, str(good)
    assert not gc.check_op(affine_forward, WRONG_BACKWARDS[kind], inputs).passed


def test_check_op_holds_integer_targets_fixed_and_checks_a_loss_first_input_only():
    def sq_loss_forward(y, target, weight):
        diff = y - target[:, None] * weight
        return 0.5 * np.sum(diff**2), diff

    def sq_loss_backward(dout, diff):
        return dout * diff  # the gradient of the prediction only, as losses do

    rng = np.random.default_rng(6)
    y, t, w = rng.standard_normal((4, 3)), rng.integers(0, 3, size=4), rng.standard_normal(3)
    report = gc.check_op(sq_loss_forward, sq_loss_backward, [y, t, w])
    assert [r.name for r in report.rows] == ["y"]
    assert report.passed
    assert report.op == "sq_loss"


def test_check_op_reports_keyword_options_to_the_forward():
    def scale_forward(x, factor=1.0):
        return factor * x, factor

    def scale_backward(dy, factor):
        return factor * dy

    x = np.arange(1.0, 5.0)
    assert gc.check_op(scale_forward, scale_backward, [x], {"factor": 3.0}).passed
    wrong = gc.check_op(scale_forward, lambda dy, f: 3.0 * dy, [x], {"factor": -3.0})
    assert not wrong.passed


def test_check_op_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"check_op: gradient of x has shape \(5, 4\).*\(4, 5\)"):
        gc.check_op(affine_forward, lambda dy, c: (affine_backward(dy, c)[0].T,) * 3,
                    affine_inputs())


def test_check_op_rejects_too_many_gradients():
    with pytest.raises(ValueError, match="returned 4 gradients but the forward has 3"):
        gc.check_op(affine_forward, lambda dy, c: (*affine_backward(dy, c), 0.0), affine_inputs())


def test_check_op_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="unknown method"):
        gc.check_op(affine_forward, affine_backward, affine_inputs(), method="forward")


def test_report_renders_as_text_and_html_tables_and_raises_on_failure():
    good = gc.check_op(affine_forward, affine_backward, affine_inputs())
    bad = gc.check_op(affine_forward, sign_flipped_backward, affine_inputs())
    text = str(bad)
    assert text.splitlines()[0] == "gradcheck affine: FAILED"
    assert "rel. error" in text and "FAIL" in text and "2.0e+00" in text
    html = good._repr_html_()
    assert html.count("<tr>") == 4 and "passed" in html
    assert good.raise_if_failed() is good
    with pytest.raises(gc.GradcheckError, match="gradient check failed"):
        bad.raise_if_failed()


def test_numeric_derivatives_work_on_fortran_ordered_inputs():
    """A transposed view (Fortran order) must be perturbed like any other array."""
    X = np.arange(1.0, 7.0).reshape(2, 3).T  # F-ordered (3, 2)
    f = lambda a: np.sum(a**2)
    np.testing.assert_allclose(gc.numeric_gradient(f, X), 2 * X, rtol=1e-8)
    np.testing.assert_allclose(gc.complex_step_gradient(f, X), 2 * X, rtol=1e-14)
    J = gc.numeric_jacobian(lambda a: 2 * a, X)
    np.testing.assert_allclose(J, 2 * np.eye(6), atol=1e-8)
    np.testing.assert_allclose(gc.complex_step_jacobian(lambda a: 2 * a, X), 2 * np.eye(6))
