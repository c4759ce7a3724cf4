"""Layers, the sequential container, optimisers and the training loop."""

import numpy as np
import pytest

from _checks import assert_parameter_gradients_match
from handgrad import gradcheck as gc
from handgrad import nn, optim, training


def mlp(rng, sizes=(3, 5, 4, 3), act=nn.Tanh):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, rng, init="glorot"))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


@pytest.mark.parametrize("act", [nn.Tanh, nn.Sigmoid, nn.ReLU])
def test_sequential_parameter_gradients_match_numeric_gradient(act):
    rng = np.random.default_rng(0)
    model = mlp(rng, act=act)
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    assert_parameter_gradients_match(model, lambda: training.network_loss_and_grads(model, X, y))


def input_gradients(seed, skip=()):
    """The input gradient of a small MLP by its backward (skipping layers of the types in
    `skip`, to simulate a bug) and by central differences."""
    rng = np.random.default_rng(seed)
    model = mlp(rng)
    X, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    model.forward(X)
    dy = g
    for layer in reversed(model.layers):
        if not isinstance(layer, skip):
            dy = layer.backward(dy)
    numeric = gc.numeric_gradient(lambda x: np.sum(g * model.forward(x)), X)
    return dy, numeric


def test_sequential_input_gradient_matches_numeric_gradient():
    dx, numeric = input_gradients(1)
    assert gc.relative_error(dx, numeric) < 1e-7


def test_a_sequential_that_skips_a_layer_backward_is_caught():
    dx, numeric = input_gradients(2, skip=(nn.Tanh,))  # forgets the activation's derivative
    assert gc.relative_error(dx, numeric) > 1e-2


def test_backward_accumulates_and_zero_grad_resets():
    rng = np.random.default_rng(3)
    layer = nn.Linear(2, 2, rng)
    x = rng.standard_normal((3, 2))
    layer.forward(x)
    layer.backward(np.ones((3, 2)))
    first = layer.W.grad.copy()
    layer.backward(np.ones((3, 2)))
    np.testing.assert_allclose(layer.W.grad, 2 * first)
    nn.Sequential(layer).zero_grad()
    assert not layer.W.grad.any() and not layer.b.grad.any()


def test_initialisations_have_the_stated_variance():
    rng = np.random.default_rng(4)
    he = nn.he_normal(400, 300, rng)
    gl = nn.glorot_uniform(400, 300, rng)
    assert he.shape == (300, 400) and gl.shape == (300, 400)
    assert he.var() == pytest.approx(2 / 400, rel=0.03)
    assert gl.var() == pytest.approx(2 / 700, rel=0.03)  # U(-a, a) has variance a^2 / 3
    with pytest.raises(ValueError, match="Linear: init must be 'he' or 'glorot'"):
        nn.Linear(2, 2, rng, init="zeros")


def test_sgd_with_momentum_follows_its_recursion():
    p = nn.Parameter(np.array([1.0, -2.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad[...] = [1.0, 1.0]
    opt.step()
    np.testing.assert_allclose(p.value, [0.9, -2.1])
    opt.step()  # v = 0.9 * (-0.1) - 0.1 = -0.19
    np.testing.assert_allclose(p.value, [0.71, -2.29])


def test_adam_first_step_is_lr_times_the_sign_of_the_gradient():
    p = nn.Parameter(np.array([1.0, 1.0, 1.0]))
    opt = optim.Adam([p], lr=0.01)
    p.grad[...] = [3.0, -0.5, 1e-3]
    opt.step()
    np.testing.assert_allclose(p.value, 1.0 - 0.01 * np.sign([3.0, -0.5, 1e-3]), rtol=1e-5)


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.0),
                                  lambda ps: optim.SGD(ps, lr=0.1, momentum=1.0),
                                  lambda ps: optim.Adam(ps, lr=0.1, betas=(1.0, 0.9))])
def test_optimisers_reject_bad_hyperparameters(make):
    with pytest.raises(ValueError):
        make([nn.Parameter(np.zeros(2))])


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_fit_learns_separable_blobs(opt):
    rng = np.random.default_rng(5)
    centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    y = np.repeat(np.arange(3), 40)
    X = centers[y] + 0.5 * rng.standard_normal((120, 2))
    model = mlp(rng, sizes=(2, 8, 3))
    make = {"sgd": lambda: optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
            "adam": lambda: optim.Adam(model.parameters(), lr=0.02)}[opt]
    history = training.fit(model, make(), X, y, epochs=30, batch_size=16, rng=rng)
    assert len(history.loss) == 30
    assert history.loss[-1] < 0.25 * history.loss[0]
    assert history.train_accuracy[-1] > 0.95


def test_fit_rejects_mismatched_targets():
    rng = np.random.default_rng(6)
    model = mlp(rng, sizes=(2, 3))
    with pytest.raises(ValueError, match=r"fit: y must have 4 rows to match X \(4, 2\)"):
        training.fit(model, optim.SGD(model.parameters()), np.zeros((4, 2)), np.zeros(3, int),
                     epochs=1, batch_size=2, rng=rng)


