r"""Locally connected and tiled convolution: convolution with its weight sharing relaxed.

A convolution uses one kernel at every output position. A **locally connected** layer gives every
output position :math:`(i, j)` its own kernel ``w[i, j]`` (F, C, KH, KW) and its own bias:

.. math::

    y[n, f, i, j] = b[f, i, j] + \sum_{c, p, q} w[i, j, f, c, p, q]\,
                    x_p[n, c, s_h i + p, s_w j + q].

A **tiled** convolution sits in between: it has ``TH x TW`` kernels that repeat across the output
with period ``(TH, TW)``; position :math:`(i, j)` uses kernel ``w[i % TH, j % TW]`` (Le et al.,
2010; Goodfellow et al., 2016, section 9.5), and one bias per filter. With ``TH = TW = 1`` it is
the convolution; with ``(TH, TW) = (Ho, Wo)`` it is the locally connected layer with a shared bias.

Both reuse the patches of :func:`handgrad.conv.im2col`: the product of the patch at position
``p`` with *that position's* weight matrix is a batch of small matrix products over positions.
The tiled layer is computed as the locally connected layer with tied weights
(:func:`handgrad.inclusions.tiled_to_locally_connected`), and its backward sums the locally
connected gradients over the positions that share a kernel: the chain rule through the tying.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_dout_shape, check_ndim
from .conv import as_pair, col2im, conv_output_size, im2col

__all__ = ["locally_connected2d_forward", "locally_connected2d_backward", "tiled_conv2d_forward",
           "tiled_conv2d_backward", "tile_index"]


def tile_index(n_out: int, period: int, mode: str = "cycle") -> np.ndarray:
    """Which of ``period`` kernels each of ``n_out`` output positions uses, along one axis.

    Parameters
    ----------
    n_out : int
        Number of output positions (Ho or Wo).
    period : int
        Number of kernels along the axis (TH or TW).
    mode : {'cycle', 'block'}
        'cycle': position ``i`` uses kernel ``i % period``, the kernels repeat (the literature's
        tiled convolution and the library's contract). 'block': position ``i`` uses kernel
        ``i * period // n_out``: the axis is cut into ``period`` contiguous blocks, one kernel each
        (a reading of the division in note 000, problem 45).

    Returns
    -------
    ndarray of int, shape (n_out,)
    """
    if mode == "cycle":
        return np.arange(n_out) % period
    if mode == "block":
        return np.arange(n_out) * period // n_out
    raise ValueError(f"tile_index: mode must be 'cycle' or 'block', got {mode!r}")


def _check_local(x, w, stride, padding, op, w_layout, lead):
    x = as_float_array(x, op, "x")
    w = as_float_array(w, op, "w")
    check_ndim(x, 4, op, "x", "(N, C, H, W)")
    check_ndim(w, 6, op, "w", w_layout)
    stride = as_pair(stride, op, "stride", 1)
    padding = as_pair(padding, op, "padding", 0)
    c, kh, kw = w.shape[3:]
    if c != x.shape[1]:
        raise ValueError(f"{op}: w must have shape {w_layout} with C = {x.shape[1]} to match x "
                         f"{x.shape}, got shape {w.shape}")
    hp, wp = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if kh > hp or kw > wp:
        raise ValueError(f"{op}: kernel {(kh, kw)} of w {w.shape} is larger than the padded "
                         f"input {(hp, wp)} of x {x.shape} with padding {padding}")
    out_hw = (conv_output_size(x.shape[2], kh, stride[0], padding[0]),
              conv_output_size(x.shape[3], kw, stride[1], padding[1]))
    if lead == "out" and w.shape[:2] != out_hw:
        raise ValueError(f"{op}: w must have shape {w_layout} with (Ho, Wo) = {out_hw}, the "
                         f"output size for x {x.shape}, stride {stride} and padding {padding}; "
                         f"got shape {w.shape}")
    return x, w, stride, padding, out_hw


def locally_connected2d_forward(x, w, b, stride=1, padding=0):
    """Locally connected layer: a convolution with a separate kernel and bias at each position.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (Ho, Wo, F, C, KH, KW)
        ``w[i, j]`` is the kernel bank of output position (i, j).
    b : ndarray, shape (F, Ho, Wo)
    stride, padding : int or pair

    Returns
    -------
    y : ndarray, shape (N, F, Ho, Wo)
    cache : tuple
    """
    op = "locally_connected2d"
    x, w, stride, padding, (ho, wo) = _check_local(x, w, stride, padding, op,
                                                   "(Ho, Wo, F, C, KH, KW)", "out")
    b = as_float_array(b, op, "b")
    f = w.shape[2]
    if b.shape != (f, ho, wo):
        raise ValueError(f"{op}: b must have shape (F, Ho, Wo) = {(f, ho, wo)} to match w "
                         f"{w.shape}, got shape {b.shape}")
    dtype = np.result_type(x, w, b)
    x, w, b = (a.astype(dtype, copy=False) for a in (x, w, b))
    n = x.shape[0]
    cols = im2col(x, w.shape[4:], stride, padding)          # (N, K, P), K = C*KH*KW
    cols_p = np.ascontiguousarray(cols.transpose(2, 0, 1))  # (P, N, K): one matrix per position
    w_p = w.reshape(ho * wo, f, -1)                         # (P, F, K)
    y_p = np.matmul(cols_p, w_p.transpose(0, 2, 1))         # (P, N, F)
    y = y_p.transpose(1, 2, 0).reshape(n, f, ho, wo) + b
    return y, (cols_p, w, x.shape, stride, padding)


def locally_connected2d_backward(dy, cache):
    r"""Gradients of :func:`locally_connected2d_forward`.

    Per output position ``p`` it is a linear layer on the patch: with ``G_p`` (N, F) the upstream
    gradient there and ``X'_p`` (N, K) the patches, :math:`\partial L/\partial W_p = G_p^\T X'_p`
    and :math:`\partial L/\partial X'_p = G_p W_p`, folded back onto ``x`` by ``col2im``; the bias
    gradient is ``dy`` summed over the batch only (every position has its own bias).

    Parameters
    ----------
    dy : ndarray, shape (N, F, Ho, Wo)
    cache : from :func:`locally_connected2d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (Ho, Wo, F, C, KH, KW)
    db : ndarray, shape (F, Ho, Wo)
    """
    cols_p, w, x_shape, stride, padding = cache
    ho, wo, f = w.shape[:3]
    n = x_shape[0]
    dy = check_dout_shape(dy, (n, f, ho, wo), "locally_connected2d")
    g_p = np.ascontiguousarray(dy.reshape(n, f, ho * wo).transpose(2, 0, 1))   # (P, N, F)
    w_p = w.reshape(ho * wo, f, -1)                                            # (P, F, K)
    dw = np.matmul(g_p.transpose(0, 2, 1), cols_p).reshape(w.shape)            # (P, F, K)
    dcols = np.matmul(g_p, w_p).transpose(1, 2, 0)                             # (N, K, P)
    dx = col2im(dcols, x_shape, w.shape[4:], stride, padding)
    return dx, dw, dy.sum(axis=0)


def tiled_conv2d_forward(x, w, b, stride=1, padding=0):
    """Tiled convolution: ``TH x TW`` kernels, output position (i, j) uses ``w[i % TH, j % TW]``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (TH, TW, F, C, KH, KW)
    b : ndarray, shape (F,)
        One bias per filter, shared by all positions as in a convolution.
    stride, padding : int or pair

    Returns
    -------
    y : ndarray, shape (N, F, Ho, Wo)
    cache : tuple
    """
    from .inclusions import tiled_to_locally_connected  # the tying is an inclusion map

    op = "tiled_conv2d"
    x, w, stride, padding, (ho, wo) = _check_local(x, w, stride, padding, op,
                                                   "(TH, TW, F, C, KH, KW)", "tile")
    b = as_float_array(b, op, "b")
    f = w.shape[2]
    if b.shape != (f,):
        raise ValueError(f"{op}: b must have shape (F,) = ({f},) to match w {w.shape}, got shape "
                         f"{b.shape}")
    w_lc, b_lc = tiled_to_locally_connected(w, b, (ho, wo))
    y, lc_cache = locally_connected2d_forward(x, w_lc, b_lc, stride, padding)
    return y, (lc_cache, w.shape)


def tiled_conv2d_backward(dy, cache):
    r"""Gradients of :func:`tiled_conv2d_forward`.

    The locally connected gradients, summed over the positions that share each kernel:
    :math:`\partial L/\partial w[a, b] = \sum_{i \equiv a,\ j \equiv b} \partial L/\partial
    w_{lc}[i, j]`, and the bias gradient summed over every position. This is the transpose of
    the tying map (:func:`handgrad.inclusions.tiled_from_locally_connected_grad`).

    Parameters
    ----------
    dy : ndarray, shape (N, F, Ho, Wo)
    cache : from :func:`tiled_conv2d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (TH, TW, F, C, KH, KW)
    db : ndarray, shape (F,)
    """
    from .inclusions import tiled_from_locally_connected_grad

    lc_cache, w_shape = cache
    w_lc, x_shape = lc_cache[1], lc_cache[2]
    dy = check_dout_shape(dy, (x_shape[0], w_shape[2]) + w_lc.shape[:2], "tiled_conv2d")
    dx, dw_lc, db_lc = locally_connected2d_backward(dy, lc_cache)
    dw, db = tiled_from_locally_connected_grad(dw_lc, db_lc, w_shape[:2])
    return dx, dw, db
