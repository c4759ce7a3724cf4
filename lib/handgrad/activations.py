r"""Elementwise activations: sigmoid, the generalized logistic, tanh and relu.

Each backward multiplies the upstream gradient by the derivative, computed from what the forward
cached. For sigmoid and tanh that is the output ``y``: :math:`\sigma' = y(1-y)` and
:math:`\tanh' = 1 - y^2` need no second exponential.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_dout_shape

__all__ = [
    "sigmoid_forward", "sigmoid_backward",
    "logistic_forward", "logistic_backward",
    "tanh_forward", "tanh_backward",
    "relu_forward", "relu_backward",
]


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow: only ``exp(-|x|)`` (at most 1) is ever computed.

    The branch follows the real part, so a complex input (the complex-step check) stays analytic.
    """
    neg = np.real(x) < 0
    z = np.exp(np.where(neg, x, -x))
    return np.where(neg, z / (1.0 + z), 1.0 / (1.0 + z)).astype(x.dtype, copy=False)


def sigmoid_forward(x):
    r"""Logistic sigmoid :math:`y = 1 / (1 + e^{-x})`, elementwise, in its overflow-free form.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    y : ndarray, shape of ``x``, values in [0, 1]
    cache : ndarray
        ``y``, all the backward needs.
    """
    x = as_float_array(x, "sigmoid", "x")
    y = _stable_sigmoid(x)
    return y, y


def sigmoid_backward(dy, cache):
    r"""Gradient of sigmoid: :math:`\partial L/\partial x = \partial L/\partial y \odot y (1 - y)`.

    Parameters
    ----------
    dy : ndarray, shape of ``y``
    cache : from :func:`sigmoid_forward`

    Returns
    -------
    dx : ndarray, shape of ``x``
    """
    y = cache
    dy = check_dout_shape(dy, y.shape, "sigmoid")
    return dy * y * (1.0 - y)


def logistic_forward(x, L=1.0, k=1.0, x0=0.0):
    r"""Generalized logistic :math:`y = L / (1 + e^{-k (x - x_0)})`, elementwise.

    Parameters
    ----------
    x : ndarray, any shape
    L : float
        The maximum (the curve's upper asymptote).
    k : float
        The steepness.
    x0 : float
        The midpoint, where ``y = L / 2``.

    Returns
    -------
    y : ndarray, shape of ``x``
    cache : tuple
        ``(s, L, k)`` with ``s = sigmoid(k (x - x0))``.
    """
    x = as_float_array(x, "logistic", "x")
    s = _stable_sigmoid(np.asarray(k * (x - x0), dtype=x.dtype))
    return L * s, (s, L, k)


def logistic_backward(dy, cache):
    r"""Gradient of the generalized logistic: :math:`\partial y/\partial x = k L s (1 - s)`,
    which is :math:`k\, y (L - y) / L` written with the output.

    Parameters
    ----------
    dy : ndarray, shape of ``y``
    cache : from :func:`logistic_forward`

    Returns
    -------
    dx : ndarray, shape of ``x``
    """
    s, L, k = cache
    dy = check_dout_shape(dy, s.shape, "logistic")
    return dy * (k * L) * s * (1.0 - s)


def tanh_forward(x):
    """Hyperbolic tangent, elementwise (numpy's ``tanh`` is stable for every input).

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    y : ndarray, shape of ``x``, values in [-1, 1]
    cache : ndarray
        ``y``.
    """
    x = as_float_array(x, "tanh", "x")
    y = np.tanh(x)
    return y, y


def tanh_backward(dy, cache):
    r"""Gradient of tanh: :math:`\partial L/\partial x = \partial L/\partial y \odot (1 - y^2)`.

    Parameters
    ----------
    dy : ndarray, shape of ``y``
    cache : from :func:`tanh_forward`

    Returns
    -------
    dx : ndarray, shape of ``x``
    """
    y = cache
    dy = check_dout_shape(dy, y.shape, "tanh")
    return dy * (1.0 - y * y)


def relu_forward(x):
    """Rectified linear unit ``max(x, 0)``, elementwise.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    y : ndarray, shape of ``x``
    cache : ndarray of bool
        The mask ``x > 0``.
    """
    x = as_float_array(x, "relu", "x")
    mask = x > 0
    return np.where(mask, x, np.zeros((), dtype=x.dtype)), mask


def relu_backward(dy, cache):
    """Gradient of relu: ``dy`` where ``x > 0``, else 0. At ``x = 0`` the derivative does not
    exist; the library's convention is 0 there (the subgradient PyTorch also uses).

    Parameters
    ----------
    dy : ndarray, shape of ``y``
    cache : from :func:`relu_forward`

    Returns
    -------
    dx : ndarray, shape of ``x``
    """
    mask = cache
    dy = check_dout_shape(dy, mask.shape, "relu")
    return np.where(mask, dy, np.zeros((), dtype=np.result_type(dy)))
