"""Locally connected and tiled convolution: gradients over random configurations, the special
cases that make them a convolution, and the inclusions of note 000, problem 46.4: outputs equal,
gradients equal once mapped back through each embedding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handgrad import gradcheck as gc
from handgrad import inclusions as inc
from handgrad import local, ops
from handgrad.conv import conv_output_size

seeds = st.integers(0, 2**16)


@st.composite
def local_case(draw):
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    s = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    h = draw(st.integers(max(1, kh - 2 * p[0]), 6))
    w = draw(st.integers(max(1, kw - 2 * p[1]), 6))
    ho, wo = conv_output_size(h, kh, s[0], p[0]), conv_output_size(w, kw, s[1], p[1])
    tiles = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    return (n, c, h, w), (f, c, kh, kw), (ho, wo), s, p, tiles


@settings(max_examples=30)
@given(case=local_case(), seed=seeds)
def test_locally_connected2d_backward_matches_numeric_gradient(case, seed):
    x_shape, (f, c, kh, kw), (ho, wo), s, p, _ = case
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal(x_shape), rng.standard_normal((ho, wo, f, c, kh, kw)),
              rng.standard_normal((f, ho, wo))]
    report = gc.check_op(ops.locally_connected2d_forward, ops.locally_connected2d_backward,
                         inputs, {"stride": s, "padding": p}, seed=seed)
    assert report.passed, str(report)


@settings(max_examples=30)
@given(case=local_case(), seed=seeds)
def test_tiled_conv2d_backward_matches_numeric_gradient(case, seed):
    x_shape, (f, c, kh, kw), _, s, p, (th, tw) = case
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal(x_shape), rng.standard_normal((th, tw, f, c, kh, kw)),
              rng.standard_normal(f)]
    report = gc.check_op(ops.tiled_conv2d_forward, ops.tiled_conv2d_backward, inputs,
                         {"stride": s, "padding": p}, seed=seed)
    assert report.passed, str(report)


def test_local_ops_match_directional_derivatives_on_a_larger_input():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 9, 8))
    report = gc.check_op(ops.tiled_conv2d_forward, ops.tiled_conv2d_backward,
                         [x, rng.standard_normal((2, 3, 4, 2, 3, 3)), rng.standard_normal(4)],
                         {"stride": 1, "padding": 1}, method="directional")
    assert report.passed, str(report)
    report = gc.check_op(ops.locally_connected2d_forward, ops.locally_connected2d_backward,
                         [x, rng.standard_normal((5, 4, 4, 2, 3, 3)),
                          rng.standard_normal((4, 5, 4))], {"stride": 2, "padding": 1},
                         method="directional")
    assert report.passed, str(report)


def test_tiled_position_i_j_uses_kernel_i_mod_th_j_mod_tw():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 1, 5, 5))
    w = rng.standard_normal((2, 3, 1, 1, 2, 2))
    y, _ = ops.tiled_conv2d_forward(x, w, np.zeros(1))
    for i, j in [(0, 0), (1, 2), (3, 3), (2, 1)]:
        expected = np.sum(w[i % 2, j % 3, 0, 0] * x[0, 0, i:i + 2, j:j + 2])
        assert abs(y[0, 0, i, j] - expected) < 1e-12


def test_block_and_cycle_tilings_differ():
    np.testing.assert_array_equal(local.tile_index(6, 2, "cycle"), [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(local.tile_index(6, 2, "block"), [0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="tile_index: mode must be 'cycle' or 'block'"):
        local.tile_index(6, 2, "division")


@settings(max_examples=20)
@given(case=local_case(), seed=seeds)
def test_each_inclusion_gives_the_same_output_and_maps_gradients_back(case, seed):
    x_shape, (f, c, kh, kw), (ho, wo), s, p, (th, tw) = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    g = rng.standard_normal((x_shape[0], f, ho, wo))

    # convolution = tiled convolution with one tile
    w, b = rng.standard_normal((f, c, kh, kw)), rng.standard_normal(f)
    y_conv, c_conv = ops.conv2d_forward(x, w, b, s, p)
    y_tile, c_tile = ops.tiled_conv2d_forward(x, inc.conv_to_tiled(w), b, s, p)
    np.testing.assert_allclose(y_tile, y_conv, rtol=1e-12, atol=1e-12)
    dx1, dw1, db1 = ops.conv2d_backward(g, c_conv)
    dx2, dw2, db2 = ops.tiled_conv2d_backward(g, c_tile)
    np.testing.assert_allclose(dx2, dx1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(inc.tiled_from_conv_grad(dw2), dw1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db2, db1, rtol=1e-12, atol=1e-12)

    # tiled = locally connected with tied weights
    wt = rng.standard_normal((th, tw, f, c, kh, kw))
    y_t, c_t = ops.tiled_conv2d_forward(x, wt, b, s, p)
    w_lc, b_lc = inc.tiled_to_locally_connected(wt, b, (ho, wo))
    y_l, c_l = ops.locally_connected2d_forward(x, w_lc, b_lc, s, p)
    np.testing.assert_array_equal(y_l, y_t)
    _, dwt, dbt = ops.tiled_conv2d_backward(g, c_t)
    _, dwl, dbl = ops.locally_connected2d_backward(g, c_l)
    back_w, back_b = inc.tiled_from_locally_connected_grad(dwl, dbl, (th, tw))
    np.testing.assert_allclose(back_w, dwt, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(back_b, dbt, rtol=1e-12, atol=1e-12)

    # locally connected = fully connected on the flattened input
    W, bd = inc.locally_connected_to_dense(w_lc, b_lc, x_shape[1:], s, p)
    y_d, c_d = ops.linear_forward(x.reshape(x_shape[0], -1), W, bd)
    np.testing.assert_allclose(y_d.reshape(y_l.shape), y_l, rtol=1e-12, atol=1e-12)
    dxd, dWd, dbd = ops.linear_backward(g.reshape(x_shape[0], -1), c_d)
    dxl, _, _ = ops.locally_connected2d_backward(g, c_l)
    np.testing.assert_allclose(dxd.reshape(x_shape), dxl, rtol=1e-12, atol=1e-12)
    back_w, back_b = inc.locally_connected_from_dense_grad(dWd, dbd, w_lc.shape, x_shape[1:], s, p)
    np.testing.assert_allclose(back_w, dwl, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(back_b, dbl, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel, stride", [(2, None), (3, 1), ((2, 3), (2, 1))])
def test_average_pooling_is_a_convolution_with_a_fixed_kernel(kernel, stride):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 8))
    w, b = inc.avg_pool_as_conv(3, kernel)
    s = kernel if stride is None else stride
    y_pool, c_pool = ops.avg_pool2d_forward(x, kernel, stride)
    y_conv, c_conv = ops.conv2d_forward(x, w, b, s)
    np.testing.assert_allclose(y_conv, y_pool, rtol=1e-13, atol=1e-15)
    g = rng.standard_normal(y_pool.shape)
    np.testing.assert_allclose(ops.conv2d_backward(g, c_conv)[0],
                               ops.avg_pool2d_backward(g, c_pool), rtol=1e-13, atol=1e-15)


def test_a_tiled_backward_that_keeps_only_one_copy_is_caught():
    def one_copy(dy, cache):
        lc_cache, w_shape = cache
        dx, dw_lc, db_lc = local.locally_connected2d_backward(dy, lc_cache)
        dw = dw_lc[:w_shape[0], :w_shape[1]]  # assigns instead of summing the copies
        return dx, dw, db_lc.sum(axis=(1, 2))

    rng = np.random.default_rng(3)
    report = gc.check_op(ops.tiled_conv2d_forward, one_copy,
                         [rng.standard_normal((1, 1, 5, 5)), rng.standard_normal((2, 2, 1, 1, 2, 2)),
                          rng.standard_normal(1)])
    assert not report.passed


@pytest.mark.parametrize("op", ["locally_connected2d", "tiled_conv2d"])
def test_local_ops_keep_float32(op):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    if op == "tiled_conv2d":
        w, b = rng.standard_normal((2, 2, 3, 2, 3, 3)), rng.standard_normal(3)
    else:
        w, b = rng.standard_normal((3, 3, 3, 2, 3, 3)), rng.standard_normal((3, 3, 3))
    y, cache = getattr(ops, f"{op}_forward")(x, w.astype(np.float32), b.astype(np.float32))
    grads = getattr(ops, f"{op}_backward")(np.ones_like(y), cache)
    assert y.dtype == np.float32 and all(gr.dtype == np.float32 for gr in grads)


@pytest.mark.parametrize("call, message", [
    (lambda: ops.locally_connected2d_forward(np.zeros((1, 2, 5, 5)), np.zeros((4, 3, 1, 2, 2, 2)),
                                             np.zeros((1, 4, 4))),
     "locally_connected2d: w must have shape (Ho, Wo, F, C, KH, KW) with (Ho, Wo) = (4, 4)"),
    (lambda: ops.locally_connected2d_forward(np.zeros((1, 2, 5, 5)), np.zeros((4, 4, 1, 2, 2, 2)),
                                             np.zeros((1,))),
     "locally_connected2d: b must have shape (F, Ho, Wo) = (1, 4, 4)"),
    (lambda: ops.tiled_conv2d_forward(np.zeros((1, 2, 5, 5)), np.zeros((2, 2, 1, 3, 2, 2)),
                                      np.zeros(1)),
     "tiled_conv2d: w must have shape (TH, TW, F, C, KH, KW) with C = 2"),
    (lambda: ops.tiled_conv2d_forward(np.zeros((1, 2, 5, 5)), np.zeros((2, 2, 1, 2, 2)),
                                      np.zeros(1)),
     "tiled_conv2d: w must have shape (TH, TW, F, C, KH, KW) (6-D)"),
])
def test_local_ops_reject_bad_shapes_with_a_clear_message(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)


def test_tiled_backward_names_itself_on_a_wrong_upstream_gradient():
    y, cache = ops.tiled_conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 1, 3, 3)),
                                        np.zeros(2))
    with pytest.raises(ValueError, match="tiled_conv2d_backward: dout must have the output's"):
        ops.tiled_conv2d_backward(np.zeros((1, 2, 3, 3)), cache)