def small_cnn(rng):
    return nn.Sequential(nn.Conv2d(1, 3, 3, rng, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(3, 4, (2, 3), rng, stride=(1, 2), padding=(0, 1)), nn.Tanh(),
                         nn.AvgPool2d(2, stride=1), nn.Flatten(), nn.Linear(4, 3, rng))


def test_cnn_parameter_gradients_match_numeric_gradient():
    """Every parameter of a conv-relu-maxpool-conv-tanh-avgpool-flatten-linear network.

    The input is chosen so that no relu input sits near 0 and no max-pool window holds a near
    tie, or a central difference would straddle a kink."""
    rng = np.random.default_rng(3)
    model = small_cnn(rng)
    X, y = rng.standard_normal((3, 1, 6, 6)), np.array([0, 2, 1])
    relu_in = model.layers[0].forward(X)
    assert np.abs(relu_in).min() > 1e-4
    pooled = model.layers[2].forward(model.layers[1].forward(relu_in))
    pooled_windows = np.maximum(relu_in, 0).reshape(3, 3, 3, 2, 3, 2)
    top2 = np.sort(pooled_windows.transpose(0, 1, 2, 4, 3, 5).reshape(3, 3, 3, 3, 4))[..., -2:]
    assert np.all((top2[..., 1] == 0) | (top2[..., 1] - top2[..., 0] > 1e-3))
    assert pooled.shape == (3, 3, 3, 3)
    assert_parameter_gradients_match(model, lambda: training.network_loss_and_grads(model, X, y))


def test_cnn_input_gradient_matches_numeric_gradient():
    rng = np.random.default_rng(4)
    model = small_cnn(rng)
    X, g = rng.standard_normal((2, 1, 6, 6)), rng.standard_normal((2, 3))
    model.forward(X)
    dx = model.backward(g)
    numeric = gc.numeric_gradient(lambda x: np.sum(g * model.forward(x)), X)
    assert dx.shape == X.shape
    assert gc.relative_error(dx, numeric) < 1e-7


def test_conv2d_layer_is_he_initialised_and_accumulates_gradients():
    rng = np.random.default_rng(5)
    layer = nn.Conv2d(16, 64, 3, rng)
    assert layer.w.value.shape == (64, 16, 3, 3) and np.all(layer.b.value == 0)
    assert abs(layer.w.value.var() / (2 / (16 * 9)) - 1) < 0.1
    x = rng.standard_normal((2, 16, 5, 5))
    y = layer.forward(x)
    layer.backward(np.ones_like(y))
    first = layer.w.grad.copy()
    layer.backward(np.ones_like(y))
    np.testing.assert_allclose(layer.w.grad, 2 * first)


def test_a_cnn_learns_the_digits():
    from handgrad import data

    X, y = data.load_digits()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_fraction=0.3, seed=0)
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, rng, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 10, rng))
    opt = optim.Adam(model.parameters(), lr=0.01)
    training.fit(model, opt, X_train, y_train, epochs=3, batch_size=64, rng=rng)
    assert training.accuracy(model, X_test, y_test) > 0.85


def test_flatten_and_reshape_move_no_number_and_invert_each_other():
    x = np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5)
    model = nn.Sequential(nn.Flatten(), nn.Reshape(3, 4, 5))
    np.testing.assert_array_equal(model.forward(x), x)
    np.testing.assert_array_equal(model.backward(x + 1), x + 1)
    with pytest.raises(ValueError, match=r"Reshape: samples of shape \(3, 4, 5\) cannot be"):
        nn.Reshape(7).forward(x)


@pytest.mark.parametrize("cell", [nn.RNN, nn.LSTM])
def test_sequence_model_parameter_gradients_match_numeric_gradient(cell):
    """A recurrent layer, then the same linear map at every step, then a loss on every step."""
    from handgrad import ops

    rng = np.random.default_rng(6)
    model = nn.Sequential(cell(3, 4, rng), nn.Linear(4, 5, rng))
    X, y = rng.standard_normal((2, 6, 3)), rng.integers(0, 5, (2, 6))

    def loss_and_grads():
        model.zero_grad()
        logits = model.forward(X)
        value, cache = ops.cross_entropy_forward(logits.reshape(-1, 5), y.ravel())
        model.backward(ops.cross_entropy_backward(1.0, cache).reshape(logits.shape))
        return float(value)

    assert_parameter_gradients_match(model, loss_and_grads)


@pytest.mark.parametrize("cell", [nn.RNN, nn.LSTM])
def test_a_prediction_from_the_last_step_backpropagates_through_time(cell):
    rng = np.random.default_rng(8)
    model = nn.Sequential(cell(3, 4, rng), nn.LastStep(), nn.Linear(4, 2, rng))
    X, y = rng.standard_normal((3, 5, 3)), np.array([0, 1, 1])
    assert_parameter_gradients_match(model, lambda: training.network_loss_and_grads(model, X, y))


def test_lstm_forget_bias_and_fit_with_clipping():
    rng = np.random.default_rng(9)
    layer = nn.LSTM(3, 4, rng, forget_bias=2.0)
    np.testing.assert_array_equal(layer.b.value, [0] * 4 + [2] * 4 + [0] * 8)
    model = nn.Sequential(layer, nn.LastStep(), nn.Linear(4, 2, rng))
    X, y = rng.standard_normal((16, 5, 3)), rng.integers(0, 2, 16)
    seen = []

    class Recording(optim.SGD):
        def step(self):
            seen.append(np.sqrt(sum(np.sum(p.grad ** 2) for p in self.params)))
            super().step()

    training.fit(model, Recording(model.parameters(), lr=0.1), X, y, epochs=2, batch_size=4,
                 rng=rng, max_norm=1e-3)
    assert len(seen) == 8 and max(seen) <= 1e-3 * (1 + 1e-12)


def test_network_gradient_errors_are_small_and_catch_a_wrong_layer(monkeypatch):
    rng = np.random.default_rng(10)
    model = mlp(rng)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    errors = training.network_gradient_errors(model, X, y)
    assert len(errors) == len(model.parameters()) and max(errors) < 1e-7
    monkeypatch.setattr(nn.Tanh, "backward", lambda self, dy: dy)  # forgets tanh's derivative
    assert max(training.network_gradient_errors(model, X, y)) > 1e-2
