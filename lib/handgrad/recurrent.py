r"""Recurrent layers: the vanilla (Elman) RNN and the LSTM, one step and a whole sequence.

Sequences are batch first: ``x`` (N, T, D), hidden states (N, T, H), as PyTorch's
``batch_first=True``. Weights follow PyTorch's layout (``W_xh`` (H, D) multiplies ``x_t`` as
``x_t @ W_xh.T``).

**RNN.** :math:`h_t = \tanh(a_t)`, :math:`a_t = x_t W_{xh}^\T + h_{t-1} W_{hh}^\T + b`.

**LSTM** (Hochreiter and Schmidhuber, 1997, with the forget gate of Gers et al., 2000), gates in
PyTorch's order i, f, g, o: with :math:`a_t = x_t W_{ih}^\T + h_{t-1} W_{hh}^\T + b` (N, 4H) cut
into four blocks of H columns,

.. math::

    i = \sigma(a^i), \quad f = \sigma(a^f), \quad g = \tanh(a^g), \quad o = \sigma(a^o),\\
    c_t = f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t).

The sequence ops loop over time only. The products with the input weights do not depend on the
recurrence, so they are done for all time steps at once, before the loop (forward) or after it
(backward), as one large matrix product each; inside the loop remains only the product with
``W_hh``. Backpropagation through time runs the loop backwards, carrying the gradient of the
hidden state (and of the cell state) from step t to step t - 1.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_dout_shape, check_ndim

__all__ = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
           "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
           "rnn_hidden_gradients", "lstm_hidden_gradients"]


# ----------------------------------------------------------------------------------------------
# validation

def _check_weights(op, x, h_prev, W_x, W_h, b, gates, c_prev=None, seq=False):
    """Validate shapes; return the arrays in one common floating dtype."""
    names = ("W_ih", "W_hh") if gates == 4 else ("W_xh", "W_hh")
    layout_x = "(N, T, D)" if seq else "(N, D)"
    h_name = "h0" if seq else "h_prev"
    c_name = "c0" if seq else "c_prev"
    x = as_float_array(x, op, "x")
    h_prev = as_float_array(h_prev, op, h_name)
    W_x = as_float_array(W_x, op, names[0])
    W_h = as_float_array(W_h, op, names[1])
    b = as_float_array(b, op, "b")
    check_ndim(x, 3 if seq else 2, op, "x", layout_x)
    check_ndim(h_prev, 2, op, h_name, "(N, H)")
    n, d = x.shape[0], x.shape[-1]
    hd = h_prev.shape[1]
    rows = f"{gates}H" if gates > 1 else "H"
    if h_prev.shape[0] != n:
        raise ValueError(f"{op}: {h_name} must have shape (N, H) with N = {n} to match x "
                         f"{x.shape}, got shape {h_prev.shape}")
    if W_x.shape != (gates * hd, d):
        raise ValueError(f"{op}: {names[0]} must have shape ({rows}, D) = {(gates * hd, d)} to "
                         f"match x {x.shape} and {h_name} {h_prev.shape}, got shape {W_x.shape}")
    if W_h.shape != (gates * hd, hd):
        raise ValueError(f"{op}: {names[1]} must have shape ({rows}, H) = {(gates * hd, hd)} to "
                         f"match {h_name} {h_prev.shape}, got shape {W_h.shape}")
    if b.shape != (gates * hd,):
        raise ValueError(f"{op}: b must have shape ({rows},) = ({gates * hd},), got shape "
                         f"{b.shape}")
    arrays = [x, h_prev, W_x, W_h, b]
    if c_prev is not None:
        c_prev = as_float_array(c_prev, op, c_name)
        if c_prev.shape != h_prev.shape:
            raise ValueError(f"{op}: {c_name} must have the shape of {h_name} {h_prev.shape}, "
                             f"got shape {c_prev.shape}")
        arrays.append(c_prev)
    dtype = np.result_type(*arrays)
    return [a.astype(dtype, copy=False) for a in arrays]


# ----------------------------------------------------------------------------------------------
# RNN

def rnn_step_forward(x, h_prev, W_xh, W_hh, b):
    r"""One step of a vanilla RNN: ``h = tanh(x @ W_xh.T + h_prev @ W_hh.T + b)``.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    h_prev : ndarray, shape (N, H)
    W_xh : ndarray, shape (H, D)
    W_hh : ndarray, shape (H, H)
    b : ndarray, shape (H,)

    Returns
    -------
    h : ndarray, shape (N, H)
    cache : tuple
    """
    x, h_prev, W_xh, W_hh, b = _check_weights("rnn_step", x, h_prev, W_xh, W_hh, b, 1)
    h = np.tanh(x @ W_xh.T + h_prev @ W_hh.T + b)
    return h, (x, h_prev, W_xh, W_hh, h)


def rnn_step_backward(dh, cache):
    r"""Gradients of :func:`rnn_step_forward`.

    With :math:`\delta = \partial L/\partial a = \partial L/\partial h \odot (1 - h^2)` (N, H):
    :math:`\partial L/\partial x = \delta W_{xh}`, :math:`\partial L/\partial h_{prev} = \delta
    W_{hh}`, :math:`\partial L/\partial W_{xh} = \delta^\T x`, :math:`\partial L/\partial W_{hh} =
    \delta^\T h_{prev}`, :math:`\partial L/\partial b = \delta^\T \one`.

    Parameters
    ----------
    dh : ndarray, shape (N, H)
    cache : from :func:`rnn_step_forward`

    Returns
    -------
    dx : ndarray, shape (N, D)
    dh_prev : ndarray, shape (N, H)
    dW_xh : ndarray, shape (H, D)
    dW_hh : ndarray, shape (H, H)
    db : ndarray, shape (H,)
    """
    x, h_prev, W_xh, W_hh, h = cache
    dh = check_dout_shape(dh, h.shape, "rnn_step")
    da = dh * (1 - h * h)                 # through tanh: tanh' = 1 - tanh^2, from the output
    return da @ W_xh, da @ W_hh, da.T @ x, da.T @ h_prev, da.sum(axis=0)


def rnn_forward(x, h0, W_xh, W_hh, b):
    r"""A vanilla RNN over a whole sequence; returns every hidden state.

    Parameters
    ----------
    x : ndarray, shape (N, T, D)
    h0 : ndarray, shape (N, H)
        The initial hidden state.
    W_xh : ndarray, shape (H, D)
    W_hh : ndarray, shape (H, H)
    b : ndarray, shape (H,)

    Returns
    -------
    h : ndarray, shape (N, T, H)
        ``h[:, t]`` is the hidden state after reading ``x[:, t]``.
    cache : tuple
    """
    x, h0, W_xh, W_hh, b = _check_weights("rnn", x, h0, W_xh, W_hh, b, 1, seq=True)
    n, t_len, _ = x.shape
    a_x = x @ W_xh.T + b                  # (N, T, H): the input's share, for every step at once
    hs = np.empty((n, t_len, h0.shape[1]), dtype=a_x.dtype)
    h = h0
    W_hh_T = W_hh.T
    for t in range(t_len):
        h = np.tanh(a_x[:, t] + h @ W_hh_T)
        hs[:, t] = h
    return hs, (x, h0, W_xh, W_hh, hs)


def rnn_backward(dh, cache):
    r"""Backpropagation through time for :func:`rnn_forward`.

    ``dh`` holds the gradient of the loss with respect to every hidden state *as an output*
    (N, T, H). Going backwards, the gradient reaching :math:`h_t` is that direct part plus the
    part carried back from step t + 1 through :math:`W_{hh}`; then
    :math:`\delta_t = (\text{that sum}) \odot (1 - h_t^2)` and the carry to step t - 1 is
    :math:`\delta_t W_{hh}`. The weight gradients sum over time:
    :math:`\partial L/\partial W_{hh} = \sum_t \delta_t^\T h_{t-1}`.

    Parameters
    ----------
    dh : ndarray, shape (N, T, H)
    cache : from :func:`rnn_forward`

    Returns
    -------
    dx : ndarray, shape (N, T, D)
    dh0 : ndarray, shape (N, H)
    dW_xh : ndarray, shape (H, D)
    dW_hh : ndarray, shape (H, H)
    db : ndarray, shape (H,)
    """
    x, h0, W_xh, W_hh, hs = cache
    da, _, dh0 = _rnn_bptt(dh, cache)
    dx, dW_xh, dW_hh, db = _products_over_time(da, x, h0, hs, W_xh)
    return dx, dh0, dW_xh, dW_hh, db


def _products_over_time(da, x, h0, hs, W_x):
    r"""After the loop, for all steps at once: :math:`\partial L/\partial x_t = \delta_t W_x`, and
    the weight gradients summed over time, :math:`\sum_t \delta_t^\T x_t`,
    :math:`\sum_t \delta_t^\T h_{t-1}` and :math:`\sum_t \delta_t`, as single matrix products
    over the N*T rows (``da`` is (N, T, H) for the RNN, (N, T, 4H) for the LSTM)."""
    n, t_len = hs.shape[:2]
    h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)   # (N, T, H): h_{t-1}
    da2 = da.reshape(n * t_len, -1)
    return (da @ W_x, da2.T @ x.reshape(n * t_len, -1), da2.T @ h_prev.reshape(n * t_len, -1),
            da2.sum(axis=0))


def _rnn_bptt(dh, cache):
    """The backward loop over time: dL/da_t and the total dL/dh_t at every step, and dL/dh_0."""
    x, h0, W_xh, W_hh, hs = cache
    dh = check_dout_shape(dh, hs.shape, "rnn")
    dtype = np.result_type(dh, hs)
    da = np.empty_like(hs, dtype=dtype)
    dh_total = np.empty_like(hs, dtype=dtype)
    carry = np.zeros_like(h0, dtype=dtype)         # dL/dh_t through h_{t+1}; none after the end
    for t in range(hs.shape[1] - 1, -1, -1):
        h = hs[:, t]
        dh_total[:, t] = dh[:, t] + carry
        da[:, t] = dh_total[:, t] * (1 - h * h)
        carry = da[:, t] @ W_hh
    return da, dh_total, carry


def rnn_hidden_gradients(dh, cache):
    r"""The total gradient of the loss with respect to every hidden state of :func:`rnn_forward`.

    ``dh`` holds only the *direct* part of :math:`\partial L/\partial h_t` (through the output
    at step t); the total adds what flows back from all later steps through :math:`W_{hh}`. Its
    norm against t shows gradients vanishing or exploding as they travel back in time.

    Parameters
    ----------
    dh : ndarray, shape (N, T, H)
    cache : from :func:`rnn_forward`

    Returns
    -------
    ndarray, shape (N, T, H)
        Index ``t`` holds :math:`\partial L/\partial h_{t+1}`, the gradient of the state after
        reading ``x[:, t]`` (``h0`` is the state before the first input).
    """
    return _rnn_bptt(dh, cache)[1]


# ----------------------------------------------------------------------------------------------
# LSTM

def _lstm_gates(a, c_prev):
    r"""From the pre-activations ``a`` (N, 4H) and ``c_prev`` (N, H): the gate activations
    ``act`` (N, 4H, blocks i, f, g, o), the new cell state, its tanh, and the new hidden state.

    The three sigmoids and the tanh take one ``np.tanh`` over all 4H columns, by
    :math:`\sigma(z) = \tfrac12 (1 + \tanh(z/2))`: it cannot overflow for any ``z`` (its absolute
    error stays below 1e-16; far in the negative tail, where :math:`\sigma(z) < 10^{-16}`, it
    returns 0 rather than the tiny positive value), and it accepts complex input.
    """
    hd = c_prev.shape[1]
    act = a * 0.5
    act[:, 2 * hd:3 * hd] = a[:, 2 * hd:3 * hd]    # the candidate g is a plain tanh
    np.tanh(act, out=act)
    for block in (act[:, :2 * hd], act[:, 3 * hd:]):  # i, f and o: sigma = (1 + tanh(z/2)) / 2
        block += 1.0
        block *= 0.5
    i, f, g, o = act[:, :hd], act[:, hd:2 * hd], act[:, 2 * hd:3 * hd], act[:, 3 * hd:]
    c = f * c_prev + i * g
    tc = np.tanh(c)
    return act, c, tc, o * tc


def _lstm_gates_backward(dh, dc, act, tc, c_prev, da):
    r"""One step of the LSTM backward: from dL/dh_t and dL/dc_t (the totals reaching step t)
    to dL/da_t, written into ``da`` (N, 4H), and the carry dL/dc_{t-1}, returned.

    :math:`\partial L/\partial c = dc + dh \odot o \odot (1 - \tanh^2 c)`; then
    :math:`\partial L/\partial o = dh \odot \tanh c`, :math:`\partial L/\partial f = \partial L/
    \partial c \odot c_{prev}`, :math:`\partial L/\partial i = \partial L/\partial c \odot g`,
    :math:`\partial L/\partial g = \partial L/\partial c \odot i`, each through its activation
    (:math:`\sigma' = \sigma(1 - \sigma)`, :math:`\tanh' = 1 - \tanh^2`).
    """
    hd = c_prev.shape[1]
    i, f, g, o = act[:, :hd], act[:, hd:2 * hd], act[:, 2 * hd:3 * hd], act[:, 3 * hd:]
    dc_total = dc + dh * o * (1 - tc * tc)
    da[:, :hd] = dc_total * g * i * (1 - i)                 # input gate i = sigma(a^i)
    da[:, hd:2 * hd] = dc_total * c_prev * f * (1 - f)      # forget gate f = sigma(a^f)
    da[:, 2 * hd:3 * hd] = dc_total * i * (1 - g * g)       # candidate g = tanh(a^g)
    da[:, 3 * hd:] = dh * tc * o * (1 - o)                  # output gate o = sigma(a^o)
    return dc_total * f


def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b):
    r"""One LSTM step (gates i, f, g, o); returns the new hidden and cell states.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    h_prev, c_prev : ndarray, shape (N, H)
    W_ih : ndarray, shape (4H, D)
    W_hh : ndarray, shape (4H, H)
    b : ndarray, shape (4H,)

    Returns
    -------
    (h, c) : tuple of ndarray, each of shape (N, H)
    cache : tuple
    """
    x, h_prev, W_ih, W_hh, b, c_prev = _check_weights("lstm_step", x, h_prev, W_ih, W_hh, b, 4,
                                                      c_prev=c_prev)
    a = x @ W_ih.T + h_prev @ W_hh.T + b
    act, c, tc, h = _lstm_gates(a, c_prev)
    return (h, c), (x, h_prev, c_prev, W_ih, W_hh, act, tc)


def lstm_step_backward(dout, cache):
    r"""Gradients of :func:`lstm_step_forward`.

    Parameters
    ----------
    dout : tuple (dh, dc) of ndarray, each of shape (N, H)
        The upstream gradients of the new hidden and cell states.
    cache : from :func:`lstm_step_forward`

    Returns
    -------
    dx : ndarray, shape (N, D)
    dh_prev, dc_prev : ndarray, shape (N, H)
    dW_ih : ndarray, shape (4H, D)
    dW_hh : ndarray, shape (4H, H)
    db : ndarray, shape (4H,)
    """
    x, h_prev, c_prev, W_ih, W_hh, act, tc = cache
    if not isinstance(dout, tuple) or len(dout) != 2:
        raise ValueError("lstm_step_backward: dout must be the tuple (dh, dc) of the gradients "
                         "of both outputs")
    dh = check_dout_shape(dout[0], h_prev.shape, "lstm_step")
    dc = check_dout_shape(dout[1], h_prev.shape, "lstm_step")
    da = np.empty_like(act, dtype=np.result_type(dh, dc, act))
    dc_prev = _lstm_gates_backward(dh, dc, act, tc, c_prev, da)
    return da @ W_ih, da @ W_hh, dc_prev, da.T @ x, da.T @ h_prev, da.sum(axis=0)


def lstm_forward(x, h0, c0, W_ih, W_hh, b):
    r"""An LSTM over a whole sequence (gates i, f, g, o); returns every hidden state.

    Parameters
    ----------
    x : ndarray, shape (N, T, D)
    h0, c0 : ndarray, shape (N, H)
    W_ih : ndarray, shape (4H, D)
    W_hh : ndarray, shape (4H, H)
    b : ndarray, shape (4H,)

    Returns
    -------
    h : ndarray, shape (N, T, H)
    cache : tuple
    """
    x, h0, W_ih, W_hh, b, c0 = _check_weights("lstm", x, h0, W_ih, W_hh, b, 4, c_prev=c0,
                                              seq=True)
    n, t_len, _ = x.shape
    hd = h0.shape[1]
    a_x = x @ W_ih.T + b                   # (N, T, 4H) for every step at once
    dtype = a_x.dtype
    hs = np.empty((n, t_len, hd), dtype=dtype)
    cs = np.empty((n, t_len, hd), dtype=dtype)
    acts = np.empty((n, t_len, 4 * hd), dtype=dtype)   # gate activations i, f, g, o per step
    tcs = np.empty((n, t_len, hd), dtype=dtype)
    h, c = h0, c0
    W_hh_T = W_hh.T
    for t in range(t_len):
        acts[:, t], c, tcs[:, t], h = _lstm_gates(a_x[:, t] + h @ W_hh_T, c)
        hs[:, t], cs[:, t] = h, c
    return hs, (x, h0, c0, W_ih, W_hh, hs, cs, acts, tcs)


def lstm_backward(dh, cache):
    r"""Backpropagation through time for :func:`lstm_forward`.

    Two quantities are carried backwards from step t + 1 to step t: the gradient of the hidden
    state (through :math:`W_{hh}`) and that of the cell state (through the forget gate,
    :math:`\partial c_{t+1}/\partial c_t = \diag(f_{t+1})`).

    Parameters
    ----------
    dh : ndarray, shape (N, T, H)
        Gradient of the loss with respect to every hidden state as an output.
    cache : from :func:`lstm_forward`

    Returns
    -------
    dx : ndarray, shape (N, T, D)
    dh0, dc0 : ndarray, shape (N, H)
    dW_ih : ndarray, shape (4H, D)
    dW_hh : ndarray, shape (4H, H)
    db : ndarray, shape (4H,)
    """
    x, h0, c0, W_ih, W_hh, hs, cs, acts, tcs = cache
    da, _, dh0, dc0 = _lstm_bptt(dh, cache)
    dx, dW_ih, dW_hh, db = _products_over_time(da, x, h0, hs, W_ih)
    return dx, dh0, dc0, dW_ih, dW_hh, db


def _lstm_bptt(dh, cache):
    """The backward loop over time: dL/da_t, the total dL/dh_t at every step, dL/dh_0, dL/dc_0."""
    x, h0, c0, W_ih, W_hh, hs, cs, acts, tcs = cache
    dh = check_dout_shape(dh, hs.shape, "lstm")
    n, t_len, hd = hs.shape
    dtype = np.result_type(dh, hs)
    da = np.empty((n, t_len, 4 * hd), dtype=dtype)
    dh_total = np.empty((n, t_len, hd), dtype=dtype)
    carry_h = np.zeros((n, hd), dtype=dtype)
    carry_c = np.zeros((n, hd), dtype=dtype)
    for t in range(t_len - 1, -1, -1):
        c_prev = cs[:, t - 1] if t > 0 else c0
        da_t = da[:, t]
        dh_total[:, t] = dh[:, t] + carry_h
        carry_c = _lstm_gates_backward(dh_total[:, t], carry_c, acts[:, t], tcs[:, t], c_prev,
                                       da_t)
        carry_h = da_t @ W_hh
    return da, dh_total, carry_h, carry_c


def lstm_hidden_gradients(dh, cache):
    r"""The total gradient of the loss with respect to every hidden state of :func:`lstm_forward`.

    As :func:`rnn_hidden_gradients`: the direct part ``dh`` plus everything that flows back from
    later steps, through both the hidden state and the cell state.

    Parameters
    ----------
    dh : ndarray, shape (N, T, H)
    cache : from :func:`lstm_forward`

    Returns
    -------
    ndarray, shape (N, T, H)
    """
    return _lstm_bptt(dh, cache)[1]
