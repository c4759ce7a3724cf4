"""RNN and LSTM: gradients of a step and of a sequence (BPTT) over random shapes, the sequence op
equals its steps unrolled, dtypes, stability, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handgrad import gradcheck as gc
from handgrad import ops

seeds = st.integers(0, 2**16)
sizes = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3))


def rnn_inputs(n, t, d, h, seed, gates=1, seq=True):
    rng = np.random.default_rng(seed + 11)
    x = rng.standard_normal((n, t, d) if seq else (n, d))
    states = [rng.standard_normal((n, h)) for _ in range(1 if gates == 1 else 2)]  # h0 (, c0)
    return [x, *states, 0.6 * rng.standard_normal((gates * h, d)),
            0.6 * rng.standard_normal((gates * h, h)), 0.3 * rng.standard_normal(gates * h)]


@settings(max_examples=25)
@given(size=sizes, seed=seeds)
def test_rnn_backward_matches_numeric_gradient(size, seed):
    report = gc.check_op(ops.rnn_forward, ops.rnn_backward, rnn_inputs(*size, seed), seed=seed)
    assert report.passed, str(report)


@settings(max_examples=25)
@given(size=sizes, seed=seeds)
def test_lstm_backward_matches_numeric_gradient(size, seed):
    report = gc.check_op(ops.lstm_forward, ops.lstm_backward, rnn_inputs(*size, seed, gates=4),
                         seed=seed)
    assert report.passed, str(report)


@pytest.mark.parametrize("op, gates", [("rnn", 1), ("lstm", 4), ("rnn_step", 1),
                                       ("lstm_step", 4)])
def test_recurrent_backwards_match_the_complex_step(op, gates):
    inputs = rnn_inputs(2, 3, 4, 3, 0, gates=gates, seq=not op.endswith("step"))
    report = gc.check_op(getattr(ops, f"{op}_forward"), getattr(ops, f"{op}_backward"), inputs,
                         method="complex")
    assert report.passed, str(report)


@pytest.mark.parametrize("op, gates", [("rnn_step", 1), ("lstm_step", 4)])
def test_step_backwards_match_numeric_gradient(op, gates):
    inputs = rnn_inputs(3, 1, 4, 5, 1, gates=gates, seq=False)
    report = gc.check_op(getattr(ops, f"{op}_forward"), getattr(ops, f"{op}_backward"), inputs)
    assert report.passed, str(report)


def test_long_sequences_match_directional_derivatives():
    for op, gates in (("rnn", 1), ("lstm", 4)):
        report = gc.check_op(getattr(ops, f"{op}_forward"), getattr(ops, f"{op}_backward"),
                             rnn_inputs(4, 30, 6, 8, 2, gates=gates), method="directional")
        assert report.passed, str(report)


def test_the_sequence_ops_are_their_steps_unrolled():
    x, h0, c0, W_ih, W_hh, b = rnn_inputs(2, 5, 3, 4, 3, gates=4)
    hs, _ = ops.lstm_forward(x, h0, c0, W_ih, W_hh, b)
    h, c = h0, c0
    for t in range(5):
        (h, c), _ = ops.lstm_step_forward(x[:, t], h, c, W_ih, W_hh, b)
        np.testing.assert_allclose(hs[:, t], h, rtol=1e-13, atol=1e-14)
    x, h0, W_xh, W_hh, b = rnn_inputs(2, 5, 3, 4, 4)
    hs, _ = ops.rnn_forward(x, h0, W_xh, W_hh, b)
    h = h0
    for t in range(5):
        h, _ = ops.rnn_step_forward(x[:, t], h, W_xh, W_hh, b)
        np.testing.assert_allclose(hs[:, t], h, rtol=1e-13, atol=1e-14)


def test_bptt_that_forgets_the_carried_gradient_is_caught():
    def truncated(dh, cache):  # each step sees only its own output's gradient: no carry
        x, h0, W_xh, W_hh, hs = cache
        da = dh * (1 - hs * hs)
        h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
        n, t, h = hs.shape
        return (da @ W_xh, da[:, 0] @ W_hh, da.reshape(-1, h).T @ x.reshape(n * t, -1),
                da.reshape(-1, h).T @ h_prev.reshape(-1, h), da.sum(axis=(0, 1)))

    assert not gc.check_op(ops.rnn_forward, truncated, rnn_inputs(2, 4, 3, 3, 5)).passed


def test_an_lstm_backward_that_carries_the_cell_gradient_past_the_forget_gate_is_caught(
        monkeypatch):
    from handgrad import recurrent

    original = recurrent._lstm_gates_backward

    def without_forget_gate(dh, dc, act, tc, c_prev, da):
        hd = c_prev.shape[1]
        return original(dh, dc, act, tc, c_prev, da) / act[:, hd:2 * hd]  # drops diag(f)

    monkeypatch.setattr(recurrent, "_lstm_gates_backward", without_forget_gate)
    assert not gc.check_op(ops.lstm_forward, ops.lstm_backward,
                           rnn_inputs(2, 3, 3, 3, 6, gates=4)).passed


@pytest.mark.parametrize("op, gates", [("rnn", 1), ("lstm", 4)])
def test_sequence_ops_keep_float32(op, gates):
    inputs = [a.astype(np.float32) for a in rnn_inputs(2, 4, 3, 5, 7, gates=gates)]
    y, cache = getattr(ops, f"{op}_forward")(*inputs)
    grads = getattr(ops, f"{op}_backward")(np.ones_like(y), cache)
    assert y.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)


def test_lstm_is_finite_for_huge_pre_activations():
    x, h0, c0, W_ih, W_hh, b = rnn_inputs(2, 3, 3, 4, 8, gates=4)
    with np.errstate(all="raise"):
        y, cache = ops.lstm_forward(1e4 * x, h0, c0, W_ih, W_hh, b)
        grads = ops.lstm_backward(np.ones_like(y), cache)
    assert np.all(np.isfinite(y)) and all(np.all(np.isfinite(g)) for g in grads)


@pytest.mark.parametrize("call, message", [
    (lambda: ops.rnn_forward(np.zeros((2, 3, 4)), np.zeros((2, 5)), np.zeros((5, 3)),
                             np.zeros((5, 5)), np.zeros(5)),
     "rnn: W_xh must have shape (H, D) = (5, 4)"),
    (lambda: ops.rnn_forward(np.zeros((2, 4)), np.zeros((2, 5)), np.zeros((5, 4)),
                             np.zeros((5, 5)), np.zeros(5)),
     "rnn: x must have shape (N, T, D)"),
    (lambda: ops.lstm_forward(np.zeros((2, 3, 4)), np.zeros((2, 5)), np.zeros((2, 5)),
                              np.zeros((5, 4)), np.zeros((20, 5)), np.zeros(20)),
     "lstm: W_ih must have shape (4H, D) = (20, 4)"),
    (lambda: ops.lstm_forward(np.zeros((2, 3, 4)), np.zeros((2, 5)), np.zeros((3, 5)),
                              np.zeros((20, 4)), np.zeros((20, 5)), np.zeros(20)),
     "lstm: c0 must have the shape of h0 (2, 5)"),
    (lambda: ops.lstm_step_forward(np.zeros((2, 4)), np.zeros((3, 5)), np.zeros((3, 5)),
                                   np.zeros((20, 4)), np.zeros((20, 5)), np.zeros(20)),
     "lstm_step: h_prev must have shape (N, H) with N = 2"),
    (lambda: ops.rnn_step_forward(np.zeros((2, 4)), np.zeros((2, 5)), np.zeros((5, 4)),
                                  np.zeros((5, 5)), np.zeros(4)),
     "rnn_step: b must have shape (H,) = (5,)"),
])
def test_recurrent_ops_reject_bad_shapes_with_a_clear_message(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)


def test_lstm_step_backward_wants_both_upstream_gradients():
    (h, c), cache = ops.lstm_step_forward(*rnn_inputs(2, 1, 3, 4, 9, gates=4, seq=False))
    with pytest.raises(ValueError, match=r"lstm_step_backward: dout must be the tuple \(dh, dc\)"):
        ops.lstm_step_backward(np.ones_like(h), cache)


@pytest.mark.parametrize("op, gates", [("rnn", 1), ("lstm", 4)])
def test_hidden_gradients_are_what_flows_into_each_state(op, gates):
    """Cut the sequence after step t: the total dL/dh_t is the direct g_t plus the gradient of the
    initial state of the second half (for the LSTM the cell state is carried across as well)."""
    from handgrad import recurrent

    inputs = rnn_inputs(2, 7, 3, 4, 10, gates=gates)
    x, states, weights = inputs[0], inputs[1:1 + len(inputs) - 4], inputs[-3:]
    fwd, bwd = getattr(ops, f"{op}_forward"), getattr(ops, f"{op}_backward")
    hs, cache = fwd(x, *states, *weights)
    g = np.random.default_rng(0).standard_normal(hs.shape)
    total = getattr(recurrent, f"{op}_hidden_gradients")(g, cache)
    for t in (0, 3, 6):
        if t == 6:
            np.testing.assert_allclose(total[:, t], g[:, t], rtol=1e-13)
            continue
        if op == "rnn":
            mid = (hs[:, t],)
        else:  # the cell state after step t, from a forward of the first t + 1 steps
            (_, c_t) = ops.lstm_step_forward(x[:, t], hs[:, t - 1] if t else states[0],
                                             cache[6][:, t - 1] if t else states[1],
                                             *weights)[0]
            mid = (hs[:, t], c_t)
        _, cache2 = fwd(x[:, t + 1:], *mid, *weights)
        d_state = bwd(g[:, t + 1:], cache2)[1]
        np.testing.assert_allclose(total[:, t], g[:, t] + d_state, rtol=1e-12, atol=1e-14)
