"""Character-level language modelling with the library's recurrent layers: encoding a text,
drawing training windows, the loss over every step, gradient clipping, and sampling.

A model is ``nn.Sequential(nn.RNN(V, H, rng), nn.Linear(H, V, rng))`` (or ``nn.LSTM``): it reads
one-hot characters (N, T, V) and gives the logits of the next character at every step (N, T, V).
"""

from __future__ import annotations

import numpy as np

from . import ops

__all__ = ["char_vocab", "encode", "decode", "one_hot", "text_windows", "clip_grad_norm",
           "char_model_loss_and_grads", "sample_chars"]


def char_vocab(text: str) -> list:
    """The distinct characters of ``text``, sorted: index ``k`` stands for ``vocab[k]``."""
    return sorted(set(text))


def encode(text: str, vocab) -> np.ndarray:
    """The indices (int64, shape (len(text),)) of the characters of ``text`` in ``vocab``."""
    index = {ch: k for k, ch in enumerate(vocab)}
    missing = sorted(set(text) - set(index))
    if missing:
        raise ValueError(f"encode: characters {missing!r} are not in the vocabulary")
    return np.fromiter((index[ch] for ch in text), dtype=np.int64, count=len(text))


def decode(indices, vocab) -> str:
    """The text spelled by ``indices`` (any shape, read in C order)."""
    return "".join(vocab[int(k)] for k in np.ravel(indices))


def one_hot(indices, n: int) -> np.ndarray:
    """One-hot vectors: shape ``indices.shape + (n,)``, float64, a single 1 per vector."""
    indices = np.asarray(indices)
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise ValueError(f"one_hot: indices must lie in [0, {n}), got values from "
                         f"{indices.min()} to {indices.max()}")
    out = np.zeros(indices.shape + (n,))
    np.put_along_axis(out, indices[..., None], 1.0, axis=-1)
    return out


def text_windows(indices, seq_len: int, batch_size: int, rng: np.random.Generator):
    """A batch of random windows of the encoded text and, for each, the next characters.

    Parameters
    ----------
    indices : ndarray of int, shape (L,)
    seq_len : int
        T, the length of each window.
    batch_size : int
        N, the number of windows.
    rng : numpy Generator

    Returns
    -------
    x : ndarray of int, shape (N, T)
        ``indices[s : s + T]`` for N random starts ``s``.
    y : ndarray of int, shape (N, T)
        ``indices[s + 1 : s + T + 1]``: the character that follows each one of ``x``.
    """
    indices = np.asarray(indices)
    if indices.size < seq_len + 1:
        raise ValueError(f"text_windows: the text ({indices.size} characters) is shorter than "
                         f"seq_len + 1 = {seq_len + 1}")
    starts = rng.integers(0, indices.size - seq_len, size=batch_size)
    offsets = starts[:, None] + np.arange(seq_len)
    return indices[offsets], indices[offsets + 1]


def clip_grad_norm(params, max_norm: float) -> float:
    r"""Rescale the gradients of ``params`` together so that their joint norm is at most
    ``max_norm``; return the norm they had before.

    With :math:`\nu = \sqrt{\sum_p \lVert \nabla p \rVert^2}`, every gradient is multiplied by
    :math:`\min(1, \text{max\_norm} / \nu)`: the direction of the step is kept, only its length is
    capped (Pascanu et al., 2013).
    """
    norm = float(np.sqrt(sum(np.sum(p.grad * p.grad) for p in params)))
    if norm > max_norm:
        for p in params:
            p.grad *= max_norm / norm
    return norm


def char_model_loss_and_grads(model, x, y, vocab_size: int) -> float:
    """Mean cross-entropy of the next-character predictions over every step of every window.

    Leaves the gradients of the batch in the model's parameters (zeroed first).

    Parameters
    ----------
    model : nn.Sequential of a recurrent layer and a Linear layer
    x, y : ndarray of int, shape (N, T)
        Input characters and the characters that follow them.
    vocab_size : int

    Returns
    -------
    float
        The loss, averaged over the N*T predictions.
    """
    model.zero_grad()
    logits = model.forward(one_hot(x, vocab_size))                  # (N, T, V)
    loss, cache = ops.cross_entropy_forward(logits.reshape(-1, vocab_size), y.reshape(-1))
    dlogits = ops.cross_entropy_backward(1.0, cache).reshape(logits.shape)
    model.backward(dlogits)
    return float(loss)


def sample_chars(model, prefix, n: int, rng: np.random.Generator, vocab_size: int,
                 temperature: float = 1.0) -> np.ndarray:
    """Generate ``n`` characters after ``prefix``, one at a time, carrying the recurrent state.

    The prefix is read by the step op of the model's recurrent layer (``rnn_step_forward`` or
    ``lstm_step_forward``); then each next character is drawn from ``softmax(logits /
    temperature)`` and fed back in.

    Parameters
    ----------
    model : nn.Sequential(nn.RNN or nn.LSTM, nn.Linear)
    prefix : ndarray of int, shape (P,), P >= 1
    n : int
    rng : numpy Generator
    vocab_size : int
    temperature : float
        Below 1 sharpens the distribution, above 1 flattens it.

    Returns
    -------
    ndarray of int, shape (n,)
    """
    from . import nn

    rec, head = model.layers[0], model.layers[-1]
    if not isinstance(rec, (nn.RNN, nn.LSTM)) or not isinstance(head, nn.Linear):
        raise ValueError("sample_chars: model must be Sequential(RNN or LSTM, Linear)")
    weights = (rec.W_x.value, rec.W_h.value, rec.b.value)
    h = np.zeros((1, rec.hidden_size))
    c = np.zeros_like(h)

    def step(k):
        nonlocal h, c
        x = one_hot(np.array([k]), vocab_size)
        if isinstance(rec, nn.LSTM):
            (h, c), _ = ops.lstm_step_forward(x, h, c, *weights)
        else:
            h, _ = ops.rnn_step_forward(x, h, *weights)
        logits, _ = ops.linear_forward(h, head.W.value, head.b.value)
        return logits[0]

    for k in np.asarray(prefix):
        logits = step(k)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        p, _ = ops.softmax_forward(logits / temperature)
        out[i] = rng.choice(vocab_size, p=p / p.sum())
        logits = step(out[i])
    return out
