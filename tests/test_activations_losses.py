"""Activations, softmax and the losses: gradients, stability, dtypes and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handgrad import gradcheck as gc
from handgrad import ops

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)
seeds = st.integers(0, 2**16)


def away_from_zero(rng, shape, margin=0.05):
    """Random inputs kept away from relu's kink at 0 (the check would lie there)."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin, x)


# ---------------------------------------------------------------------------------------------
# gradients against numeric ones, over random shapes
# ---------------------------------------------------------------------------------------------


@settings(max_examples=20)
@given(shape=shapes, seed=seeds, name=st.sampled_from(["sigmoid", "tanh", "relu"]))
def test_activation_backward_matches_numeric_gradient(shape, seed, name):
    x = away_from_zero(np.random.default_rng(seed), shape) * 3
    report = gc.check_op(getattr(ops, f"{name}_forward"), getattr(ops, f"{name}_backward"), [x],
                         seed=seed)
    assert report.passed, str(report)


@settings(max_examples=20)
@given(shape=shapes, seed=seeds, L=st.floats(0.5, 3), k=st.floats(0.2, 3), k_sign=st.sampled_from([-1, 1]),
       x0=st.floats(-1, 1))
def test_logistic_backward_matches_numeric_gradient(shape, seed, L, k, k_sign, x0):
    # |k| >= 0.2: for a nearly flat curve the derivative drowns in the difference's round-off
    k = k * k_sign
    x = np.random.default_rng(seed).standard_normal(shape)
    report = gc.check_op(ops.logistic_forward, ops.logistic_backward, [x],
                         dict(L=L, k=k, x0=x0), seed=seed)
    assert report.passed, str(report)


def test_logistic_with_defaults_is_the_sigmoid_and_its_derivative_uses_the_output():
    x = np.linspace(-4, 4, 9)
    y, cache = ops.logistic_forward(x, L=2.0, k=1.5, x0=0.5)
    np.testing.assert_allclose(y, 2.0 / (1 + np.exp(-1.5 * (x - 0.5))), rtol=1e-14)
    dx = ops.logistic_backward(np.ones_like(x), cache)
    np.testing.assert_allclose(dx, 1.5 * y * (2.0 - y) / 2.0, rtol=1e-12)  # k y (L - y) / L
    np.testing.assert_array_equal(ops.logistic_forward(x)[0], ops.sigmoid_forward(x)[0])


@settings(max_examples=20)
@given(shape=shapes, seed=seeds, name=st.sampled_from(["softmax", "log_softmax"]),
       data=st.data())
def test_softmax_backward_matches_numeric_gradient_on_every_axis(shape, seed, name, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(seed).standard_normal(shape) * 2
    report = gc.check_op(getattr(ops, f"{name}_forward"), getattr(ops, f"{name}_backward"), [x],
                         dict(axis=axis), seed=seed)
    assert report.passed, str(report)


@settings(max_examples=20)
@given(n=st.integers(1, 6), c=st.integers(1, 6), seed=seeds,
       reduction=st.sampled_from(["mean", "sum"]))
def test_cross_entropy_backward_matches_numeric_gradient(n, c, seed, reduction):
    rng = np.random.default_rng(seed)
    logits, target = rng.standard_normal((n, c)) * 2, rng.integers(0, c, size=n)
    report = gc.check_op(ops.cross_entropy_forward, ops.cross_entropy_backward, [logits, target],
                         dict(reduction=reduction), seed=seed)
    assert report.passed, str(report)


@settings(max_examples=20)
@given(shape=shapes, seed=seeds, reduction=st.sampled_from(["mean", "sum"]),
       name=st.sampled_from(["bce_with_logits", "mse"]))
def test_elementwise_loss_backward_matches_numeric_gradient(shape, seed, reduction, name):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2
    t = rng.uniform(size=shape) if name == "bce_with_logits" else rng.standard_normal(shape)
    report = gc.check_op(getattr(ops, f"{name}_forward"), getattr(ops, f"{name}_backward"), [x, t],
                         dict(reduction=reduction), seed=seed)
    assert report.passed, str(report)


def test_complex_step_confirms_the_analytic_ops():
    x = np.random.default_rng(1).standard_normal((3, 4))
    for name in ["sigmoid", "tanh", "softmax", "log_softmax"]:
        report = gc.check_op(getattr(ops, f"{name}_forward"), getattr(ops, f"{name}_backward"), [x],
                             method="complex")
        assert report.passed and report.max_error < 1e-13, str(report)
    report = gc.check_op(ops.logistic_forward, ops.logistic_backward, [x], dict(L=2.0, k=-1.5),
                         method="complex")
    assert report.passed and report.max_error < 1e-13, str(report)


def test_a_wrong_softmax_backward_is_caught():
    def diagonal_only_backward(dy, cache):  # forgets the -y y^T part of the Jacobian
        y, _ = cache
        return dy * y * (1 - y)

    x = np.random.default_rng(2).standard_normal((3, 4))
    assert not gc.check_op(ops.softmax_forward, diagonal_only_backward, [x]).passed


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
    target = np.array([0, 2])
    loss, cache = ops.cross_entropy_forward(logits, target)
    p = ops.softmax_forward(logits)[0]
    assert loss == pytest.approx(-np.mean(np.log(p[[0, 1], target])), rel=1e-14)
    expected = (p - np.eye(3)[target]) / 2
    np.testing.assert_allclose(ops.cross_entropy_backward(1.0, cache), expected, rtol=1e-14)


def test_mean_reduction_is_sum_divided_by_the_count():
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    assert ops.cross_entropy_forward(x, t)[0] == pytest.approx(
        ops.cross_entropy_forward(x, t, "sum")[0] / 4, rel=1e-14)
    y = rng.uniform(size=(4, 3))
    assert ops.mse_forward(x, y)[0] == pytest.approx(np.mean((x - y) ** 2), rel=1e-14)
    assert ops.bce_with_logits_forward(x, y)[0] == pytest.approx(
        ops.bce_with_logits_forward(x, y, "sum")[0] / 12, rel=1e-14)


# ---------------------------------------------------------------------------------------------
# stability: no overflow, NaN or RuntimeWarning (warnings are errors in this suite)
# ---------------------------------------------------------------------------------------------

HUGE = np.array([[1e3, -1e3, 0.0], [1e4, 1e4, -1e5], [-1e30, 0.0, 1e30]])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sigmoid", "tanh", "relu", "logistic"])
def test_ops_stay_finite_for_huge_logits(name):
    fwd, bwd = getattr(ops, f"{name}_forward"), getattr(ops, f"{name}_backward")
    y, cache = fwd(HUGE)
    dx = bwd(np.ones_like(HUGE), cache)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))


