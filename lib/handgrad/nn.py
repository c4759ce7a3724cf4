"""Layer objects, a sequential container, initialisation: what a training needs, built on the ops.

A layer holds its parameters (:class:`Parameter`: a value and its gradient) and the cache of its
last forward. ``forward(x)`` returns the output; ``backward(dy)`` returns the gradient of the
input and *accumulates* the parameters' gradients (call :meth:`Sequential.zero_grad` between
steps). The formulas themselves are the ops of :mod:`handgrad.ops`; the layers only store.
"""

from __future__ import annotations

import numpy as np

from . import ops

__all__ = ["Parameter", "Layer", "Linear", "Bilinear", "Conv2d", "LocallyConnected2d",
           "TiledConv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Reshape", "RNN", "LSTM",
           "LastStep", "Sigmoid", "Tanh", "ReLU", "BatchNorm", "Sequential", "glorot_uniform",
           "he_normal"]


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

    It acts on the last axis: inputs (N, D), or (N, T, D) for a sequence, where it is the same
    linear map at every step.

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
        self.cache, self.lead = None, None

    def parameters(self) -> list:
        return [self.W, self.b]

    def forward(self, x):
        self.lead = x.shape[:-1]   # (N,) or (N, T, ...): applied to every vector of the last axis
        y, self.cache = ops.linear_forward(x.reshape(-1, x.shape[-1]), self.W.value, self.b.value)
        return y.reshape(self.lead + (y.shape[1],))

    def backward(self, dy):
        dx, dW, db = ops.linear_backward(dy.reshape(-1, dy.shape[-1]), self.cache)
        self.W.grad += dW
        self.b.grad += db
        return dx.reshape(self.lead + (dx.shape[1],))

    def __repr__(self) -> str:
        m, d = self.W.value.shape
        return f"Linear({d} -> {m})"


