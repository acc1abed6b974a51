"""Echo-state-network time loop: ``x <- (1 - leak) x + leak f(W x + W_in u + b + W_fb y)``.

``W`` is CSR (rows = receiving units). Sequences of a batch are independent and run in
parallel; a single long sequence instead splits each step's rows across worker threads
(:func:`run_share`) when the matrix is large enough to pay for the synchronisation.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from snn.kernels.sync import barrier, first_sense

TANH = 0
IDENTITY = 1


@njit(cache=True, inline="always")
def _activate(value, activation):
    return np.tanh(value) if activation == TANH else value


@njit(cache=True, inline="always")
def _row_dot(indptr, indices, data, x, i):
    """Row ``i`` of the CSR matrix times ``x``. ``indices`` are unsigned, which spares the
    gather numba's negative-index wraparound check (about a third of its time)."""
    total = 0.0
    for k in range(indptr[i], indptr[i + 1]):
        total += data[k] * x[indices[k]]
    return total


@njit(cache=True, inline="always")
def _drive(i, t, sequence, inputs, w_in, bias, feedback, w_fb):
    """Input, bias and feedback into unit ``i`` at step ``t`` of ``sequence``."""
    total = bias[i]
    for k in range(inputs.shape[2]):
        total += w_in[i, k] * inputs[sequence, t, k]
    for k in range(feedback.shape[2]):
        total += w_fb[i, k] * feedback[sequence, t, k]
    return total


@njit(cache=True, inline="always")
def _leaky_update(
    t, sequence, first, recurrent, previous, current, inputs, w_in, bias, feedback, w_fb, leak, activation
):
    """``current = (1 - leak) previous + leak f(recurrent + drive)`` for units ``first`` to
    ``first + recurrent.size``, with ``recurrent`` (their ``W x``) reused as scratch. The
    activation gets a loop of its own so that it vectorises (a scalar tanh per unit costs as
    much as the sparse product)."""
    n = recurrent.size
    for j in range(n):
        recurrent[j] += _drive(first + j, t, sequence, inputs, w_in, bias, feedback, w_fb)
    if activation == TANH:
        for j in range(n):
            recurrent[j] = np.tanh(recurrent[j])
    for j in range(n):
        current[first + j] = (1.0 - leak) * previous[first + j] + leak * recurrent[j]


@njit(cache=True, inline="always")
def _run_sequence(
    sequence, indptr, indices, data, w_in, bias, w_fb, leak, activation, inputs, feedback, x0, states
):
    """One sequence of the batch. Each step first forms ``W x`` for every unit, then the
    pointwise update. The state lives in two local buffers that swap roles (a view into
    ``states`` as the gather's source costs a third more time), copied out every step."""
    previous = x0[sequence].copy()
    current = np.empty_like(previous)
    recurrent = np.empty_like(previous)
    for t in range(inputs.shape[1]):
        for i in range(previous.size):
            recurrent[i] = _row_dot(indptr, indices, data, previous, i)
        _leaky_update(
            t, sequence, 0, recurrent, previous, current, inputs, w_in, bias, feedback, w_fb, leak, activation
        )
        states[sequence, t] = current
        previous, current = current, previous


@njit(cache=True, parallel=True)
def run_batch(indptr, indices, data, w_in, bias, w_fb, leak, activation, inputs, feedback, x0, states):
    """Fill ``states[b, t]`` (B, T, N) from ``inputs`` (B, T, I), teacher ``feedback`` (B, T, O:
    the output of step t - 1, may have O = 0) and initial states ``x0`` (B, N); sequences in
    parallel."""
    for sequence in prange(inputs.shape[0]):
        _run_sequence(
            sequence, indptr, indices, data, w_in, bias, w_fb, leak, activation, inputs, feedback, x0, states
        )


@njit(cache=True)
def run_single(indptr, indices, data, w_in, bias, w_fb, leak, activation, inputs, feedback, x0, states):
    """As :func:`run_batch` for B = 1 on one thread: no thread pool to start, or to fight
    a BLAS pool that is still spinning after the last readout fit."""
    _run_sequence(0, indptr, indices, data, w_in, bias, w_fb, leak, activation, inputs, feedback, x0, states)


@njit(cache=True, nogil=True)
def run_share(worker, row_split, sync, indptr, indices, data, w_in, bias, w_fb, leak, activation, inputs,
              feedback, x0, states):  # fmt: skip
    """As :func:`run_single`, for one of several workers that step one sequence together
    (B = 1): worker ``w`` computes units ``row_split[w]:row_split[w + 1]`` of every step and
    meets the others at a barrier before the next step reads them. Each unit's arithmetic
    is :func:`run_single`'s, so the states are the same bit for bit."""
    first, end = row_split[worker], row_split[worker + 1]
    workers = row_split.size - 1
    recurrent = np.empty(end - first, dtype=states.dtype)
    sense = first_sense(sync)
    previous = x0[0]
    for t in range(inputs.shape[1]):
        current = states[0, t]
        for i in range(first, end):
            recurrent[i - first] = _row_dot(indptr, indices, data, previous, i)
        _leaky_update(
            t, 0, first, recurrent, previous, current, inputs, w_in, bias, feedback, w_fb, leak, activation
        )
        sense = barrier(sync, workers, sense)
        if sense < 0:  # another worker failed
            return
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
            total += _row_dot(indptr, indices, data, previous, i)
            current[i] = (1.0 - leak) * previous[i] + leak * _activate(total, activation)
        for o in range(y.size):
            value = b_out[o]
            for i in range(n):
                value += w_out[o, i] * current[i]
            y[o] = value
            outputs[t, o] = value
        previous = current
