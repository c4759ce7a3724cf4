"""Character-level language modelling helpers: encoding, windows, clipping, the loss over every
step (checked numerically), sampling, and the shipped text."""

import numpy as np
import pytest

from _checks import assert_parameter_gradients_match
from handgrad import data, nn
from handgrad import sequence as sq


def test_the_shipped_text_is_the_documented_one():
    text = data.load_text()
    assert len(text) == 34849 and len(set(text)) == 59
    assert text.startswith("In the beginning God created the heaven and the earth.\n")


def test_encode_and_decode_are_inverse_and_one_hot_has_one_one():
    vocab = sq.char_vocab("hello world")
    idx = sq.encode("hello world", vocab)
    assert sq.decode(idx, vocab) == "hello world" and idx.dtype == np.int64
    oh = sq.one_hot(idx.reshape(1, -1), len(vocab))
    assert oh.shape == (1, 11, len(vocab)) and np.all(oh.sum(-1) == 1)
    assert np.all(oh.argmax(-1) == idx)
    with pytest.raises(ValueError, match=r"encode: characters \['z'\] are not in the vocabulary"):
        sq.encode("z", vocab)
    with pytest.raises(ValueError, match=r"one_hot: indices must lie in \[0, 3\)"):
        sq.one_hot(np.array([3]), 3)


def test_text_windows_pair_each_character_with_the_next():
    idx = np.arange(100)
    x, y = sq.text_windows(idx, 10, 5, np.random.default_rng(0))
    assert x.shape == y.shape == (5, 10)
    np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(ValueError, match="text_windows: the text"):
        sq.text_windows(idx[:5], 10, 1, np.random.default_rng(0))


def test_clip_grad_norm_caps_the_joint_norm_and_keeps_the_direction():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(1))
    a.grad[:] = [3.0, 0.0]
    b.grad[:] = [4.0]
    assert sq.clip_grad_norm([a, b], 10.0) == 5.0 and a.grad[0] == 3.0  # under the cap: unchanged
    assert sq.clip_grad_norm([a, b], 1.0) == 5.0
    np.testing.assert_allclose(np.concatenate([a.grad, b.grad]), [0.6, 0.0, 0.8])


@pytest.mark.parametrize("cell", [nn.RNN, nn.LSTM])
def test_char_model_gradients_match_numeric_gradient(cell):
    rng = np.random.default_rng(1)
    v = 5
    model = nn.Sequential(cell(v, 4, rng), nn.Linear(4, v, rng))
    x, y = rng.integers(0, v, (2, 6)), rng.integers(0, v, (2, 6))
    # The gradients are about 1e-3 against a loss of about 1.6: a step of 1e-5 (not the default
    # 1e-6) keeps the round-off of the difference quotient well below the tolerance.
    assert_parameter_gradients_match(model, lambda: sq.char_model_loss_and_grads(model, x, y, v),
                                     eps=1e-5)


@pytest.mark.parametrize("cell", [nn.RNN, nn.LSTM])
def test_sampling_carries_the_state_of_the_sequence_forward(cell):
    """Sampling step by step gives the logits the whole-sequence forward gives."""
    from handgrad import ops

    rng = np.random.default_rng(2)
    v = 6
    model = nn.Sequential(cell(v, 5, rng), nn.Linear(5, v, rng))
    out = sq.sample_chars(model, np.array([1, 2]), 8, np.random.default_rng(3), v)
    again = sq.sample_chars(model, np.array([1, 2]), 8, np.random.default_rng(3), v)
    np.testing.assert_array_equal(out, again)
    seq = np.concatenate([[1, 2], out])
    probs = ops.softmax_forward(model.forward(sq.one_hot(seq[None, :-1], v))[0])[0]
    # every sampled character had positive probability under the whole-sequence forward
    assert np.all(probs[np.arange(1, 9), out] > 0)
    with pytest.raises(ValueError, match="sample_chars: model must be"):
        sq.sample_chars(nn.Sequential(nn.Linear(v, v, rng)), np.array([1]), 3, rng, v)
