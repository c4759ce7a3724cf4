"""Layer objects, a sequential container, initialisation: what a training needs, built on the ops.

A layer holds its parameters (:class:`Parameter`: a value and its gradient) and the cache of its
last forward. ``forward(x)`` returns the output; ``backward(dy)`` returns the gradient of the
input and *accumulates* the parameters' gradients (call :meth:`Sequential.zero_grad` between
steps). The formulas themselves are the ops of :mod:`handgrad.ops`; the layers only store.
"""

from __future__ import annotations

import numpy as np

from . import ops

__all__ = ["Parameter", "Layer", "Linear", "Sigmoid", "Tanh", "ReLU", "Sequential",
           "glorot_uniform", "he_normal"]


class Parameter:
    """A trainable array and the gradient of the loss with respect to it (same shape)."""

    def __init__(self, value: np.ndarray, name: str = ""):
        self.value = np.asarray(value, dtype=np.float64)
        self.grad = np.zeros_like(self.value)
        self.name = name

    def __repr__(self) -> str:
        return f"Parameter({self.name}, shape={self.value.shape})"


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    r"""Glorot (Xavier) initialisation: :math:`U(-a, a)`, :math:`a = \sqrt{6 / (n_{in} + n_{out})}`.

    Keeps the variance of activations and of gradients roughly constant across layers with
    tanh or sigmoid units (Glorot and Bengio, 2010).

    Returns
    -------
    ndarray, shape (fan_out, fan_in)
    """
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_out, fan_in))


def he_normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    r"""He initialisation: :math:`N(0, 2 / n_{in})`.

    relu zeroes half of its inputs on average, halving the variance; the factor 2 restores it
    (He et al., 2015).

    Returns
    -------
    ndarray, shape (fan_out, fan_in)
    """
    return rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)


class Layer:
    """Base class: no parameters, identity. Subclasses implement forward and backward."""

    def parameters(self) -> list:
        return []

    def forward(self, x):  # pragma: no cover - overridden
        raise NotImplementedError

    def backward(self, dy):  # pragma: no cover - overridden
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)


class Linear(Layer):
    """Fully connected layer ``y = x @ W.T + b`` (``ops.linear_forward``).

    Parameters
    ----------
    in_features, out_features : int
    rng : numpy Generator
        Source of the initial weights.
    init : {'he', 'glorot'}
        'he' for relu networks, 'glorot' for tanh and sigmoid ones. The bias starts at zero.
    """

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator,
                 init: str = "he"):
        if init not in ("he", "glorot"):
            raise ValueError(f"Linear: init must be 'he' or 'glorot', got {init!r}")
        make = he_normal if init == "he" else glorot_uniform
        self.W = Parameter(make(in_features, out_features, rng), "W")
        self.b = Parameter(np.zeros(out_features), "b")
        self.cache = None

    def parameters(self) -> list:
        return [self.W, self.b]

    def forward(self, x):
        y, self.cache = ops.linear_forward(x, self.W.value, self.b.value)
        return y

    def backward(self, dy):
        dx, dW, db = ops.linear_backward(dy, self.cache)
        self.W.grad += dW
        self.b.grad += db
        return dx

    def __repr__(self) -> str:
        m, d = self.W.value.shape
        return f"Linear({d} -> {m})"


class _Elementwise(Layer):
    _op = ""

    def __init__(self):
        self.cache = None

    def forward(self, x):
        y, self.cache = getattr(ops, f"{self._op}_forward")(x)
        return y

    def backward(self, dy):
        return getattr(ops, f"{self._op}_backward")(dy, self.cache)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(_Elementwise):
    """Elementwise sigmoid layer (``ops.sigmoid_forward``)."""

    _op = "sigmoid"


class Tanh(_Elementwise):
    """Elementwise tanh layer (``ops.tanh_forward``)."""

    _op = "tanh"


class ReLU(_Elementwise):
    """Elementwise relu layer (``ops.relu_forward``)."""

    _op = "relu"


class Sequential(Layer):
    """Layers applied in order; the backward runs their backwards in reverse order.

    Parameters
    ----------
    *layers : Layer
    """

    def __init__(self, *layers: Layer):
        self.layers = list(layers)

    def parameters(self) -> list:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad[...] = 0.0

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy):
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(map(repr, self.layers)) + ")"
