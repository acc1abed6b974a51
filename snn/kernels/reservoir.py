"""Echo-state-network time loop: ``x <- (1 - leak) x + leak f(W x + W_in u + b + W_fb y)``.

``W`` is CSR (rows = receiving units). Sequences of a batch are independent and run in
parallel; a single long sequence instead splits each step's rows across threads when the
matrix is large enough to pay for the synchronisation.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

TANH = 0
IDENTITY = 1


@njit(cache=True, inline="always")
def _activate(value, activation):
    return np.tanh(value) if activation == TANH else value


@njit(cache=True, inline="always")
def _drive(i, t, sequence, inputs, w_in, bias, feedback, w_fb):
    """Input, bias and feedback into unit ``i`` at step ``t`` of ``sequence``."""
    total = bias[i]
    for k in range(inputs.shape[2]):
        total += w_in[i, k] * inputs[sequence, t, k]
    if feedback.shape[2]:
        for k in range(feedback.shape[2]):
            total += w_fb[i, k] * feedback[sequence, t, k]
    return total


@njit(cache=True, parallel=True)
def run_batch(indptr, indices, data, w_in, bias, w_fb, leak, activation, inputs, feedback, x0, states):
    """Fill ``states[b, t]`` (B, T, N) from ``inputs`` (B, T, I), teacher ``feedback`` (B, T, O:
    the output of step t - 1, may have O = 0) and initial states ``x0`` (B, N)."""
    n = x0.shape[1]
    for sequence in prange(inputs.shape[0]):
        previous = x0[sequence].copy()
        for t in range(inputs.shape[1]):
            current = states[sequence, t]
            for i in range(n):
                total = _drive(i, t, sequence, inputs, w_in, bias, feedback, w_fb)
                for k in range(indptr[i], indptr[i + 1]):
                    total += data[k] * previous[indices[k]]
                current[i] = (1.0 - leak) * previous[i] + leak * _activate(total, activation)
            previous = current


@njit(cache=True, parallel=True)
def _step_rows(
    indptr, indices, data, w_in, bias, w_fb, leak, activation, inputs, feedback, t, previous, current
):
    for i in prange(previous.size):
        total = _drive(i, t, 0, inputs, w_in, bias, feedback, w_fb)
        for k in range(indptr[i], indptr[i + 1]):
            total += data[k] * previous[indices[k]]
        current[i] = (1.0 - leak) * previous[i] + leak * _activate(total, activation)


@njit(cache=True)
def run_rows(indptr, indices, data, w_in, bias, w_fb, leak, activation, inputs, feedback, x0, states):
    """As :func:`run_batch` for one sequence (B = 1), rows of each step split across threads."""
    previous = x0[0].copy()
    for t in range(inputs.shape[1]):
        current = states[0, t]
        _step_rows(
            indptr, indices, data, w_in, bias, w_fb, leak, activation, inputs, feedback, t, previous, current
        )
        previous = current


@njit(cache=True)
def generate(
    indptr, indices, data, w_in, bias, w_fb, leak, activation, w_out, b_out, x0, y0, states, outputs
):
    """Free-running prediction: the readout's output ``y = W_out x + b_out`` of each step is
    the next step's input (and feedback, when ``w_fb`` has columns). ``states`` (T, N),
    ``outputs`` (T, O); ``x0`` (N,) and ``y0`` (O,) are the state and output before step 0."""
    previous = x0.copy()
    y = y0.copy()
    n = previous.size
    for t in range(states.shape[0]):
        current = states[t]
        for i in range(n):
            total = bias[i]
            for k in range(w_in.shape[1]):
                total += w_in[i, k] * y[k]
            for k in range(w_fb.shape[1]):
                total += w_fb[i, k] * y[k]
            for k in range(indptr[i], indptr[i + 1]):
                total += data[k] * previous[indices[k]]
            current[i] = (1.0 - leak) * previous[i] + leak * _activate(total, activation)
        for o in range(y.size):
            value = b_out[o]
            for i in range(n):
                value += w_out[o, i] * current[i]
            y[o] = value
            outputs[t, o] = value
        previous = current
