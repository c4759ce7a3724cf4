r"""Convolution (cross-correlation, as in PyTorch) in 1-D and 2-D, with stride and zero padding.

For an input ``x`` (N, C, H, W), weights ``w`` (F, C, KH, KW) and a bias ``b`` (F,),

.. math::

    y[n, f, i, j] = b[f] + \sum_{c, p, q} w[f, c, p, q]\, x_p[n, c, s_h i + p, s_w j + q],

where :math:`x_p` is ``x`` padded with zeros and :math:`s_h, s_w` are the strides. The output has
:math:`H_o = \lfloor (H + 2 p_h - K_H) / s_h \rfloor + 1` rows (and the same for columns).

The implementation unfolds the input into the matrix of patches (``im2col``): one column of
length ``C*KH*KW`` per output position, so that the convolution is one matrix product with the
weights reshaped to (F, C*KH*KW). The gradient of the patches is folded back by ``col2im``, a
scatter-add: an input pixel that lies in several patches receives the sum of their gradients.
Both loop over the KH*KW kernel offsets only; every other axis is vectorised.

:func:`conv2d_naive_forward` and :func:`conv2d_naive_backward` are the seven-loop definitions,
kept as an independent reference for the tests and for the speed comparison of chapter 9.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_dout_shape, check_ndim

__all__ = ["conv1d_forward", "conv1d_backward", "conv2d_forward", "conv2d_backward",
           "im2col", "col2im", "conv_output_size", "pad2d", "conv2d_input_grad_full",
           "conv2d_naive_forward", "conv2d_naive_backward"]


def as_pair(value, op: str, name: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints as a pair, each at least ``minimum``; else a ValueError."""
    pair = (value, value) if np.ndim(value) == 0 else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def conv_output_size(n: int, k: int, stride: int = 1, padding: int = 0) -> int:
    r"""Number of positions of a window of size ``k`` sliding over ``n + 2*padding`` entries.

    :math:`\lfloor (n + 2p - k) / s \rfloor + 1`; positions that would run past the end are
    dropped, as in PyTorch.
    """
    return (n + 2 * padding - k) // stride + 1


