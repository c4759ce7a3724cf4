"""Bilinear forms and the bilinear layer: gradients over random shapes, the forms as special cases
of one another, the einsum definition, dtypes, a wrong backward caught, bad input, the layer."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _checks import assert_parameter_gradients_match
from handgrad import bilinear as bl
from handgrad import gradcheck as gc
from handgrad import nn, ops, optim, training

seeds = st.integers(0, 2**16)
sizes = st.integers(1, 4)


def randn(rng, *shapes):
    return [rng.standard_normal(s) for s in shapes]


@settings(max_examples=30)
@given(d1=sizes, d2=sizes, seed=seeds)
def test_bilinear_form_backward_matches_numeric_gradient(d1, d2, seed):
    inputs = randn(np.random.default_rng(seed), (d1,), (d2,), (d1, d2))
    report = gc.check_op(bl.bilinear_form_forward, bl.bilinear_form_backward, inputs, seed=seed)
    assert report.passed, str(report)


@settings(max_examples=30)
@given(n1=sizes, n2=sizes, d1=sizes, d2=sizes, seed=seeds)
def test_bilinear_pairs_backward_matches_numeric_gradient(n1, n2, d1, d2, seed):
    inputs = randn(np.random.default_rng(seed), (n1, d1), (n2, d2), (d1, d2))
    report = gc.check_op(bl.bilinear_pairs_forward, bl.bilinear_pairs_backward, inputs, seed=seed)
    assert report.passed, str(report)


@settings(max_examples=30)
@given(n=sizes, d1=sizes, d2=sizes, seed=seeds)
def test_bilinear_rows_backward_matches_numeric_gradient(n, d1, d2, seed):
    inputs = randn(np.random.default_rng(seed), (n, d1), (n, d2), (d1, d2))
    report = gc.check_op(bl.bilinear_rows_forward, bl.bilinear_rows_backward, inputs, seed=seed)
    assert report.passed, str(report)


@pytest.mark.parametrize("method", ["full", "complex"])
@settings(max_examples=30)
@given(n=sizes, m=sizes, d1=sizes, d2=sizes, seed=seeds)
def test_bilinear_backward_matches_numeric_gradient_and_complex_step(method, n, m, d1, d2, seed):
    inputs = randn(np.random.default_rng(seed), (n, d1), (n, d2), (m, d1, d2), (m,))
    report = gc.check_op(ops.bilinear_forward, ops.bilinear_backward, inputs, method=method,
                         seed=seed)
    assert report.passed, str(report)


def test_bilinear_backward_matches_directional_derivatives_on_a_larger_input():
    inputs = randn(np.random.default_rng(0), (32, 20), (32, 24), (16, 20, 24), (16,))
    report = gc.check_op(ops.bilinear_forward, ops.bilinear_backward, inputs,
                         method="directional")
    assert report.passed, str(report)


@settings(max_examples=30)
@given(n=sizes, m=sizes, d1=sizes, d2=sizes, seed=seeds)
def test_bilinear_is_the_einsum_of_its_definition(n, m, d1, d2, seed):
    x1, x2, A, b = randn(np.random.default_rng(seed), (n, d1), (n, d2), (m, d1, d2), (m,))
    y, _ = ops.bilinear_forward(x1, x2, A, b)
    np.testing.assert_allclose(y, np.einsum("ni,mij,nj->nm", x1, A, x2) + b, rtol=1e-12,
                               atol=1e-12)


def test_each_form_is_a_special_case_of_the_next_and_so_are_its_gradients():
    rng = np.random.default_rng(1)
    X, Y, A3 = randn(rng, (5, 3), (5, 4), (2, 3, 4))
    A = A3[1]
    pairs, _ = bl.bilinear_pairs_forward(X, Y, A)
    rows, rows_cache = bl.bilinear_rows_forward(X, Y, A)
    form, form_cache = bl.bilinear_form_forward(X[2], Y[2], A)
    layer, layer_cache = ops.bilinear_forward(X, Y, A3, np.zeros(2))
    np.testing.assert_allclose(rows, np.diag(pairs), rtol=1e-12)   # rows: the diagonal of pairs
    np.testing.assert_allclose(form, rows[2], rtol=1e-12)          # one row is the scalar form
    np.testing.assert_allclose(layer[:, 1], rows, rtol=1e-12)      # one output of the layer
    # The gradients agree too: an upstream gradient on output 1 only gives section 8's gradients.
    g = rng.standard_normal(5)
    G = np.zeros((5, 2))
    G[:, 1] = g
    dx1, dx2, dA, db = ops.bilinear_backward(G, layer_cache)
    dX, dY, dA_rows = bl.bilinear_rows_backward(g, rows_cache)
    np.testing.assert_allclose(dx1, dX, rtol=1e-12)
    np.testing.assert_allclose(dx2, dY, rtol=1e-12)
    np.testing.assert_allclose(dA[1], dA_rows, rtol=1e-12)
    assert not dA[0].any()
    dx, dy, dA_form = bl.bilinear_form_backward(g[2], form_cache)
    np.testing.assert_allclose(dx, dX[2], rtol=1e-12)
    np.testing.assert_allclose(dy, dY[2], rtol=1e-12)


def test_a_dy_with_A_in_place_of_A_transposed_is_caught():
    """Section 10 of the notes writes dL/dy = sum_i dL/dz_i A_i^T x: with square slices the
    shapes agree, and only a check can tell it from sum_i dL/dz_i A_i x."""
    def wrong_backward(dy, cache):
        dx1, dx2, dA, db = ops.bilinear_backward(dy, cache)
        x1, _, A, _ = cache
        return dx1, np.einsum("nm,mij,ni->nj", dy, A.transpose(0, 2, 1), x1), dA, db

    inputs = randn(np.random.default_rng(2), (4, 3), (4, 3), (2, 3, 3), (2,))
    report = gc.check_op(ops.bilinear_forward, wrong_backward, inputs)
    assert not report.passed
    assert [row.passed for row in report.rows] == [True, False, True, True]


def test_bilinear_keeps_float32():
    x1, x2, A, b = (a.astype(np.float32)
                    for a in randn(np.random.default_rng(3), (4, 3), (4, 2), (5, 3, 2), (5,)))
    y, cache = ops.bilinear_forward(x1, x2, A, b)
    assert y.dtype == np.float32
    assert all(g.dtype == np.float32 for g in ops.bilinear_backward(np.ones((4, 5)), cache))
    for fwd, bwd, args, dout in [
            (bl.bilinear_form_forward, bl.bilinear_form_backward, (x1[0], x2[0], A[0]), 1.0),
            (bl.bilinear_rows_forward, bl.bilinear_rows_backward, (x1, x2, A[0]),
             np.ones(4, np.float32)),
            (bl.bilinear_pairs_forward, bl.bilinear_pairs_backward, (x1, x2, A[0]),
             np.ones((4, 4), np.float32))]:
        z, c = fwd(*args)
        assert z.dtype == np.float32
        assert all(g.dtype == np.float32 for g in bwd(dout, c))


@pytest.mark.parametrize("args, message", [
    (((4, 3), (4, 2), (5, 3, 2), (5,)), None),
    (((4, 3), (3, 2), (5, 3, 2), (5,)), r"bilinear: x2 must have shape \(N, D2\) with N = 4"),
    (((4, 3), (4, 2), (5, 2, 3), (5,)), r"bilinear: A must have shape \(M, D1, D2\) with "
                                        r"\(D1, D2\) = \(3, 2\)"),
    (((4, 3), (4, 2), (5, 3, 2), (4,)), r"bilinear: b must have shape \(M,\) = \(5,\)"),
    (((4,), (4, 2), (5, 3, 2), (5,)), r"bilinear: x1 must have shape \(N, D1\) \(2-D\)"),
    (((4, 3), (4, 2), (3, 2), (5,)), r"bilinear: A must have shape \(M, D1, D2\) \(3-D\)"),
])
def test_bilinear_rejects_bad_shapes_naming_the_argument(args, message):
    inputs = randn(np.random.default_rng(4), *args)
    if message is None:
        ops.bilinear_forward(*inputs)
        return
    with pytest.raises(ValueError, match=message):
        ops.bilinear_forward(*inputs)


def test_the_forms_reject_bad_shapes_and_a_wrong_upstream_gradient():
    rng = np.random.default_rng(5)
    with pytest.raises(ValueError, match=r"bilinear_form: A must have shape \(D1, D2\) = "
                                         r"\(3, 2\)"):
        bl.bilinear_form_forward(*randn(rng, (3,), (2,), (2, 3)))
    with pytest.raises(ValueError, match=r"bilinear_rows: Y must have as many rows as X"):
        bl.bilinear_rows_forward(*randn(rng, (4, 3), (5, 2), (3, 2)))
    with pytest.raises(ValueError, match=r"bilinear_pairs: x must have shape \(N1, D1\)"):
        bl.bilinear_pairs_forward(*randn(rng, (3,), (5, 2), (3, 2)))
    _, cache = ops.bilinear_forward(*randn(rng, (4, 3), (4, 2), (5, 3, 2), (5,)))
    with pytest.raises(ValueError, match=r"bilinear_backward: dout must have the output's shape "
                                         r"\(4, 5\)"):
        ops.bilinear_backward(np.ones((5, 4)), cache)


def test_bilinear_layer_gradients_match_numeric_gradient():
    rng = np.random.default_rng(6)
    model = nn.Sequential(nn.Bilinear(3, 2, 4, rng), nn.Tanh(), nn.Linear(4, 3, rng))
    model.layers[0].b.value = rng.standard_normal(4)
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    assert_parameter_gradients_match(model, lambda: training.network_loss_and_grads(model, X, y))
    g = rng.standard_normal((6, 3))
    model.forward(X)
    dx = model.backward(g)
    numeric = gc.numeric_gradient(lambda x: np.sum(g * model.forward(x)), X)
    assert gc.relative_error(dx, numeric) < 1e-7


def test_bilinear_layer_splits_its_input_and_rejects_the_wrong_width():
    rng = np.random.default_rng(7)
    layer = nn.Bilinear(3, 2, 4, rng)
    assert repr(layer) == "Bilinear(3 x 2 -> 4)"
    assert np.abs(layer.A.value).max() <= 1 / np.sqrt(3)
    x = rng.standard_normal((5, 5))
    expected, _ = ops.bilinear_forward(x[:, :3], x[:, 3:], layer.A.value, layer.b.value)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12)
    with pytest.raises(ValueError, match=r"Bilinear: x must have shape \(N, D1 \+ D2\) = "
                                         r"\(N, 5\), got shape \(5, 4\)"):
        layer.forward(x[:, :4])


def test_a_bilinear_layer_learns_the_sign_of_a_product_and_a_linear_layer_cannot():
    rng = np.random.default_rng(8)
    X = rng.uniform(-1, 1, (400, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)             # XOR of the two signs
    accuracies = {}
    for name, layer in [("bilinear", nn.Bilinear(1, 1, 2, rng)), ("linear", nn.Linear(2, 2, rng))]:
        model = nn.Sequential(layer)
        training.fit(model, optim.Adam(model.parameters(), lr=0.05), X, y, epochs=30,
                     batch_size=32, rng=rng)
        accuracies[name] = training.accuracy(model, X, y)
    assert accuracies["bilinear"] > 0.97
    assert accuracies["linear"] < 0.7