class Bilinear(Layer):
    """Bilinear layer ``y[n, m] = x1[n] @ A[m] @ x2[n] + b[m]`` (``ops.bilinear_forward``).

    Its input is the two vectors side by side, ``x = [x1 | x2]`` of shape (N, D1 + D2), so that
    it fits in a :class:`Sequential` and takes the same input as a :class:`Linear` layer; the
    backward returns the gradient of that concatenation.

    Parameters
    ----------
    in1_features, in2_features : int
        D1 and D2: ``x1 = x[:, :D1]`` and ``x2 = x[:, D1:]``.
    out_features : int
        M.
    rng : numpy Generator
        Source of the initial weights, uniform in ``[-1/sqrt(D1), 1/sqrt(D1)]`` as in PyTorch. The
        bias starts at zero.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 rng: np.random.Generator):
        bound = 1.0 / np.sqrt(in1_features)
        self.A = Parameter(rng.uniform(-bound, bound,
                                       size=(out_features, in1_features, in2_features)), "A")
        self.b = Parameter(np.zeros(out_features), "b")
        self.cache = None

    def parameters(self) -> list:
        return [self.A, self.b]

    def forward(self, x):
        m, d1, d2 = self.A.value.shape
        if x.ndim != 2 or x.shape[1] != d1 + d2:
            raise ValueError(f"Bilinear: x must have shape (N, D1 + D2) = (N, {d1 + d2}), got "
                             f"shape {x.shape}")
        y, self.cache = ops.bilinear_forward(x[:, :d1], x[:, d1:], self.A.value, self.b.value)
        return y

    def backward(self, dy):
        dx1, dx2, dA, db = ops.bilinear_backward(dy, self.cache)
        self.A.grad += dA
        self.b.grad += db
        return np.concatenate([dx1, dx2], axis=1)

    def __repr__(self) -> str:
        m, d1, d2 = self.A.value.shape
        return f"Bilinear({d1} x {d2} -> {m})"


class _Convolution(Layer):
    """Shared by the convolution-like layers: a kernel ``w`` and a bias ``b``, one op pair."""

    _op = ""

    def __init__(self, w, b, stride, padding):
        self.w = Parameter(w, "w")
        self.b = Parameter(b, "b")
        self.stride, self.padding = stride, padding
        self.cache = None

    def parameters(self) -> list:
        return [self.w, self.b]

    def forward(self, x):
        y, self.cache = getattr(ops, f"{self._op}_forward")(x, self.w.value, self.b.value,
                                                            self.stride, self.padding)
        return y

    def backward(self, dy):
        dx, dw, db = getattr(ops, f"{self._op}_backward")(dy, self.cache)
        self.w.grad += dw
        self.b.grad += db
        return dx


class Conv2d(_Convolution):
    """2-D convolution layer (``ops.conv2d_forward``), He-initialised, bias zero.

    Parameters
    ----------
    in_channels, out_channels : int
        C and F.
    kernel_size : int or (KH, KW)
    rng : numpy Generator
        Source of the initial weights: normal with variance ``2 / (C*KH*KW)``, the fan-in of
        one output.
    stride, padding : int or pair
    """

    _op = "conv2d"

    def __init__(self, in_channels: int, out_channels: int, kernel_size, rng: np.random.Generator,
                 stride=1, padding=0):
        kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
        fan_in = in_channels * kh * kw
        w = he_normal(fan_in, out_channels, rng).reshape(out_channels, in_channels, kh, kw)
        super().__init__(w, np.zeros(out_channels), stride, padding)

    def __repr__(self) -> str:
        f, c, kh, kw = self.w.value.shape
        return (f"Conv2d({c} -> {f}, kernel {kh}x{kw}, stride {self.stride}, "
                f"padding {self.padding})")


class LocallyConnected2d(_Convolution):
    """Locally connected layer (``ops.locally_connected2d_forward``): a kernel bank and a bias per
    output position, He-initialised (fan-in C*KH*KW), biases zero.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (KH, KW)
    in_hw : (H, W)
        The input's spatial size: the number of positions, hence of kernels, depends on it.
    rng : numpy Generator
    stride, padding : int or pair
    """

    _op = "locally_connected2d"

    def __init__(self, in_channels: int, out_channels: int, kernel_size, in_hw,
                 rng: np.random.Generator, stride=1, padding=0):
        from .conv import as_pair, conv_output_size

        kh, kw = as_pair(kernel_size, "LocallyConnected2d", "kernel_size", 1)
        sh, sw = as_pair(stride, "LocallyConnected2d", "stride", 1)
        ph, pw = as_pair(padding, "LocallyConnected2d", "padding", 0)
        ho, wo = conv_output_size(in_hw[0], kh, sh, ph), conv_output_size(in_hw[1], kw, sw, pw)
        fan_in = in_channels * kh * kw
        w = he_normal(fan_in, ho * wo * out_channels, rng).reshape(ho, wo, out_channels,
                                                                    in_channels, kh, kw)
        super().__init__(w, np.zeros((out_channels, ho, wo)), stride, padding)

    def __repr__(self) -> str:
        ho, wo, f, c, kh, kw = self.w.value.shape
        return f"LocallyConnected2d({c} -> {f}, kernel {kh}x{kw}, {ho}x{wo} positions)"


class TiledConv2d(_Convolution):
    """Tiled convolution layer (``ops.tiled_conv2d_forward``): ``TH x TW`` kernel banks repeating
    over the output, He-initialised, one bias per filter.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (KH, KW)
    tiles : int or (TH, TW)
    rng : numpy Generator
    stride, padding : int or pair
    """

    _op = "tiled_conv2d"

    def __init__(self, in_channels: int, out_channels: int, kernel_size, tiles,
                 rng: np.random.Generator, stride=1, padding=0):
        from .conv import as_pair

        kh, kw = as_pair(kernel_size, "TiledConv2d", "kernel_size", 1)
        th, tw = as_pair(tiles, "TiledConv2d", "tiles", 1)
        fan_in = in_channels * kh * kw
        w = he_normal(fan_in, th * tw * out_channels, rng).reshape(th, tw, out_channels,
                                                                    in_channels, kh, kw)
        super().__init__(w, np.zeros(out_channels), stride, padding)

    def __repr__(self) -> str:
        th, tw, f, c, kh, kw = self.w.value.shape
        return f"TiledConv2d({c} -> {f}, kernel {kh}x{kw}, tiles {th}x{tw})"


class _Recurrent(Layer):
    """Shared by RNN and LSTM: weights U(-1/sqrt(H), 1/sqrt(H)) as PyTorch, zero initial state."""

    _gates, _op = 1, ""

    def __init__(self, input_size: int, hidden_size: int, rng: np.random.Generator):
        k, g = 1.0 / np.sqrt(hidden_size), self._gates
        names = ("W_ih", "W_hh") if g == 4 else ("W_xh", "W_hh")
        self.W_x = Parameter(rng.uniform(-k, k, (g * hidden_size, input_size)), names[0])
        self.W_h = Parameter(rng.uniform(-k, k, (g * hidden_size, hidden_size)), names[1])
        self.b = Parameter(np.zeros(g * hidden_size), "b")
        self.hidden_size = hidden_size
        self.cache = None

    def parameters(self) -> list:
        return [self.W_x, self.W_h, self.b]

    def _states(self, x):
        return [np.zeros((x.shape[0], self.hidden_size))] * (1 if self._gates == 1 else 2)

    def forward(self, x):
        y, self.cache = getattr(ops, f"{self._op}_forward")(x, *self._states(x), self.W_x.value,
                                                            self.W_h.value, self.b.value)
        return y

    def backward(self, dy):
        grads = getattr(ops, f"{self._op}_backward")(dy, self.cache)
        dx, (dW_x, dW_h, db) = grads[0], grads[-3:]
        self.W_x.grad += dW_x
        self.W_h.grad += dW_h
        self.b.grad += db
        return dx

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.W_x.value.shape[1]} -> {self.hidden_size})"


class RNN(_Recurrent):
    """Vanilla RNN layer over a sequence (``ops.rnn_forward``): (N, T, D) to all hidden states
    (N, T, H), from a zero initial state."""

    _gates, _op = 1, "rnn"


class LSTM(_Recurrent):
    """LSTM layer over a sequence (``ops.lstm_forward``, gates i, f, g, o): (N, T, D) to all hidden
    states (N, T, H), from zero initial hidden and cell states.

    Parameters
    ----------
    input_size, hidden_size : int
    rng : numpy Generator
    forget_bias : float
        Initial bias of the forget gate (the other biases start at 0). A positive value keeps the
        forget gate near 1 at the start, so that the cell carries its content, and its gradient,
        over more steps (Gers et al., 2000; Jozefowicz et al., 2015).
    """

    _gates, _op = 4, "lstm"

    def __init__(self, input_size: int, hidden_size: int, rng: np.random.Generator,
                 forget_bias: float = 0.0):
        super().__init__(input_size, hidden_size, rng)
        self.b.value[hidden_size:2 * hidden_size] = forget_bias


class LastStep(Layer):
    """Keep the last step of a sequence: (N, T, H) to (N, H), for a prediction made at the end.

    Its backward puts the gradient at step T-1 and zeros at every other step: the earlier states
    get their gradients only through the recurrence.
    """

    def __init__(self):
        self.shape = None

    def forward(self, x):
        self.shape = x.shape
        return x[:, -1]

    def backward(self, dy):
        dx = np.zeros(self.shape, dtype=dy.dtype)
        dx[:, -1] = dy
        return dx

    def __repr__(self) -> str:
        return "LastStep()"


class _OpLayer(Layer):
    """A layer without parameters that calls one op pair: ``<_op>_forward(x, *options)``."""

    _op = ""

    def __init__(self):
        self.cache = None

    def _options(self) -> tuple:
        return ()

    def forward(self, x):
        y, self.cache = getattr(ops, f"{self._op}_forward")(x, *self._options())
        return y

    def backward(self, dy):
        return getattr(ops, f"{self._op}_backward")(dy, self.cache)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self._options()))})"


class _Pool(_OpLayer):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def _options(self) -> tuple:
        return (self.kernel_size, self.stride)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kernel_size}, stride={self.stride})"


class MaxPool2d(_Pool):
    """Max pooling layer (``ops.max_pool2d_forward``); ``stride=None`` means the kernel size."""

    _op = "max_pool2d"


class AvgPool2d(_Pool):
    """Average pooling layer (``ops.avg_pool2d_forward``); ``stride=None`` means the kernel size."""

    _op = "avg_pool2d"


class Flatten(Layer):
    """Reshape (N, ...) to (N, D), as between the convolutional part and the linear head.

    Its backward reshapes the gradient back to the input's shape: a reshape changes no number,
    so its Jacobian is the identity.
    """

    def __init__(self):
        self.shape = None

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self.shape)

    def __repr__(self) -> str:
        return "Flatten()"


class Reshape(Layer):
    """Reshape each sample to ``shape``: (N, ...) to ``(N, *shape)``, e.g. dense units into maps.

    Parameters
    ----------
    *shape : int
        The shape of one output sample; its size must equal that of one input sample.
    """

    def __init__(self, *shape: int):
        self.shape, self.in_shape = tuple(shape), None

    def forward(self, x):
        if int(np.prod(x.shape[1:])) != int(np.prod(self.shape)):
            raise ValueError(f"Reshape: samples of shape {x.shape[1:]} cannot be reshaped to "
                             f"{self.shape}")
        self.in_shape = x.shape
        return x.reshape((x.shape[0],) + self.shape)

    def backward(self, dy):
        return dy.reshape(self.in_shape)

    def __repr__(self) -> str:
        return f"Reshape{self.shape}"


class _Elementwise(_OpLayer):
    """An activation applied entry by entry."""


class Sigmoid(_Elementwise):
    """Elementwise sigmoid layer (``ops.sigmoid_forward``)."""

    _op = "sigmoid"


class Tanh(_Elementwise):
    """Elementwise tanh layer (``ops.tanh_forward``)."""

    _op = "tanh"


class ReLU(_Elementwise):
    """Elementwise relu layer (``ops.relu_forward``)."""

    _op = "relu"


class BatchNorm(Layer):
    """Batch normalization layer (``ops.batchnorm_forward``) with running statistics.

    In training mode (``training = True``, the default) it normalises with the batch's mean and
    biased variance and updates the running averages
    ``running = (1 - momentum) * running + momentum * batch`` (the variance unbiased, as PyTorch
    does). In inference mode (``training = False``) it uses the running averages: then it is a
    fixed affine map per feature, and its backward is ``dy * gamma / sqrt(running_var + eps)``.

    Parameters
    ----------
    num_features : int
        D for (N, D) inputs, C for (N, C, H, W) inputs.
    eps : float
    momentum : float
        Weight of the current batch in the running averages.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        self.gamma = Parameter(np.ones(num_features), "gamma")
        self.beta = Parameter(np.zeros(num_features), "beta")
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.eps, self.momentum, self.training = eps, momentum, True
        self.cache, self.cached_training = None, True

    def parameters(self) -> list:
        return [self.gamma, self.beta]

    def _shape(self, x):
        return (1, -1) if x.ndim == 2 else (1, -1, 1, 1)

    def forward(self, x):
        if self.training:
            y, self.cache = ops.batchnorm_forward(x, self.gamma.value, self.beta.value, self.eps)
            self.cached_training = True
            axes = (0,) if x.ndim == 2 else (0, 2, 3)
            m = x.size // x.shape[1]
            mean = x.mean(axis=axes)
            var = x.var(axis=axes) * (m / max(m - 1, 1))
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var
            return y
        shape = self._shape(x)
        scale = (self.gamma.value / np.sqrt(self.running_var + self.eps)).reshape(shape)
        x_hat = (x - self.running_mean.reshape(shape)) / np.sqrt(
            self.running_var.reshape(shape) + self.eps)
        self.cache = (x_hat, scale)
        self.cached_training = False
        return x_hat * self.gamma.value.reshape(shape) + self.beta.value.reshape(shape)

    def backward(self, dy):
        if not self.cached_training:
            x_hat, scale = self.cache
            axes = (0,) if dy.ndim == 2 else (0, 2, 3)
            self.gamma.grad += np.sum(dy * x_hat, axis=axes)
            self.beta.grad += dy.sum(axis=axes)
            return dy * scale
        dx, dgamma, dbeta = ops.batchnorm_backward(dy, self.cache)
        self.gamma.grad += dgamma
        self.beta.grad += dbeta
        return dx

    def __repr__(self) -> str:
        return f"BatchNorm({self.gamma.value.size})"


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
