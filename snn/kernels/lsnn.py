r"""LSNN kernels: the forward pass, and the forward pass with e-prop's eligibility traces.

One step ``t`` for recurrent neuron ``j`` (the reference simulator's order and conventions,
so an exported LSNN runs identically on ``snn.Simulator``):

.. code-block:: text

    hold_j  = left_j > 0                              refractory countdown: v held, input dropped
    u_j     = v_j                      if hold_j      else alpha_j v_j + alpha_j I_j
    A_j     = v_th + beta_j b_j                       (b from step t - 1)
    z_j     = H(u_j - A_j), never while held
    psi_j   = (gamma / v_th) max(0, 1 - |u_j - A_j| / v_th), 0 while held
    v_j     = u_j - v_th z_j                          reset by subtraction, at the spike
    b_j     = rho_j b_j + (1 - rho_j) z_j
    y_k     = kappa y_k + sum_j z_j W_out[j, k] + b_out_k
    I       = z_t W_rec + x_t W_in                    lands at the end of step t, leaks with v

e-prop (Bellec et al. 2020, eqs. for ALIF, adapted to this order) keeps per synapse
``i -> j``, with ``pre_i`` the presynaptic activity of step ``t - 1``:

.. code-block:: text

    eps_v  = eps_v                     if hold_j      else alpha_j eps_v + alpha_j pre_i
    e      = psi_j (eps_v - beta_j eps_a)             (eps_a from step t - 1)
    eps_a  = rho_j eps_a + (1 - rho_j) e
    ebar   = kappa ebar + e                           the readout's filter
    grad  += L_j ebar,   L_j = sum_k B[j, k] err_k     err: softmax pi - pi*, or y - y*

which is the exact gradient when ``W_rec = 0`` (the reset is excluded from the gradient,
as in the paper). Memory is O(synapses) per sequence, independent of its length.

Arrays: ``x`` (batch, T, n_in); weights stored pre x post; traces post-major
``(N, n_pre)`` so each neuron's inner loop runs over contiguous memory.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from snn.kernels import steps

LOSS_MSE = 0
LOSS_SOFTMAX = 1
UNUSED_GAMMA = 1.0  # the forward pass computes psi but never reads it


@njit(cache=True, inline="always")
def _neurons_step(v, b, refractory_left, syn, alpha, rho, beta, v_th, gamma, ref_steps, z, psi, hold):
    """Integrate, threshold and reset every recurrent neuron for one step (in place): the
    ALIF's step (:mod:`snn.models.alif`) with the reset by subtraction, plus e-prop's
    pseudo-derivative ``psi``."""
    for j in range(v.size):
        left = refractory_left[j]
        held = steps.lif_holding(left)
        refractory_left[j] = steps.lif_count_down(left)
        u = v[j] if held else steps.lif_integrate(v[j], alpha[j], 0.0, alpha[j] * syn[j])
        threshold = steps.alif_threshold(v_th, beta[j], b[j])
        spike = (not held) and steps.lif_crossed(u, threshold)
        psi[j] = 0.0 if held else steps.triangle((u - threshold) / v_th, gamma) / v_th
        z[j] = 1.0 if spike else 0.0
        hold[j] = held
        v[j] = steps.lif_reset(u, 0.0, v_th, True) if spike else u
        b[j] = steps.alif_adapt(b[j], rho[j], z[j])
        if spike:
            refractory_left[j] = ref_steps


@njit(cache=True, inline="always")
def _propagate(x_t, z, w_in, w_rec, syn):
    """``syn = z W_rec + x_t W_in``, visiting only the active presynaptic rows, in the
    simulator's order (recurrent spikes, then input channels), so the sums round alike."""
    syn[:] = 0.0
    for i in range(z.size):
        if z[i] != 0.0:
            syn += w_rec[i]
    for i in range(x_t.size):
        if x_t[i] != 0.0:
            syn += x_t[i] * w_in[i]


@njit(cache=True, inline="always")
def _readout(z, w_out, b_out, kappa, y):
    for k in range(y.size):
        total = kappa * y[k] + b_out[k]
        for j in range(z.size):
            if z[j] != 0.0:
                total += w_out[j, k]
        y[k] = total


