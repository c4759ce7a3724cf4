r"""The inclusions of note 000, problem 46.4, as maps between parameters:

    average pooling ⊂ convolution ⊂ tiled convolution ⊂ locally connected ⊂ fully connected.

Each inclusion is a linear map :math:`E` from the smaller layer's parameters :math:`\theta` to
the larger layer's, :math:`\Theta = E\theta`, such that the larger layer with parameters
:math:`E\theta` computes exactly the smaller layer. By the chain rule, the gradient of the smaller
layer's parameters is the larger layer's gradient *mapped back* by the transpose of the embedding:

.. math::

    \frac{\partial L}{\partial \theta} = E^\T \frac{\partial L}{\partial \Theta}.

For each inclusion this module has the embedding (``a_to_b``) and, where the smaller layer has
parameters, its transpose (``a_from_b_grad``): a sum over the copies of a tied weight, or a pick of
the entries a weight was placed in. Average pooling has no parameters; it is the convolution with
a fixed kernel, and its input gradient equals that convolution's.
"""

from __future__ import annotations

import numpy as np

from .conv import as_pair, conv_output_size
from .local import tile_index

__all__ = ["avg_pool_as_conv", "conv_to_tiled", "tiled_from_conv_grad",
           "tiled_to_locally_connected", "tiled_from_locally_connected_grad",
           "locally_connected_to_dense", "locally_connected_from_dense_grad"]


def avg_pool_as_conv(channels: int, kernel_size, dtype=np.float64):
    r"""The convolution that computes average pooling: a fixed kernel, no learning.

    ``conv2d(x, w, b, stride=s)`` equals ``avg_pool2d(x, kernel_size, s)`` for the returned
    ``w``: each output channel ``c`` averages input channel ``c`` only, so
    ``w[c, c] = 1 / (KH*KW)`` and ``w[f, c] = 0`` for ``f != c``.

    Parameters
    ----------
    channels : int
        C, the number of channels (pooling keeps it).
    kernel_size : int or (KH, KW)
    dtype : numpy dtype

    Returns
    -------
    w : ndarray, shape (C, C, KH, KW)
    b : ndarray, shape (C,), zeros
    """
    kh, kw = as_pair(kernel_size, "avg_pool_as_conv", "kernel_size", 1)
    w = np.zeros((channels, channels, kh, kw), dtype=dtype)
    w[np.arange(channels), np.arange(channels)] = 1.0 / (kh * kw)
    return w, np.zeros(channels, dtype=dtype)


def conv_to_tiled(w):
    """A convolution kernel bank as tiled weights with one tile: ``(TH, TW) = (1, 1)``.

    Parameters
    ----------
    w : ndarray, shape (F, C, KH, KW)

    Returns
    -------
    ndarray, shape (1, 1, F, C, KH, KW)
        The bias is unchanged: both layers have one bias per filter.
    """
    return np.asarray(w)[None, None]


def tiled_from_conv_grad(dw_tiled):
    """Map a tiled gradient of shape (1, 1, F, C, KH, KW) back to the convolution's kernel.

    The transpose of :func:`conv_to_tiled`, which only adds two axes: it removes them.
    """
    dw_tiled = np.asarray(dw_tiled)
    if dw_tiled.shape[:2] != (1, 1):
        raise ValueError(f"tiled_from_conv_grad: dw_tiled must have shape (1, 1, F, C, KH, KW), "
                         f"got shape {dw_tiled.shape}")
    return dw_tiled[0, 0]


def tiled_to_locally_connected(w, b, out_hw, mode: str = "cycle"):
    """Tiled weights as locally connected ones: position (i, j) gets a copy of its tile's kernel.

    Parameters
    ----------
    w : ndarray, shape (TH, TW, F, C, KH, KW)
    b : ndarray, shape (F,)
    out_hw : (Ho, Wo)
        The output size of the layer.
    mode : {'cycle', 'block'}
        How positions are assigned to tiles (:func:`handgrad.local.tile_index`); 'cycle' is the
        tiled convolution of the contract.

    Returns
    -------
    w_lc : ndarray, shape (Ho, Wo, F, C, KH, KW)
        ``w_lc[i, j] = w[ti[i], tj[j]]``.
    b_lc : ndarray, shape (F, Ho, Wo)
        ``b`` repeated at every position.
    """
    w, b = np.asarray(w), np.asarray(b)
    ho, wo = out_hw
    ti, tj = tile_index(ho, w.shape[0], mode), tile_index(wo, w.shape[1], mode)
    w_lc = w[ti[:, None], tj[None, :]]
    b_lc = np.broadcast_to(b[:, None, None], (b.shape[0], ho, wo)).copy()
    return w_lc, b_lc


