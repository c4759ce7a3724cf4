r"""Average and max pooling over windows of the last two axes of ``x`` (N, C, H, W).

A window of size ``(KH, KW)`` slides with stride ``(sh, sw)`` (by default the kernel size, so
windows tile the image without overlap) and each channel is pooled separately:

.. math::

    y[n, c, i, j] = \operatorname{pool}_{0 \le p < K_H,\ 0 \le q < K_W}
                    x[n, c, s_h i + p, s_w j + q].

As in PyTorch there is no padding here and windows that would run past the edge are dropped, so
:math:`H_o = \lfloor (H - K_H) / s_h \rfloor + 1`.

Both backwards scatter ``dy`` back through the windows with ``+=``: when the stride is smaller
than the kernel, windows overlap and an input entry collects a contribution from every window that
contains it.

**Ties in max pooling.** The derivative of a max is not defined where two entries of a window tie
for the maximum. The rule here is PyTorch's: the *first* maximal entry of the window, in row-major
order (smallest ``p``, then smallest ``q``), receives the whole gradient, the others none. The
result is one valid subgradient. At a tie the one-sided derivatives disagree, so a central
difference measures their average: it matches an even split between two tied entries, and no
gradient at all from three tied entries on. The gradient checks therefore use inputs without ties.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_dout_shape, check_ndim
from .conv import as_pair, conv_output_size

__all__ = ["avg_pool2d_forward", "avg_pool2d_backward", "max_pool2d_forward",
           "max_pool2d_backward"]


def _check_pool(x, kernel_size, stride, op):
    x = as_float_array(x, op, "x")
    check_ndim(x, 4, op, "x", "(N, C, H, W)")
    kh, kw = as_pair(kernel_size, op, "kernel_size", 1)
    sh, sw = (kh, kw) if stride is None else as_pair(stride, op, "stride", 1)
    if kh > x.shape[2] or kw > x.shape[3]:
        raise ValueError(f"{op}: kernel_size {(kh, kw)} is larger than the image "
                         f"{x.shape[2:]} of x with shape {x.shape}")
    ho, wo = conv_output_size(x.shape[2], kh, sh), conv_output_size(x.shape[3], kw, sw)
    return x, (kh, kw), (sh, sw), (ho, wo)


def _window(a, p, q, stride, out_hw):
    """The view of ``a`` holding entry (p, q) of every window: shape (N, C, Ho, Wo)."""
    (sh, sw), (ho, wo) = stride, out_hw
    return a[:, :, p:p + sh * (ho - 1) + 1:sh, q:q + sw * (wo - 1) + 1:sw]


def avg_pool2d_forward(x, kernel_size, stride=None):
    """Average pooling, as ``torch.nn.functional.avg_pool2d`` (no padding).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (KH, KW)
    stride : int or (sh, sw) or None
        None means the kernel size: non-overlapping windows.

    Returns
    -------
    y : ndarray, shape (N, C, Ho, Wo)
        ``Ho = (H - KH) // sh + 1``, ``Wo = (W - KW) // sw + 1``.
    cache : tuple
    """
    x, (kh, kw), stride, out_hw = _check_pool(x, kernel_size, stride, "avg_pool2d")
    y = np.zeros(x.shape[:2] + out_hw, dtype=x.dtype)
    for p in range(kh):  # a loop over the window's offsets; batch, channels, pixels vectorised
        for q in range(kw):
            y += _window(x, p, q, stride, out_hw)
    y *= 1.0 / (kh * kw)
    return y, (x.shape, (kh, kw), stride, out_hw)


def avg_pool2d_backward(dy, cache):
    r"""Gradient of :func:`avg_pool2d_forward`: each window spreads ``dy / (KH*KW)`` evenly.

    :math:`\partial L/\partial x[n,c,u,v] = \frac{1}{K_H K_W}\sum_{(i,j):\,(u,v)\in
    \text{window}(i,j)} \partial L/\partial y[n,c,i,j]`.

    Parameters
    ----------
    dy : ndarray, shape (N, C, Ho, Wo)
    cache : from :func:`avg_pool2d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    x_shape, (kh, kw), stride, out_hw = cache
    dy = check_dout_shape(dy, x_shape[:2] + out_hw, "avg_pool2d")
    share = dy * (1.0 / (kh * kw))
    dx = np.zeros(x_shape, dtype=share.dtype)
    for p in range(kh):
        for q in range(kw):
            _window(dx, p, q, stride, out_hw)[...] += share   # overlapping windows accumulate
    return dx


def max_pool2d_forward(x, kernel_size, stride=None):
    """Max pooling, as ``torch.nn.functional.max_pool2d`` (no padding).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (KH, KW)
    stride : int or (sh, sw) or None
        None means the kernel size: non-overlapping windows.

    Returns
    -------
    y : ndarray, shape (N, C, Ho, Wo)
    cache : tuple
        Holds ``argmax`` (N, C, Ho, Wo): the offset ``p*KW + q`` of the first maximal entry of
        each window, the one that receives the gradient.
    """
    x, (kh, kw), stride, out_hw = _check_pool(x, kernel_size, stride, "max_pool2d")
    if np.iscomplexobj(x):
        raise ValueError(f"max_pool2d: x must be real (a max has no complex derivative), "
                         f"got dtype {x.dtype}")
    y = _window(x, 0, 0, stride, out_hw).copy()
    argmax = np.zeros(y.shape, dtype=np.uint8 if kh * kw <= 256 else np.intp)
    better = np.empty(y.shape, dtype=bool)
    for p in range(kh):
        for q in range(kw):
            if p == q == 0:
                continue
            candidate = _window(x, p, q, stride, out_hw)
            np.greater(candidate, y, out=better)  # strict: on a tie the earlier offset is kept
            np.maximum(y, candidate, out=y)
            np.copyto(argmax, p * kw + q, where=better)
    return y, (x.shape, (kh, kw), stride, out_hw, argmax)


def max_pool2d_backward(dy, cache):
    r"""Gradient of :func:`max_pool2d_forward`: each window routes ``dy`` to its maximal entry.

    :math:`\partial L/\partial x[n,c,u,v] = \sum_{(i,j)} \partial L/\partial y[n,c,i,j]\,
    [\,(u,v) = q(i,j)\,]`, where :math:`q(i,j)` is the position of the window's first maximum.
    The other entries of the window get zero.

    Parameters
    ----------
    dy : ndarray, shape (N, C, Ho, Wo)
    cache : from :func:`max_pool2d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    x_shape, (kh, kw), stride, out_hw, argmax = cache
    dy = check_dout_shape(dy, x_shape[:2] + out_hw, "max_pool2d")
    dx = np.zeros(x_shape, dtype=dy.dtype)
    overlap = stride[0] < kh or stride[1] < kw
    for p in range(kh):
        for q in range(kw):
            window = _window(dx, p, q, stride, out_hw)
            if overlap:
                window += dy * (argmax == p * kw + q)   # overlapping windows accumulate
            else:                                       # disjoint windows: write in place
                np.multiply(dy, argmax == p * kw + q, out=window)
    return dx
