"""Convolution: gradients over random shapes, strides and paddings; im2col/col2im adjointness; the
full-convolution input gradient; agreement with the naive definition; dtypes; bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handgrad import conv, ops
from handgrad import gradcheck as gc

seeds = st.integers(0, 2**16)


@st.composite
def conv2d_case(draw):
    """A random valid conv2d configuration: shapes, stride and padding as ints or pairs."""
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 6))
    w = draw(st.integers(max(1, kw - 2 * pw), 6))
    stride = sh if sh == sw and draw(st.booleans()) else (sh, sw)
    padding = ph if ph == pw and draw(st.booleans()) else (ph, pw)
    return (n, c, h, w), (f, c, kh, kw), stride, padding


def conv_inputs(x_shape, w_shape, seed):
    rng = np.random.default_rng(seed + 7)
    return [rng.standard_normal(x_shape), rng.standard_normal(w_shape),
            rng.standard_normal(w_shape[0])]


@settings(max_examples=40)
@given(case=conv2d_case(), seed=seeds)
def test_conv2d_backward_matches_numeric_gradient(case, seed):
    x_shape, w_shape, stride, padding = case
    report = gc.check_op(ops.conv2d_forward, ops.conv2d_backward,
                         conv_inputs(x_shape, w_shape, seed),
                         {"stride": stride, "padding": padding}, seed=seed)
    assert report.passed, str(report)


@settings(max_examples=15)
@given(case=conv2d_case(), seed=seeds)
def test_conv2d_backward_matches_complex_step(case, seed):
    x_shape, w_shape, stride, padding = case
    report = gc.check_op(ops.conv2d_forward, ops.conv2d_backward,
                         conv_inputs(x_shape, w_shape, seed),
                         {"stride": stride, "padding": padding}, method="complex", seed=seed)
    assert report.passed, str(report)


def test_conv2d_backward_matches_directional_derivatives_on_a_larger_input():
    report = gc.check_op(ops.conv2d_forward, ops.conv2d_backward,
                         conv_inputs((4, 3, 11, 9), (5, 3, 3, 3), 0),
                         {"stride": 2, "padding": 1}, method="directional")
    assert report.passed, str(report)


@settings(max_examples=25)
@given(n=st.integers(1, 2), c=st.integers(1, 3), f=st.integers(1, 3), k=st.integers(1, 4),
       s=st.integers(1, 3), p=st.integers(0, 2), extra=st.integers(0, 5), seed=seeds)
def test_conv1d_backward_matches_numeric_gradient(n, c, f, k, s, p, extra, seed):
    length = max(1, k - 2 * p) + extra
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((n, c, length)), rng.standard_normal((f, c, k)),
              rng.standard_normal(f)]
    report = gc.check_op(ops.conv1d_forward, ops.conv1d_backward, inputs,
                         {"stride": s, "padding": p}, seed=seed)
    assert report.passed, str(report)


@settings(max_examples=20, deadline=None)
@given(case=conv2d_case(), seed=seeds)
def test_conv2d_matches_the_naive_definition(case, seed):
    x_shape, w_shape, stride, padding = case
    x, w, b = conv_inputs(x_shape, w_shape, seed)
    y, cache = ops.conv2d_forward(x, w, b, stride, padding)
    y_ref, cache_ref = conv.conv2d_naive_forward(x, w, b, stride, padding)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    for got, ref in zip(ops.conv2d_backward(dy, cache), conv.conv2d_naive_backward(dy, cache_ref)):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_naive_backward_matches_numeric_gradient():
    report = gc.check_op(conv.conv2d_naive_forward, conv.conv2d_naive_backward,
                         conv_inputs((2, 2, 5, 4), (2, 2, 2, 3), 3),
                         {"stride": (2, 1), "padding": (1, 0)})
    assert report.passed, str(report)


@settings(max_examples=30)
@given(case=conv2d_case(), seed=seeds)
def test_input_gradient_is_a_full_convolution_with_the_flipped_kernel(case, seed):
    x_shape, w_shape, stride, padding = case
    x, w, b = conv_inputs(x_shape, w_shape, seed)
    y, cache = ops.conv2d_forward(x, w, b, stride, padding)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    dx, _, _ = ops.conv2d_backward(dy, cache)
    np.testing.assert_allclose(conv.conv2d_input_grad_full(dy, w, x.shape, stride, padding), dx,
                               rtol=1e-12, atol=1e-12)


@settings(max_examples=30)
@given(case=conv2d_case(), seed=seeds)
def test_col2im_is_the_adjoint_of_im2col(case, seed):
    """<im2col(x), c> = <x, col2im(c)> for every x and c: the scatter-add is the transpose."""
    x_shape, w_shape, stride, padding = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    cols = conv.im2col(x, w_shape[2:], stride, padding)
    c = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * conv.col2im(c, x_shape, w_shape[2:], stride, padding))
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs))


def test_im2col_rows_match_the_weight_layout():
    x = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    cols = conv.im2col(x, (2, 3), stride=1, padding=0)
    assert cols.shape == (2, 3 * 2 * 3, 3 * 3)
    # column (i, j) = (1, 2) of sample 1 is the patch x[1, :, 1:3, 2:5] flattened in C order
    np.testing.assert_array_equal(cols[1, :, 1 * 3 + 2], x[1, :, 1:3, 2:5].ravel())


def test_overlapping_patches_accumulate_in_col2im():
    ones = conv.col2im(np.ones((1, 9, 9)), (1, 1, 5, 5), 3)  # 3x3 kernel, stride 1
    # the centre pixel is in all 9 patches, a corner in one
    assert ones[0, 0, 2, 2] == 9 and ones[0, 0, 0, 0] == 1 and ones[0, 0, 0, 2] == 3


def test_output_size_and_a_hand_computed_case():
    assert conv.conv_output_size(32, 3, 2, 1) == 16
    assert conv.conv_output_size(7, 3, 2, 0) == 3
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    y, _ = ops.conv1d_forward(x, np.array([[[1.0, -1.0]]]), np.array([0.5]))
    np.testing.assert_array_equal(y, [[[-0.5, -0.5, -0.5]]])  # cross-correlation: x_i - x_{i+1}
    y, _ = ops.conv1d_forward(x, np.array([[[1.0, 1.0]]]), np.array([0.0]), stride=2, padding=1)
    np.testing.assert_array_equal(y, [[[1.0, 5.0, 4.0]]])


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 1), ((1, 2), (0, 1))])
def test_conv2d_keeps_float32(stride, padding):
    x, w, b = (a.astype(np.float32) for a in conv_inputs((2, 3, 7, 6), (4, 3, 3, 3), 5))
    y, cache = ops.conv2d_forward(x, w, b, stride, padding)
    grads = ops.conv2d_backward(np.ones_like(y), cache)
    assert y.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    y64, _ = ops.conv2d_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                                stride, padding)
    np.testing.assert_allclose(y, y64, rtol=1e-4, atol=1e-4)


def test_conv1d_keeps_float32():
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 9), (4, 3, 3), (4,)))
    y, cache = ops.conv1d_forward(x, w, b, stride=2, padding=1)
    assert y.dtype == np.float32
    assert all(g.dtype == np.float32 for g in ops.conv1d_backward(np.ones_like(y), cache))


def test_a_transposed_weight_gradient_is_caught():
    def wrong(dy, cache):
        dx, dw, db = ops.conv2d_backward(dy, cache)
        return dx, dw[:, :, ::-1, ::-1], db  # the flipped kernel: the classic slip

    report = gc.check_op(ops.conv2d_forward, wrong, conv_inputs((1, 2, 5, 5), (2, 2, 3, 3), 1))
    assert not report.passed


def test_a_col2im_that_overwrites_instead_of_adding_is_caught(monkeypatch):
    def overwriting(dcols, x_shape, kernel_size, stride=1, padding=0):
        kh, kw = conv.as_pair(kernel_size, "t", "k", 1)
        sh, sw = conv.as_pair(stride, "t", "s", 1)
        ph, pw = conv.as_pair(padding, "t", "p", 0)
        n, c, h, w = x_shape
        ho, wo = conv.conv_output_size(h, kh, sh, ph), conv.conv_output_size(w, kw, sw, pw)
        d = dcols.reshape(n, c, kh, kw, ho, wo)
        dxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
        for p in range(kh):
            for q in range(kw):
                dxp[:, :, p:p + sh * (ho - 1) + 1:sh, q:q + sw * (wo - 1) + 1:sw] = d[:, :, p, q]
        return dxp[:, :, ph:ph + h, pw:pw + w]

    monkeypatch.setattr(conv, "col2im", overwriting)
    report = gc.check_op(ops.conv2d_forward, ops.conv2d_backward,
                         conv_inputs((1, 1, 5, 5), (1, 1, 3, 3), 2))
    assert not report.passed


@pytest.mark.parametrize("args, message", [
    (((2, 3, 5, 5), (4, 2, 3, 3), (4,)), "conv2d: w must have shape (F, C, KH, KW) with C = 3"),
    (((2, 3, 5), (4, 3, 3, 3), (4,)), "conv2d: x must have shape (N, C, H, W)"),
    (((2, 3, 5, 5), (4, 3, 3, 3), (3,)), "conv2d: b must have shape (F,) = (4,)"),
    (((2, 3, 2, 5), (4, 3, 3, 3), (4,)), "conv2d: kernel (3, 3) of w"),
])
def test_conv2d_rejects_bad_shapes_with_a_clear_message(args, message):
    arrays = [np.zeros(s) for s in args]
    with pytest.raises(ValueError) as err:
        ops.conv2d_forward(*arrays)
    assert message in str(err.value)


@pytest.mark.parametrize("options, message", [
    ({"stride": 0}, "conv2d: stride must be at least 1"),
    ({"padding": -1}, "conv2d: padding must be at least 0"),
    ({"stride": (1, 2, 3)}, "conv2d: stride must be an int or a pair of ints"),
    ({"stride": 1.5}, "conv2d: stride must be an int or a pair of ints"),
])
def test_conv2d_rejects_bad_options(options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ops.conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), np.zeros(1), **options)


def test_conv1d_rejects_bad_shapes_and_a_wrong_upstream_gradient():
    with pytest.raises(ValueError, match="conv1d: w must have shape"):
        ops.conv1d_forward(np.zeros((1, 2, 5)), np.zeros((3, 1, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="conv1d: stride and padding must be ints"):
        ops.conv1d_forward(np.zeros((1, 2, 5)), np.zeros((3, 2, 2)), np.zeros(3), stride=(1, 2))
    y, cache = ops.conv1d_forward(np.zeros((1, 2, 5)), np.zeros((3, 2, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"conv1d_backward: dout must have the output's shape"):
        ops.conv1d_backward(np.zeros((1, 3, 5)), cache)


def test_conv2d_backward_rejects_a_wrong_upstream_gradient():
    y, cache = ops.conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((2, 1, 3, 3)), np.zeros(2))
    with pytest.raises(ValueError, match=r"conv2d_backward: dout must have the output's shape "
                                         r"\(1, 2, 2, 2\)"):
        ops.conv2d_backward(np.zeros((1, 2, 3, 3)), cache)


def test_col2im_rejects_patches_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"col2im: dcols must have shape \(N, C\*KH\*KW, Ho\*Wo\)"
                                         r" = \(1, 9, 9\)"):
        conv.col2im(np.zeros((1, 9, 8)), (1, 1, 5, 5), 3)