def pad2d(x, padding):
    """Zero-pad the last two axes of ``x`` (…, H, W) by ``padding = (ph, pw)`` on both sides."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    xp = np.zeros(x.shape[:-2] + (x.shape[-2] + 2 * ph, x.shape[-1] + 2 * pw), dtype=x.dtype)
    xp[..., ph:ph + x.shape[-2], pw:pw + x.shape[-1]] = x
    return xp


def im2col(x, kernel_size, stride=1, padding=0):
    r"""Unfold ``x`` into the patches a convolution sees: the matrix :math:`X'` of the notes.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (KH, KW)
    stride, padding : int or pair

    Returns
    -------
    cols : ndarray, shape (N, C*KH*KW, Ho*Wo)
        ``cols[n, (c, p, q), (i, j)] = x_p[n, c, s_h*i + p, s_w*j + q]`` with the row index
        ``(c, p, q)`` in C order, matching ``w.reshape(F, C*KH*KW)``.
    """
    op = "im2col"
    check_ndim(x, 4, op, "x", "(N, C, H, W)")
    kh, kw = as_pair(kernel_size, op, "kernel_size", 1)
    sh, sw = as_pair(stride, op, "stride", 1)
    ph, pw = as_pair(padding, op, "padding", 0)
    n, c, h, w = x.shape
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: kernel {(kh, kw)} does not fit the padded input "
                         f"{(h + 2 * ph, w + 2 * pw)} of x with shape {x.shape}")
    xp = pad2d(x, (ph, pw))
    cols = np.empty((n, c, kh, kw, ho, wo), dtype=x.dtype)
    for p in range(kh):  # a loop over kernel offsets only: each step copies one shifted view
        for q in range(kw):
            cols[:, :, p, q] = xp[:, :, p:p + sh * (ho - 1) + 1:sh, q:q + sw * (wo - 1) + 1:sw]
    return cols.reshape(n, c * kh * kw, ho * wo)


def col2im(dcols, x_shape, kernel_size, stride=1, padding=0):
    r"""Fold patch gradients back onto the input: the adjoint of :func:`im2col` (a scatter-add).

    Parameters
    ----------
    dcols : ndarray, shape (N, C*KH*KW, Ho*Wo)
    x_shape : tuple (N, C, H, W)
        Shape of the unpadded input.
    kernel_size, stride, padding : as for :func:`im2col`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        ``dx[n, c, y, x]`` is the sum of ``dcols`` over every patch entry that copied
        ``x[n, c, y, x]``; entries that fell in the padding are dropped.
    """
    op = "col2im"
    kh, kw = as_pair(kernel_size, op, "kernel_size", 1)
    sh, sw = as_pair(stride, op, "stride", 1)
    ph, pw = as_pair(padding, op, "padding", 0)
    n, c, h, w = x_shape
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
    dcols = np.asarray(dcols)
    if dcols.shape != (n, c * kh * kw, ho * wo):
        raise ValueError(f"{op}: dcols must have shape (N, C*KH*KW, Ho*Wo) = "
                         f"{(n, c * kh * kw, ho * wo)} for x_shape {tuple(x_shape)}, got shape "
                         f"{dcols.shape}")
    dcols = dcols.reshape(n, c, kh, kw, ho, wo)
    dxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=dcols.dtype)
    for p in range(kh):  # overlapping patches add up: +=, never =
        for q in range(kw):
            dxp[:, :, p:p + sh * (ho - 1) + 1:sh, q:q + sw * (wo - 1) + 1:sw] += dcols[:, :, p, q]
    return dxp[:, :, ph:ph + h, pw:pw + w]


def _check_conv2d(x, w, b, stride, padding, op):
    x = as_float_array(x, op, "x")
    w = as_float_array(w, op, "w")
    b = as_float_array(b, op, "b")
    check_ndim(x, 4, op, "x", "(N, C, H, W)")
    check_ndim(w, 4, op, "w", "(F, C, KH, KW)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"{op}: w must have shape (F, C, KH, KW) with C = {x.shape[1]} to match "
                         f"x {x.shape}, got shape {w.shape}")
    if b.shape != (w.shape[0],):
        raise ValueError(f"{op}: b must have shape (F,) = ({w.shape[0]},) to match w {w.shape}, "
                         f"got shape {b.shape}")
    stride = as_pair(stride, op, "stride", 1)
    padding = as_pair(padding, op, "padding", 0)
    kh, kw = w.shape[2:]
    hp, wp = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if kh > hp or kw > wp:
        raise ValueError(f"{op}: kernel {(kh, kw)} of w {w.shape} is larger than the padded "
                         f"input {(hp, wp)} of x {x.shape} with padding {padding}")
    dtype = np.result_type(x, w, b)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b.astype(dtype, copy=False), \
        stride, padding


def conv2d_forward(x, w, b, stride=1, padding=0):
    """2-D convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, KH, KW)
    b : ndarray, shape (F,)
    stride : int or (sh, sw)
    padding : int or (ph, pw)
        Zeros added on both sides of each spatial axis.

    Returns
    -------
    y : ndarray, shape (N, F, Ho, Wo)
        ``Ho = (H + 2*ph - KH) // sh + 1``, ``Wo = (W + 2*pw - KW) // sw + 1``.
    cache : tuple
        ``(cols, w, x.shape, stride, padding)``: the unfolded input is kept for the backward.
    """
    x, w, b, stride, padding = _check_conv2d(x, w, b, stride, padding, "conv2d")
    f, c, kh, kw = w.shape
    n, _, h, wd = x.shape
    ho, wo = conv_output_size(h, kh, stride[0], padding[0]), conv_output_size(wd, kw, stride[1],
                                                                              padding[1])
    cols = im2col(x, (kh, kw), stride, padding)        # (N, C*KH*KW, Ho*Wo)
    y = np.matmul(w.reshape(f, -1), cols)              # (N, F, Ho*Wo): one product per sample
    y += b[:, None]
    return y.reshape(n, f, ho, wo), (cols, w, x.shape, stride, padding)


def conv2d_backward(dy, cache):
    r"""Gradients of :func:`conv2d_forward`.

    With :math:`Y = W' X'` per sample (``W'`` the weights as an (F, C*KH*KW) matrix, ``X'`` the
    patches): :math:`\partial L/\partial W' = \sum_n G_n X_n'^\T`,
    :math:`\partial L/\partial X'_n = W'^\T G_n`, folded back onto ``x`` by
    :func:`~handgrad.conv.col2im`, and :math:`\partial L/\partial b` is ``dy`` summed over batch
    and positions.

    Parameters
    ----------
    dy : ndarray, shape (N, F, Ho, Wo)
    cache : from :func:`conv2d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, KH, KW)
    db : ndarray, shape (F,)
    """
    cols, w, x_shape, stride, padding = cache
    f = w.shape[0]
    n, ckk, howo = cols.shape
    dy = check_dout_shape(dy, (n, f) + _out_hw(x_shape, w.shape, stride, padding), "conv2d")
    g = dy.reshape(n, f, howo)
    db = g.sum(axis=(0, 2))
    # dW' = sum_n G_n X'_n^T: one product per sample, then the sum over the batch. (A single
    # tensordot over (n, position) would first copy the transposed patches: 3x slower.)
    dw = np.matmul(g, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dcols = np.matmul(w.reshape(f, ckk).T, g)          # (N, C*KH*KW, Ho*Wo)
    dx = col2im(dcols, x_shape, w.shape[2:], stride, padding)
    return dx, dw, db


def _out_hw(x_shape, w_shape, stride, padding):
    return (conv_output_size(x_shape[2], w_shape[2], stride[0], padding[0]),
            conv_output_size(x_shape[3], w_shape[3], stride[1], padding[1]))


def conv1d_forward(x, w, b, stride=1, padding=0):
    """1-D convolution (cross-correlation), as ``torch.nn.functional.conv1d``.

    It is the 2-D convolution of a one-row image: ``x`` is viewed as (N, C, 1, L) and ``w`` as
    (F, C, 1, K).

    Parameters
    ----------
    x : ndarray, shape (N, C, L)
    w : ndarray, shape (F, C, K)
    b : ndarray, shape (F,)
    stride, padding : int

    Returns
    -------
    y : ndarray, shape (N, F, Lo)
        ``Lo = (L + 2*padding - K) // stride + 1``.
    cache : tuple
    """
    op = "conv1d"
    x = as_float_array(x, op, "x")
    w = as_float_array(w, op, "w")
    check_ndim(x, 3, op, "x", "(N, C, L)")
    check_ndim(w, 3, op, "w", "(F, C, K)")
    if np.ndim(stride) != 0 or np.ndim(padding) != 0:
        raise ValueError(f"{op}: stride and padding must be ints, got {stride!r} and {padding!r}")
    s, p = as_pair(stride, op, "stride", 1)[0], as_pair(padding, op, "padding", 0)[0]
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"{op}: w must have shape (F, C, K) with C = {x.shape[1]} to match x "
                         f"{x.shape}, got shape {w.shape}")
    if w.shape[2] > x.shape[2] + 2 * p:
        raise ValueError(f"{op}: kernel size {w.shape[2]} of w {w.shape} is larger than the "
                         f"padded length {x.shape[2] + 2 * p} of x {x.shape}")
    b = as_float_array(b, op, "b")
    if b.shape != (w.shape[0],):
        raise ValueError(f"{op}: b must have shape (F,) = ({w.shape[0]},) to match w {w.shape}, "
                         f"got shape {b.shape}")
    y, cache = conv2d_forward(x[:, :, None, :], w[:, :, None, :], b, (1, s), (0, p))
    return y[:, :, 0, :], cache


def conv1d_backward(dy, cache):
    """Gradients of :func:`conv1d_forward`: those of the one-row 2-D convolution.

    Parameters
    ----------
    dy : ndarray, shape (N, F, Lo)
    cache : from :func:`conv1d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, L)
    dw : ndarray, shape (F, C, K)
    db : ndarray, shape (F,)
    """
    cols, w, x_shape, stride, padding = cache
    lo = conv_output_size(x_shape[3], w.shape[3], stride[1], padding[1])
    dy = np.asarray(dy)
    if dy.shape != (x_shape[0], w.shape[0], lo):
        raise ValueError(f"conv1d_backward: dout must have the output's shape "
                         f"{(x_shape[0], w.shape[0], lo)}, got shape {dy.shape}")
    dx, dw, db = conv2d_backward(dy[:, :, None, :], cache)
    return dx[:, :, 0, :], dw[:, :, 0, :], db


def conv2d_input_grad_full(dy, w, x_shape, stride=1, padding=0):
    r"""The input gradient as a *full* convolution of ``dy`` with the flipped kernel.

    Equal to the ``dx`` of :func:`conv2d_backward`, computed the other way: dilate ``dy`` by the
    stride (insert ``s - 1`` zeros between entries), pad it by ``K - 1`` on each side, and
    cross-correlate it with the kernel rotated by 180 degrees and with its two channel axes
    swapped, ``w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)`` of shape (C, F, KH, KW). The result is
    the gradient of the padded input; the padding is cut off at the end.

    Parameters
    ----------
    dy : ndarray, shape (N, F, Ho, Wo)
    w : ndarray, shape (F, C, KH, KW)
    x_shape : tuple (N, C, H, W)
    stride, padding : int or pair, as in the forward

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    op = "conv2d_input_grad_full"
    sh, sw = as_pair(stride, op, "stride", 1)
    ph, pw = as_pair(padding, op, "padding", 0)
    n, c, h, wd = x_shape
    f, _, kh, kw = w.shape
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    dy = check_dout_shape(dy, (n, f, ho, wo), op)
    hp, wp = h + 2 * ph, wd + 2 * pw
    # Dilated and padded upstream gradient: rows kh-1 + sh*i, so that a full correlation of
    # size hp + kh - 1 - kh + 1 = hp lands on every padded input row (rows the stride skipped
    # at the bottom or right get zeros).
    g = np.zeros((n, f, hp + kh - 1, wp + kw - 1), dtype=dy.dtype)
    g[:, :, kh - 1:kh - 1 + sh * (ho - 1) + 1:sh, kw - 1:kw - 1 + sw * (wo - 1) + 1:sw] = dy
    w_flip = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # (C, F, KH, KW)
    dxp, _ = conv2d_forward(g, w_flip, np.zeros(c, dtype=dy.dtype))
    return dxp[:, :, ph:ph + h, pw:pw + wd]