def tiled_from_locally_connected_grad(dw_lc, db_lc, tiles, mode: str = "cycle"):
    """Map locally connected gradients back to the tiled parameters (transpose of the tying).

    A tiled weight is copied to several positions, so its gradient is the sum of the gradients of
    its copies; the shared bias collects the bias gradient of every position.

    Parameters
    ----------
    dw_lc : ndarray, shape (Ho, Wo, F, C, KH, KW)
    db_lc : ndarray, shape (F, Ho, Wo)
    tiles : (TH, TW)
    mode : {'cycle', 'block'}, as in :func:`tiled_to_locally_connected`

    Returns
    -------
    dw : ndarray, shape (TH, TW, F, C, KH, KW)
    db : ndarray, shape (F,)
    """
    dw_lc = np.asarray(dw_lc)
    th, tw = tiles
    ho, wo = dw_lc.shape[:2]
    ti, tj = tile_index(ho, th, mode), tile_index(wo, tw, mode)
    dw = np.zeros((th, tw) + dw_lc.shape[2:], dtype=dw_lc.dtype)
    np.add.at(dw, (ti[:, None], tj[None, :]), dw_lc)   # every copy adds to its tile
    return dw, np.asarray(db_lc).sum(axis=(1, 2))


def _dense_index(w_shape, x_chw, stride, padding):
    """For every locally connected weight: its row and column in the dense matrix, and whether it
    multiplies a real input pixel (True) or the zero padding (False). Arrays of shape w_shape."""
    ho, wo, f, c, kh, kw = w_shape
    ch, h, wd = x_chw
    (sh, sw), (ph, pw) = stride, padding
    i, j, fi, ci, p, q = np.meshgrid(np.arange(ho), np.arange(wo), np.arange(f), np.arange(c),
                                     np.arange(kh), np.arange(kw), indexing="ij", sparse=True)
    u, v = sh * i + p - ph, sw * j + q - pw             # input pixel the weight multiplies
    inside = (u >= 0) & (u < h) & (v >= 0) & (v < wd)
    rows = (fi * ho + i) * wo + j                       # output (f, i, j), C order
    cols = (ci * h + np.clip(u, 0, h - 1)) * wd + np.clip(v, 0, wd - 1)   # input (c, u, v)
    full = np.broadcast_shapes(rows.shape, cols.shape, inside.shape)
    return (np.broadcast_to(rows, full), np.broadcast_to(cols, full),
            np.broadcast_to(inside, full))


def locally_connected_to_dense(w, b, x_chw, stride=1, padding=0):
    r"""Locally connected weights as the matrix of a fully connected layer on the flattened input.

    With ``W, b_d`` returned, ``linear(x.reshape(N, -1), W, b_d).reshape(N, F, Ho, Wo)`` equals
    the locally connected layer. ``W`` has a row per output (f, i, j) and a column per input
    (c, u, v), both flattened in C order; the row of output (f, i, j) holds ``w[i, j, f]`` in the
    columns of its receptive field and zeros elsewhere. Weights that fall in the zero padding
    multiply nothing and have no entry.

    Parameters
    ----------
    w : ndarray, shape (Ho, Wo, F, C, KH, KW)
    b : ndarray, shape (F, Ho, Wo)
    x_chw : (C, H, W)
        The shape of one input sample.
    stride, padding : int or pair

    Returns
    -------
    W : ndarray, shape (F*Ho*Wo, C*H*W)
    b_d : ndarray, shape (F*Ho*Wo,)
    """
    op = "locally_connected_to_dense"
    w, b = np.asarray(w), np.asarray(b)
    stride, padding = as_pair(stride, op, "stride", 1), as_pair(padding, op, "padding", 0)
    ho, wo, f, c, kh, kw = w.shape
    ch, h, wd = x_chw
    expected = (conv_output_size(h, kh, stride[0], padding[0]),
                conv_output_size(wd, kw, stride[1], padding[1]))
    if (ho, wo) != expected or c != ch:
        raise ValueError(f"{op}: w of shape {w.shape} does not fit inputs {tuple(x_chw)} with "
                         f"stride {stride} and padding {padding} (output {expected})")
    rows, cols, inside = _dense_index(w.shape, x_chw, stride, padding)
    W = np.zeros((f * ho * wo, ch * h * wd), dtype=w.dtype)
    W[rows[inside], cols[inside]] = w[inside]   # each dense entry receives at most one weight
    return W, b.reshape(-1).copy()


def locally_connected_from_dense_grad(dW, db, w_shape, x_chw, stride=1, padding=0):
    """Map dense gradients back to the locally connected parameters (transpose of the embedding).

    Each locally connected weight sits in one entry of the dense matrix, so its gradient is the
    dense gradient at that entry; weights in the padding get zero. The dense gradient is nonzero
    at entries that the embedding keeps at zero too: a fully connected layer would learn them,
    the locally connected layer has no such parameter.

    Parameters
    ----------
    dW : ndarray, shape (F*Ho*Wo, C*H*W)
    db : ndarray, shape (F*Ho*Wo,)
    w_shape : (Ho, Wo, F, C, KH, KW)
    x_chw : (C, H, W)
    stride, padding : int or pair

    Returns
    -------
    dw : ndarray, shape w_shape
    db : ndarray, shape (F, Ho, Wo)
    """
    op = "locally_connected_from_dense_grad"
    stride, padding = as_pair(stride, op, "stride", 1), as_pair(padding, op, "padding", 0)
    dW = np.asarray(dW)
    rows, cols, inside = _dense_index(tuple(w_shape), x_chw, stride, padding)
    dw = np.where(inside, dW[rows, cols], 0.0).astype(dW.dtype, copy=False)
    ho, wo, f = w_shape[:3]
    return dw, np.asarray(db).reshape(f, ho, wo)
