"""Tensor contractions and the tensor-to-tensor dense layer: gradients, agreement with the
flattened matrix forms, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handgrad import gradcheck as gc
from handgrad import ops, tensors

seeds = st.integers(0, 2**16)
dims = st.lists(st.integers(1, 3), min_size=0, max_size=2)


@settings(max_examples=40)
@given(i=dims, p=dims, j=dims, seed=seeds)
def test_contract_backward_matches_numeric_gradient(i, p, j, seed):
    rng = np.random.default_rng(seed)
    W, X = rng.standard_normal(i + p), rng.standard_normal(p + j)
    report = gc.check_op(tensors.contract_forward, tensors.contract_backward, [W, X],
                         {"k": len(p)}, seed=seed)
    assert report.passed, str(report)


@settings(max_examples=30)
@given(i=dims, p=dims, j=dims, seed=seeds)
def test_contract_is_a_matrix_product_of_the_flattened_multi_indices(i, p, j, seed):
    rng = np.random.default_rng(seed)
    W, X = rng.standard_normal(i + p), rng.standard_normal(p + j)
    Y, _ = tensors.contract_forward(W, X, len(p))
    ni, npp, nj = (int(np.prod(s)) for s in (i, p, j))
    np.testing.assert_allclose(Y.reshape(ni, nj), W.reshape(ni, npp) @ X.reshape(npp, nj),
                               rtol=1e-12, atol=1e-12)


@settings(max_examples=30)
@given(n=st.integers(1, 3), s_in=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       s_out=st.lists(st.integers(1, 3), min_size=1, max_size=3), seed=seeds)
def test_tensor_dense_backward_matches_numeric_gradient(n, s_in, s_out, seed):
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal([n] + s_in), rng.standard_normal(s_out + s_in),
              rng.standard_normal(s_out)]
    report = gc.check_op(tensors.tensor_dense_forward, tensors.tensor_dense_backward, inputs,
                         seed=seed)
    assert report.passed, str(report)


def test_tensor_dense_is_linear_on_flattened_inputs_and_so_are_its_gradients():
    rng = np.random.default_rng(0)
    x, W, b = (rng.standard_normal(s) for s in ((4, 2, 3, 2), (3, 2, 2, 3, 2), (3, 2)))
    y, cache = tensors.tensor_dense_forward(x, W, b)
    y2, cache2 = ops.linear_forward(x.reshape(4, -1), W.reshape(6, -1), b.ravel())
    np.testing.assert_allclose(y.reshape(4, -1), y2, rtol=1e-13)
    g = rng.standard_normal(y.shape)
    for a, b2 in zip(tensors.tensor_dense_backward(g, cache),
                     ops.linear_backward(g.reshape(4, -1), cache2)):
        np.testing.assert_allclose(a.ravel(), b2.ravel(), rtol=1e-12, atol=1e-13)


def test_inner_is_the_sum_of_elementwise_products():
    A = np.arange(24.0).reshape(2, 3, 4)
    assert tensors.inner(A, np.ones_like(A)) == A.sum()
    with pytest.raises(ValueError, match=r"inner: B must have the shape of A \(2, 3, 4\)"):
        tensors.inner(A, np.ones((2, 3)))


def test_contract_with_a_swapped_gradient_is_caught():
    def swapped(dY, cache):
        dW, dX = tensors.contract_backward(dY, cache)
        return dW * 2, dX  # a dropped factor (the gradient of W scaled) must fail

    rng = np.random.default_rng(1)
    assert not gc.check_op(tensors.contract_forward, swapped,
                           [rng.standard_normal((2, 3)), rng.standard_normal((3, 2))],
                           {"k": 1}).passed


@pytest.mark.parametrize("call, message", [
    (lambda: tensors.contract_forward(np.zeros((2, 3)), np.zeros((4, 2)), 1),
     "contract: X must start with the last 1 axes of W (3,)"),
    (lambda: tensors.contract_forward(np.zeros((2, 3)), np.zeros((3, 2)), 3),
     "contract: k must be an int between 0 and"),
    (lambda: tensors.tensor_dense_forward(np.zeros((2, 3, 4)), np.zeros((5, 4, 3)), np.zeros(5)),
     "tensor_dense: W must have shape S_out + S_in with S_in = (3, 4)"),
    (lambda: tensors.tensor_dense_forward(np.zeros((2, 3)), np.zeros((5, 3)), np.zeros(4)),
     "tensor_dense: b must have shape S_out = (5,)"),
])
def test_bad_shapes_raise_a_clear_error(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)
