"""Numba kernels for :class:`ann_bridge.scan.DeltaLIFScan` on CPU tensors.

The torch scan launches ~8 elementwise operations per step, each a pass over the whole
``(batch, neurons)`` state, and keeps the membrane of every step for the backward pass.
Here each thread owns a block of neurons and runs all steps over it (one parallel launch
per pass), so the state stays in cache; the backward pass recomputes the block's membrane
history from the increments (which autograd keeps anyway) instead of storing it. The
arithmetic is the torch scan's, operation for operation, in the tensors' dtype.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from snn.kernels import steps

BLOCK = 1024  # neurons per thread-task: its membrane history (T x BLOCK) stays small

FAST_SIGMOID = 0
TRIANGLE = 1
ARCTAN = 2
CODES = {"fast_sigmoid": FAST_SIGMOID, "triangle": TRIANGLE, "arctan": ARCTAN}


@njit(cache=True, inline="always")
def _derivative(x, code, scale):
    """The surrogate ``code``'s S'(x) (:mod:`snn.learning.surrogates`, compiled)."""
    if code == FAST_SIGMOID:
        return steps.fast_sigmoid(x, scale)
    if code == TRIANGLE:
        return steps.triangle(x, scale)
    return steps.arctan(x, scale)


@njit(cache=True, inline="always")
def _run_block(increments, v0, low, high, p, v_before_reset, spikes):
    """The forward recurrence over neurons ``[low, high)``; ``v_before_reset`` (T, high - low)
    gets the membrane before reset, ``spikes`` (T, M) the 0/1 spikes (either may be empty:
    not kept).

    ``p`` = (alpha, const_drive, syn_coef, v_th, threshold_scale, reset_subtract,
    reset_amount, v_reset)."""
    alpha, const_drive, syn_coef, v_th, threshold_scale, reset_subtract, reset_amount, v_reset = p
    v = v0[low:high].copy()
    syn = np.zeros_like(v)
    for t in range(increments.shape[0]):
        for j in range(high - low):
            value = steps.lif_integrate(v[j], alpha, const_drive, syn_coef * syn[j])
            if v_before_reset.shape[0]:
                v_before_reset[t, j] = value
            distance = value - v_th
            if threshold_scale != 1.0:
                distance = distance / threshold_scale
            fired = steps.lif_crossed(distance, 0.0)
            if spikes.shape[0]:
                spikes[t, low + j] = 1.0 if fired else 0.0
            if fired:
                value = steps.lif_reset(value, v_reset, reset_amount, reset_subtract)
            v[j] = value
            syn[j] = increments[t, low + j]


@njit(cache=True, parallel=True)
def forward(increments, v0, p, spikes):
    """Fill ``spikes`` (T, M) from ``increments`` (T, M) and ``v0`` (M,); ``p`` as in :func:`_run_block`."""
    size = increments.shape[1]
    no_history = np.empty((0, 0), dtype=increments.dtype)
    for block in prange((size + BLOCK - 1) // BLOCK):
        low = block * BLOCK
        _run_block(increments, v0, low, min(size, low + BLOCK), p, no_history, spikes)


@njit(cache=True, parallel=True)
def backward(grad_spikes, increments, v0, p, code, surrogate_scale, grad_increments):
    """The adjoint, run in reverse over each block's recomputed membrane history: fill
    ``grad_increments`` (T, M)."""
    alpha, _, syn_coef, v_th, threshold_scale, reset_subtract, _, _ = p
    steps, size = increments.shape
    no_spikes = np.empty((0, 0), dtype=increments.dtype)
    for block in prange((size + BLOCK - 1) // BLOCK):
        low = block * BLOCK
        high = min(size, low + BLOCK)
        history = np.empty((steps, high - low), dtype=increments.dtype)
        _run_block(increments, v0, low, high, p, history, no_spikes)
        carry = np.zeros(high - low, dtype=increments.dtype)  # dL/dv_{t+1} before reset
        for t in range(steps - 1, -1, -1):
            for j in range(high - low):
                grad_increments[t, low + j] = carry[j] * syn_coef
                distance = history[t, j] - v_th
                if threshold_scale != 1.0:
                    distance = distance / threshold_scale
                surrogate = _derivative(distance, code, surrogate_scale) / threshold_scale
                through_reset = carry[j] * alpha
                if not reset_subtract and distance > 0:
                    through_reset = through_reset * 0
                carry[j] = grad_spikes[t, low + j] * surrogate + through_reset