def test_softmax_of_huge_logits_is_exact():
    y = ops.softmax_forward(HUGE)[0]
    np.testing.assert_array_equal(y, [[1, 0, 0], [0.5, 0.5, 0], [0, 0, 1]])
    ls = ops.log_softmax_forward(HUGE[:2])[0]
    np.testing.assert_allclose(ls, [[0, -2e3, -1e3], [-np.log(2), -np.log(2), -1e5 - 1e4 - np.log(2)]],
                               rtol=1e-15)


def test_losses_stay_finite_and_exact_for_huge_logits():
    x = np.array([[1e3, -1e3, 0.0], [1e4, 1e4, -1e5]])
    loss, cache = ops.cross_entropy_forward(x, np.array([1, 2]))
    assert loss == pytest.approx((2e3 + 1e5 + 1e4 + np.log(2)) / 2, rel=1e-15)
    assert np.all(np.isfinite(ops.cross_entropy_backward(1.0, cache)))
    t = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    loss, cache = ops.bce_with_logits_forward(x, t, reduction="sum")
    # the terms: 0, 1e3, log 2, 1e4, 0, 1e5
    assert loss == pytest.approx(1e3 + 1e4 + 1e5 + np.log(2), rel=1e-15)
    np.testing.assert_array_equal(ops.bce_with_logits_backward(1.0, cache),
                                  [[0, -1, 0.5], [1, 0, -1]])


def test_bce_gradient_is_exact_at_logit_zero_and_at_targets_zero_and_one():
    x = np.zeros(4)
    t = np.array([0.0, 1.0, 0.5, 0.25])
    _, cache = ops.bce_with_logits_forward(x, t, reduction="sum")
    np.testing.assert_array_equal(ops.bce_with_logits_backward(1.0, cache), [0.5, -0.5, 0.0, 0.25])
    for logit in [-30.0, -2.0, 3.0, 40.0]:
        xs = np.full(2, logit)
        _, cache = ops.bce_with_logits_forward(xs, np.array([0.0, 1.0]), reduction="sum")
        s = ops.sigmoid_forward(xs)[0]
        np.testing.assert_array_equal(ops.bce_with_logits_backward(1.0, cache), [s[0], s[1] - 1])


def test_naive_softmax_overflows_where_the_library_does_not():
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(HUGE[0]) / np.exp(HUGE[0]).sum()
    assert np.isnan(naive).any()
    assert np.all(np.isfinite(ops.softmax_forward(HUGE[0])[0]))


# ---------------------------------------------------------------------------------------------
# dtypes and bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "logistic", "softmax", "log_softmax"])
def test_float32_in_float32_out(name):
    x = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    y, cache = getattr(ops, f"{name}_forward")(x)
    dx = getattr(ops, f"{name}_backward")(np.ones_like(y), cache)
    assert y.dtype == np.float32 and dx.dtype == np.float32