@njit(cache=True, parallel=True)
def forward(x, w_in, w_rec, w_out, b_out, alpha, rho, beta, v_th, ref_steps, kappa):
    """Run a batch; returns spikes ``(batch, T, N)`` (0/1), readout ``(batch, T, n_out)``
    and membrane potentials after reset ``(batch, T, N)``."""
    batch, steps, _ = x.shape
    n = w_rec.shape[0]
    n_out = w_out.shape[1]
    spikes = np.zeros((batch, steps, n), dtype=x.dtype)
    outputs = np.zeros((batch, steps, n_out), dtype=x.dtype)
    potentials = np.zeros((batch, steps, n), dtype=x.dtype)
    for s in prange(batch):
        v = np.zeros(n, dtype=x.dtype)
        b = np.zeros(n, dtype=x.dtype)
        refractory_left = np.zeros(n, dtype=np.int64)
        syn = np.zeros(n, dtype=x.dtype)
        psi = np.zeros(n, dtype=x.dtype)
        hold = np.zeros(n, dtype=np.bool_)
        y = np.zeros(n_out, dtype=x.dtype)
        for t in range(steps):
            z = spikes[s, t]
            _neurons_step(
                v, b, refractory_left, syn, alpha, rho, beta, v_th, UNUSED_GAMMA, ref_steps, z, psi, hold
            )
            _readout(z, w_out, b_out, kappa, y)
            outputs[s, t] = y
            potentials[s, t] = v
            _propagate(x[s, t], z, w_in, w_rec, syn)
    return spikes, outputs, potentials


@njit(cache=True, inline="always")
def _eligibility(pre, hold, psi, alpha, rho, beta, kappa, signal, eps_v, eps_a, ebar, grad, e_sum,
                 sum_traces):  # fmt: skip
    """Advance one weight matrix's traces (post-major ``(N, n_pre)``) and accumulate its gradient.

    Rows whose terms vanish take shorter loops with the same arithmetic: no learning signal
    (``L_j = 0``: nothing to accumulate), ``psi_j = 0`` (``e = 0``: traces only decay), no
    adaptation (``beta_j = 0``: ``eps_a`` stays 0). ``sum_traces``: also accumulate ``e``
    into ``e_sum`` (rate regularisation).
    """
    for j in range(eps_v.shape[0]):
        a, r, bj, p, lj = alpha[j], rho[j], beta[j], psi[j], signal[j]
        ev, ea, eb, g, es = eps_v[j], eps_a[j], ebar[j], grad[j], e_sum[j]
        if p == 0.0:  # e = 0 (below the pseudo-derivative's support, or refractory)
            if not hold[j]:
                for i in range(ev.size):
                    ev[i] = a * ev[i] + a * pre[i]
            if bj != 0.0:
                for i in range(ev.size):
                    ea[i] = r * ea[i]
            for i in range(ev.size):
                eb[i] = kappa * eb[i]
            if lj != 0.0:
                for i in range(ev.size):
                    g[i] += lj * eb[i]
            continue
        for i in range(ev.size):  # psi > 0 implies not refractory
            trace = a * ev[i] + a * pre[i]
            ev[i] = trace
            e = p * (trace - bj * ea[i]) if bj != 0.0 else p * trace
            if bj != 0.0:
                ea[i] = r * ea[i] + (1.0 - r) * e
            filtered = kappa * eb[i] + e
            eb[i] = filtered
            if lj != 0.0:
                g[i] += lj * filtered
            if sum_traces:
                es[i] += e


