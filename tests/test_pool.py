"""Pooling: gradients over random shapes, kernels and strides (overlapping windows included), the
tie rule of max pooling, dtypes, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handgrad import gradcheck as gc
from handgrad import ops

seeds = st.integers(0, 2**16)


@st.composite
def pool_case(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), st.integers(1, 3),
                            st.tuples(st.integers(1, 3), st.integers(1, 3))))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(kh, 7)),
             draw(st.integers(kw, 7)))
    kernel = kh if kh == kw and draw(st.booleans()) else (kh, kw)
    return shape, kernel, stride


def distinct_values(shape, seed):
    """Inputs without ties, well apart: a random permutation of a spread grid of values."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))) * 0.1 - 1.0).reshape(shape)


@settings(max_examples=40)
@given(case=pool_case(), seed=seeds)
def test_avg_pool2d_backward_matches_numeric_gradient(case, seed):
    shape, kernel, stride = case
    x = np.random.default_rng(seed).standard_normal(shape)
    report = gc.check_op(ops.avg_pool2d_forward, ops.avg_pool2d_backward, [x],
                         {"kernel_size": kernel, "stride": stride}, seed=seed)
    assert report.passed, str(report)


@settings(max_examples=15)
@given(case=pool_case(), seed=seeds)
def test_avg_pool2d_backward_matches_complex_step(case, seed):
    shape, kernel, stride = case
    x = np.random.default_rng(seed).standard_normal(shape)
    report = gc.check_op(ops.avg_pool2d_forward, ops.avg_pool2d_backward, [x],
                         {"kernel_size": kernel, "stride": stride}, method="complex", seed=seed)
    assert report.passed, str(report)


@settings(max_examples=40)
@given(case=pool_case(), seed=seeds)
def test_max_pool2d_backward_matches_numeric_gradient(case, seed):
    shape, kernel, stride = case
    report = gc.check_op(ops.max_pool2d_forward, ops.max_pool2d_backward,
                         [distinct_values(shape, seed)],
                         {"kernel_size": kernel, "stride": stride}, seed=seed)
    assert report.passed, str(report)


@pytest.mark.parametrize("op", ["avg_pool2d", "max_pool2d"])
def test_pool_backward_matches_directional_derivatives_on_a_larger_input(op):
    report = gc.check_op(getattr(ops, f"{op}_forward"), getattr(ops, f"{op}_backward"),
                         [distinct_values((4, 3, 12, 10), 1)], {"kernel_size": 3, "stride": 2},
                         method="directional")
    assert report.passed, str(report)


def test_overlapping_windows_accumulate_gradients():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0  # the centre is the maximum of all four 2x2 windows
    y, cache = ops.max_pool2d_forward(x, 2, stride=1)
    dx = ops.max_pool2d_backward(np.ones_like(y), cache)
    assert dx[0, 0, 1, 1] == 4 and dx.sum() == 4
    y, cache = ops.avg_pool2d_forward(x, 2, stride=1)
    dx = ops.avg_pool2d_backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(dx[0, 0], np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4)


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_in_row_major_order():
    x = np.array([[[[0.0, 5.0], [5.0, 5.0]]]])
    y, cache = ops.max_pool2d_forward(x, 2)
    dx = ops.max_pool2d_backward(np.array([[[[3.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[0.0, 3.0], [0.0, 0.0]]]])


def test_pooling_drops_windows_that_run_past_the_edge():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    y, cache = ops.max_pool2d_forward(x, 2)
    np.testing.assert_array_equal(y[0, 0], [[6, 8], [16, 18]])
    dx = ops.max_pool2d_backward(np.ones_like(y), cache)
    assert dx[0, 0, 4].sum() == 0 and dx[0, 0, :, 4].sum() == 0
    y, _ = ops.avg_pool2d_forward(x, 2)
    np.testing.assert_array_equal(y[0, 0], [[3, 5], [13, 15]])


@pytest.mark.parametrize("op", ["avg_pool2d", "max_pool2d"])
@pytest.mark.parametrize("stride", [None, 1])
def test_pooling_keeps_float32(op, stride):
    x = distinct_values((2, 3, 6, 6), 0).astype(np.float32)
    y, cache = getattr(ops, f"{op}_forward")(x, 2, stride)
    dx = getattr(ops, f"{op}_backward")(np.ones_like(y), cache)
    assert y.dtype == np.float32 and dx.dtype == np.float32


def test_a_max_pool_backward_that_spreads_the_gradient_is_caught():
    def spreading(dy, cache):
        return ops.avg_pool2d_backward(dy, cache[:4])  # every entry of the window gets a share

    report = gc.check_op(ops.max_pool2d_forward, spreading,
                         [distinct_values((1, 2, 4, 4), 3)], {"kernel_size": 2})
    assert not report.passed


def test_an_avg_pool_backward_that_overwrites_overlaps_is_caught():
    def overwriting(dy, cache):
        x_shape, (kh, kw), (sh, sw), (ho, wo) = cache
        dx = np.zeros(x_shape)
        for p in range(kh):
            for q in range(kw):
                dx[:, :, p:p + sh * (ho - 1) + 1:sh, q:q + sw * (wo - 1) + 1:sw] = dy / (kh * kw)
        return dx

    report = gc.check_op(ops.avg_pool2d_forward, overwriting,
                         [distinct_values((1, 1, 5, 5), 4)], {"kernel_size": 3, "stride": 1})
    assert not report.passed


@pytest.mark.parametrize("op", ["avg_pool2d", "max_pool2d"])
@pytest.mark.parametrize("shape, kernel, stride, message", [
    ((2, 3, 4), 2, None, "x must have shape (N, C, H, W)"),
    ((1, 1, 4, 4), 5, None, "kernel_size (5, 5) is larger than the image"),
    ((1, 1, 4, 4), 0, None, "kernel_size must be at least 1"),
    ((1, 1, 4, 4), 2, 0, "stride must be at least 1"),
])
def test_pooling_rejects_bad_input_with_a_clear_message(op, shape, kernel, stride, message):
    with pytest.raises(ValueError) as err:
        getattr(ops, f"{op}_forward")(np.zeros(shape), kernel, stride)
    assert str(err.value).startswith(f"{op}: ") and message in str(err.value)


def test_pool_backward_rejects_a_wrong_upstream_gradient():
    y, cache = ops.max_pool2d_forward(np.zeros((1, 1, 4, 4)), 2)
    with pytest.raises(ValueError, match="max_pool2d_backward: dout must have the output's shape"):
        ops.max_pool2d_backward(np.zeros((1, 1, 4, 4)), cache)