def test_losses_keep_float32():
    x = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
    for fwd, bwd, t in [(ops.cross_entropy_forward, ops.cross_entropy_backward, np.array([0, 1, 3])),
                        (ops.bce_with_logits_forward, ops.bce_with_logits_backward,
                         np.ones_like(x)),
                        (ops.mse_forward, ops.mse_backward, np.zeros_like(x))]:
        loss, cache = fwd(x, t)
        assert loss.dtype == np.float32 and bwd(1.0, cache).dtype == np.float32


def test_relu_gradient_at_zero_is_zero_by_convention():
    _, cache = ops.relu_forward(np.array([-1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(ops.relu_backward(np.ones(3), cache), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("call, message", [
    (lambda: ops.cross_entropy_forward(np.zeros((4, 3)), np.array([0, 1, 2])),
     r"cross_entropy: target must have shape \(N,\) = \(4,\) to match logits \(4, 3\), got shape \(3,\)"),
    (lambda: ops.cross_entropy_forward(np.zeros((2, 3)), np.array([0, 3])),
     r"cross_entropy: target values must be class indices in \[0, 2\]"),
    (lambda: ops.cross_entropy_forward(np.zeros((2, 3)), np.array([0, -1])),
     r"cross_entropy: target values must be class indices"),
    (lambda: ops.cross_entropy_forward(np.zeros((2, 3)), np.array([0.0, 1.0])),
     r"cross_entropy: target must hold integer class indices"),
    (lambda: ops.cross_entropy_forward(np.zeros(3), np.array([0])),
     r"cross_entropy: logits must have shape \(N, C\) \(2-D\), got shape \(3,\)"),
    (lambda: ops.cross_entropy_forward(np.zeros((2, 3)), np.array([0, 1]), reduction="avg"),
     r"cross_entropy: reduction must be 'mean' or 'sum', got 'avg'"),
    (lambda: ops.bce_with_logits_forward(np.zeros((2, 3)), np.zeros((3, 2))),
     r"bce_with_logits: target must have the shape of logits \(2, 3\), got shape \(3, 2\)"),
    (lambda: ops.bce_with_logits_forward(np.zeros(2), np.array([0.0, 2.0])),
     r"bce_with_logits: target values must lie in \[0, 1\]"),
    (lambda: ops.mse_forward(np.zeros(3), np.zeros(4)),
     r"mse: target must have the shape of y \(3,\), got shape \(4,\)"),
    (lambda: ops.softmax_forward(np.zeros((2, 3)), axis=2),
     r"softmax: axis 2 is out of range for x of shape \(2, 3\)"),
    (lambda: ops.sigmoid_backward(np.ones(3), ops.sigmoid_forward(np.zeros(4))[1]),
     r"sigmoid_backward: dout must have the output's shape \(4,\), got shape \(3,\)"),
    (lambda: ops.cross_entropy_backward(np.ones(2), ops.cross_entropy_forward(
        np.zeros((2, 3)), np.array([0, 1]))[1]),
     r"cross_entropy_backward: dout must have the output's shape \(\), got shape \(2,\)"),
    (lambda: ops.relu_forward(np.array(["a"])), r"relu: x must be a real array"),
])
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_every_contract_op_has_a_forward_and_a_backward():
    for name in ops.OPS:
        assert callable(getattr(ops, f"{name}_forward"))
        assert callable(getattr(ops, f"{name}_backward"))


# ---------------------------------------------------------------------------------------------
# linear
# ---------------------------------------------------------------------------------------------


@settings(max_examples=20)
@given(n=st.integers(1, 5), d=st.integers(1, 5), m=st.integers(1, 5), seed=seeds)
def test_linear_backward_matches_numeric_gradient(n, d, m, seed):
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((n, d)), rng.standard_normal((m, d)), rng.standard_normal(m)]
    assert gc.check_op(ops.linear_forward, ops.linear_backward, inputs, seed=seed).passed


def test_linear_backward_of_a_large_layer_passes_the_directional_check():
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal((64, 100)), rng.standard_normal((80, 100)), rng.standard_normal(80)]
    report = gc.check_op(ops.linear_forward, ops.linear_backward, inputs)
    assert report.passed and report.rows[1].method == "directional", str(report)


@pytest.mark.parametrize("args, message", [
    ((np.zeros((2, 3)), np.zeros((4, 2)), np.zeros(4)),
     r"linear: W must have shape \(M, D\) with D = 3 to match x \(2, 3\), got shape \(4, 2\)"),
    ((np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3)),
     r"linear: b must have shape \(M,\) = \(4,\) to match W \(4, 3\), got shape \(3,\)"),
    ((np.zeros(3), np.zeros((4, 3)), np.zeros(4)),
     r"linear: x must have shape \(N, D\) \(2-D\), got shape \(3,\)"),
])
def test_linear_rejects_mismatched_shapes(args, message):
    with pytest.raises(ValueError, match=message):
        ops.linear_forward(*args)
