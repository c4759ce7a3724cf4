"""Batch normalization: gradients in both layouts, the two backwards agree, edge cases, the layer."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handgrad import gradcheck as gc
from handgrad import nn, ops
from handgrad.batchnorm import batchnorm_backward_staged

seeds = st.integers(0, 2**16)


def bn_inputs(shape, seed):
    rng = np.random.default_rng(seed + 1000)  # not the checker's seed: g must not mirror x
    c = shape[1]
    return [3 * rng.standard_normal(shape) + 1, rng.uniform(0.5, 2, c), rng.standard_normal(c)]


@settings(max_examples=20)
@given(n=st.integers(3, 6), d=st.integers(1, 4), seed=seeds)
def test_batchnorm_backward_matches_numeric_gradient_for_features(n, d, seed):
    report = gc.check_op(ops.batchnorm_forward, ops.batchnorm_backward, bn_inputs((n, d), seed),
                         seed=seed)
    assert report.passed, str(report)


@settings(max_examples=15)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 3), w=st.integers(1, 3),
       seed=seeds)
def test_batchnorm_backward_matches_numeric_gradient_for_channels(n, c, h, w, seed):
    if n * h * w < 3:
        return  # one or two values per channel: see the edge-case tests
    report = gc.check_op(ops.batchnorm_forward, ops.batchnorm_backward,
                         bn_inputs((n, c, h, w), seed), seed=seed)
    assert report.passed, str(report)


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 4, 5)])
def test_staged_and_compact_backwards_agree(shape):
    x, gamma, beta = bn_inputs(shape, 1)
    y, cache = ops.batchnorm_forward(x, gamma, beta)
    g = np.random.default_rng(2).standard_normal(shape)
    for a, b in zip(ops.batchnorm_backward(g, cache), batchnorm_backward_staged(g, cache)):
        assert gc.relative_error(a, b) < 1e-12
    assert gc.check_op(ops.batchnorm_forward, batchnorm_backward_staged, [x, gamma, beta]).passed


def test_a_backward_that_forgets_the_variance_path_is_caught():
    def without_variance_term(dy, cache):
        x_hat, g, inv_std, axes, m = cache[:5]
        dbeta = dy.sum(axis=axes, keepdims=True)
        return (g * inv_std / m * (m * dy - dbeta), np.sum(dy * x_hat, axis=axes),
                dbeta.ravel())

    assert not gc.check_op(ops.batchnorm_forward, without_variance_term,
                           bn_inputs((5, 3), 3)).passed


def test_output_is_normalised_per_feature_and_per_channel():
    x, _, _ = bn_inputs((8, 3, 4, 4), 4)
    y, _ = ops.batchnorm_forward(x, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-5)  # eps shrinks it a little


def test_a_batch_of_one_gives_beta_and_a_zero_input_gradient():
    y, cache = ops.batchnorm_forward(np.array([[1.0, -2.0, 3.0]]), np.full(3, 2.0), np.arange(3.0))
    np.testing.assert_array_equal(y, [[0.0, 1.0, 2.0]])
    dx, dgamma, dbeta = ops.batchnorm_backward(np.array([[1.0, 2.0, 3.0]]), cache)
    np.testing.assert_array_equal(dx, 0.0)  # the output does not depend on x at all
    np.testing.assert_array_equal(dgamma, 0.0)
    np.testing.assert_array_equal(dbeta, [1.0, 2.0, 3.0])


def test_with_two_values_per_feature_the_output_hardly_depends_on_x():
    """m = 2: x_hat = +-sqrt(v / (v + eps)), so the gradient is of the order of eps / v; a relative
    error check on such a tiny gradient measures round-off, which is why the checks use m >= 3."""
    x = np.array([[0.0], [2.0]])
    y, cache = ops.batchnorm_forward(x, np.ones(1), np.zeros(1))
    dx = ops.batchnorm_backward(np.array([[1.0], [-1.0]]), cache)[0]
    assert np.abs(dx).max() < 1e-4
    numeric = gc.numeric_gradient(lambda v: float(np.sum([[1.0], [-1.0]] * ops.batchnorm_forward(
        v, np.ones(1), np.zeros(1))[0])), x, eps=1e-4)
    np.testing.assert_allclose(dx, numeric, atol=1e-9)


def test_a_constant_feature_stays_finite_and_its_gradient_is_centred_and_large():
    x = np.column_stack([np.full(4, 5.0), np.arange(4.0)])
    y, cache = ops.batchnorm_forward(x, np.ones(2), np.zeros(2), eps=1e-5)
    assert np.all(np.isfinite(y)) and np.all(y[:, 0] == 0)
    g = np.array([[1.0, 0], [2.0, 0], [0.0, 0], [-1.0, 0]])
    dx = ops.batchnorm_backward(g, cache)[0]
    # variance 0: x_hat = 0 and dx = gamma (g - mean g) / sqrt(eps), finite but 316 times g
    np.testing.assert_allclose(dx[:, 0], (g[:, 0] - g[:, 0].mean()) / np.sqrt(1e-5), rtol=1e-12)
    report = gc.check_op(ops.batchnorm_forward, ops.batchnorm_backward,
                         [x, np.ones(2), np.zeros(2)], eps=1e-7)
    assert report.passed, str(report)


def test_float32_in_float32_out():
    x, gamma, beta = (a.astype(np.float32) for a in bn_inputs((4, 3), 5))
    y, cache = ops.batchnorm_forward(x, gamma, beta)
    grads = ops.batchnorm_backward(np.ones_like(y), cache)
    assert y.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)


@pytest.mark.parametrize("args, message", [
    ((np.zeros((4, 3)), np.ones(2), np.zeros(3)),
     r"batchnorm: gamma must have shape \(D,\) = \(3,\) to match x \(4, 3\), got shape \(2,\)"),
    ((np.zeros((4, 3, 2, 2)), np.ones(3), np.zeros(4)),
     r"batchnorm: beta must have shape \(C,\) = \(3,\) to match x \(4, 3, 2, 2\), got shape \(4,\)"),
    ((np.zeros((4, 3, 2)), np.ones(3), np.zeros(3)),
     r"batchnorm: x must have shape \(N, D\) or \(N, C, H, W\), got shape \(4, 3, 2\)"),
    ((np.zeros((0, 3)), np.ones(3), np.zeros(3)),
     r"batchnorm: x must hold at least one sample"),
])
def test_batchnorm_rejects_bad_shapes(args, message):
    with pytest.raises(ValueError, match=message):
        ops.batchnorm_forward(*args)


def test_layer_tracks_running_statistics_and_switches_to_inference():
    rng = np.random.default_rng(6)
    layer = nn.BatchNorm(3, momentum=0.5)
    for _ in range(30):
        layer.forward(2.0 * rng.standard_normal((64, 3)) + 4.0)
    np.testing.assert_allclose(layer.running_mean, 4.0, atol=0.3)
    np.testing.assert_allclose(layer.running_var, 4.0, rtol=0.25)
    layer.training = False
    x = rng.standard_normal((5, 3))
    y = layer.forward(x)
    np.testing.assert_allclose(y, (x - layer.running_mean) / np.sqrt(layer.running_var + 1e-5))
    g = rng.standard_normal((5, 3))
    dx = layer.backward(g)
    numeric = gc.numeric_gradient(lambda v: np.sum(g * layer.forward(v)), x)
    assert gc.relative_error(dx, numeric) < 1e-8


def test_layer_in_training_mode_backpropagates_through_the_batch_statistics():
    rng = np.random.default_rng(7)
    model = nn.Sequential(nn.Linear(3, 4, rng), nn.BatchNorm(4), nn.ReLU(), nn.Linear(4, 2, rng))
    x, g = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    model.forward(x)
    dx = model.backward(g)
    numeric = gc.numeric_gradient(lambda v: np.sum(g * model.forward(v)), x)
    assert gc.relative_error(dx, numeric) < 1e-6