def conv2d_naive_forward(x, w, b, stride=1, padding=0):
    """The definition of :func:`conv2d_forward`, one multiply-add at a time (slow; a reference).

    Same arguments, output and cache layout as :func:`conv2d_forward` except that the cache
    holds the padded input: ``(x_padded, w, x.shape, stride, padding)``.
    """
    x, w, b, (sh, sw), (ph, pw) = _check_conv2d(x, w, b, stride, padding, "conv2d_naive")
    xp = pad2d(x, (ph, pw))
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    y = np.zeros((n, f, ho, wo), dtype=x.dtype)
    for i_n in range(n):
        for i_f in range(f):
            for i in range(ho):
                for j in range(wo):
                    total = b[i_f]
                    for i_c in range(c):
                        for p in range(kh):
                            for q in range(kw):
                                total += w[i_f, i_c, p, q] * xp[i_n, i_c, sh * i + p, sw * j + q]
                    y[i_n, i_f, i, j] = total
    return y, (xp, w, x.shape, (sh, sw), (ph, pw))


def conv2d_naive_backward(dy, cache):
    """The gradients of :func:`conv2d_naive_forward`, one scatter-add at a time (a reference)."""
    xp, w, x_shape, (sh, sw), (ph, pw) = cache
    n, c, h, wd = x_shape
    f, _, kh, kw = w.shape
    dy = check_dout_shape(dy, (n, f) + _out_hw(x_shape, w.shape, (sh, sw), (ph, pw)),
                          "conv2d_naive")
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    db = np.zeros(f, dtype=dy.dtype)
    for i_n in range(n):
        for i_f in range(f):
            for i in range(dy.shape[2]):
                for j in range(dy.shape[3]):
                    g = dy[i_n, i_f, i, j]
                    db[i_f] += g
                    for i_c in range(c):
                        for p in range(kh):
                            for q in range(kw):
                                dw[i_f, i_c, p, q] += g * xp[i_n, i_c, sh * i + p, sw * j + q]
                                dxp[i_n, i_c, sh * i + p, sw * j + q] += g * w[i_f, i_c, p, q]
    return dxp[:, :, ph:ph + h, pw:pw + wd], dw, db