@njit(cache=True, parallel=True)
def eprop(x, target, mask, w_in, w_rec, w_out, b_out, feedback, alpha, rho, beta, v_th, gamma, ref_steps,
          kappa, loss_kind, sum_traces):  # fmt: skip
    """Forward pass of a batch with online e-prop; every sequence independent.

    ``target`` (batch, T, n_out): one-hot class (softmax loss) or target values (MSE);
    ``mask`` (batch, T): weight of each step in the loss. ``feedback`` (N, n_out): the
    learning-signal weights B (``W_out`` for symmetric e-prop).

    Returns per sequence: loss ``(batch,)``, gradients ``(batch, N, n_in)``,
    ``(batch, N, N)`` (post-major, unmasked), ``(batch, N, n_out)``, ``(batch, n_out)``;
    sums of the unfiltered eligibility traces (same shapes as the first two, for rate
    regularisation); spike counts ``(batch, N)``; readout ``(batch, T, n_out)``.
    """
    batch, steps, n_in = x.shape
    n = w_rec.shape[0]
    n_out = w_out.shape[1]
    dtype = x.dtype
    loss = np.zeros(batch, dtype=dtype)
    grad_in = np.zeros((batch, n, n_in), dtype=dtype)
    grad_rec = np.zeros((batch, n, n), dtype=dtype)
    grad_out = np.zeros((batch, n, n_out), dtype=dtype)
    grad_bias = np.zeros((batch, n_out), dtype=dtype)
    e_sum_in = np.zeros((batch, n, n_in), dtype=dtype)
    e_sum_rec = np.zeros((batch, n, n), dtype=dtype)
    counts = np.zeros((batch, n), dtype=dtype)
    outputs = np.zeros((batch, steps, n_out), dtype=dtype)
    for s in prange(batch):
        v = np.zeros(n, dtype=dtype)
        b = np.zeros(n, dtype=dtype)
        refractory_left = np.zeros(n, dtype=np.int64)
        syn = np.zeros(n, dtype=dtype)
        z = np.zeros(n, dtype=dtype)
        z_prev = np.zeros(n, dtype=dtype)
        x_prev = np.zeros(n_in, dtype=dtype)
        psi = np.zeros(n, dtype=dtype)
        hold = np.zeros(n, dtype=np.bool_)
        y = np.zeros(n_out, dtype=dtype)
        err = np.zeros(n_out, dtype=dtype)
        signal = np.zeros(n, dtype=dtype)
        z_filtered = np.zeros(n, dtype=dtype)
        bias_filtered = 0.0
        traces_in = np.zeros((3, n, n_in), dtype=dtype)
        traces_rec = np.zeros((3, n, n), dtype=dtype)
        for t in range(steps):
            _neurons_step(v, b, refractory_left, syn, alpha, rho, beta, v_th, gamma, ref_steps, z, psi, hold)
            counts[s] += z
            _readout(z, w_out, b_out, kappa, y)
            outputs[s, t] = y
            z_filtered[:] = kappa * z_filtered + z  # in place: stays in the inputs' dtype
            bias_filtered = kappa * bias_filtered + 1.0
            weight = mask[s, t]
            if loss_kind == LOSS_SOFTMAX:
                top = y.max()
                total = 0.0
                for k in range(n_out):
                    total += np.exp(y[k] - top)
                log_norm = top + np.log(total)
                for k in range(n_out):
                    err[k] = weight * (np.exp(y[k] - log_norm) - target[s, t, k])
                    loss[s] -= weight * target[s, t, k] * (y[k] - log_norm)
            else:
                for k in range(n_out):
                    diff = y[k] - target[s, t, k]
                    err[k] = weight * diff
                    loss[s] += 0.5 * weight * diff * diff
            for j in range(n):
                total = 0.0
                for k in range(n_out):
                    total += feedback[j, k] * err[k]
                    grad_out[s, j, k] += err[k] * z_filtered[j]
                signal[j] = total
            for k in range(n_out):
                grad_bias[s, k] += err[k] * bias_filtered
            _eligibility(x_prev, hold, psi, alpha, rho, beta, kappa, signal, traces_in[0], traces_in[1],
                         traces_in[2], grad_in[s], e_sum_in[s], sum_traces)  # fmt: skip
            _eligibility(z_prev, hold, psi, alpha, rho, beta, kappa, signal, traces_rec[0], traces_rec[1],
                         traces_rec[2], grad_rec[s], e_sum_rec[s], sum_traces)  # fmt: skip
            _propagate(x[s, t], z, w_in, w_rec, syn)
            x_prev[:] = x[s, t]
            z_prev[:] = z
    return loss, grad_in, grad_rec, grad_out, grad_bias, e_sum_in, e_sum_rec, counts, outputs
