r"""A fused forward/backward for the commonest training layer: LIF or IF neurons behind
delta synapses, no refractory period, no adaptation, no recurrence.

The generic path (:func:`ann_bridge.functional.step` under autograd) records ~10 graph
nodes per step. Here the forward runs without a graph and keeps only the membrane before
reset; the backward is the exact adjoint of the same recurrence, run in reverse:

.. code-block:: text

    v_{t+1} = alpha r(v_t) + const + c i_t         (i_t: this step's synaptic increment)
    z_t     = H((v_t - v_th) / s)                  surrogate S' backward
    g_t     = dL/dz_t S'(x_t) / s + alpha r'(t) g_{t+1}
    dL/di_t = c g_{t+1}

with ``r`` the reset (subtraction: ``r' = 1``, the spike detached; to a value: ``r' = 1 - z``).
The result equals the generic path's gradient (tested to 1e-12 in float64).
"""

from __future__ import annotations

import torch

from ann_bridge.functional import Parameters


def applies(p: Parameters) -> bool:
    """Whether the fused scan computes exactly what the generic step would."""
    return p.spiking and p.syn_decay == 0.0 and p.ref_steps == 0 and p.rho >= 1.0 and p.beta == 0.0


class DeltaLIFScan(torch.autograd.Function):
    """``increments (T, batch, n) -> spikes (T, batch, n)`` from rest (``v0``)."""

    @staticmethod
    def forward(
        ctx,
        increments: torch.Tensor,
        v0: torch.Tensor,
        p: Parameters,
        derivative,
        surrogate_scale: float,
        threshold_scale: float,
    ) -> torch.Tensor:
        v = v0.clone()
        syn = torch.zeros_like(v0)
        drive = torch.empty_like(v0)
        v_before_reset = torch.empty_like(increments)
        spikes = torch.empty_like(increments)
        for t in range(increments.shape[0]):
            # the generic step's operations in its order: (alpha v + const) + c syn
            torch.mul(syn, p.syn_coef, out=drive)
            v.mul_(p.alpha).add_(p.const_drive).add_(drive)
            v_before_reset[t] = v
            distance = v - p.v_th
            if threshold_scale != 1.0:
                distance /= threshold_scale
            fired = spikes[t]
            torch.gt(distance, 0, out=fired)  # casts to the float dtype
            if p.reset_subtract:
                v.sub_(fired * p.reset_amount)
            else:
                v.masked_fill_(fired > 0, p.v_reset)
            syn = increments[t]
        ctx.save_for_backward(v_before_reset, spikes)
        ctx.p, ctx.derivative, ctx.surrogate_scale, ctx.threshold_scale = (
            p,
            derivative,
            surrogate_scale,
            threshold_scale,
        )
        return spikes

    @staticmethod
    def backward(ctx, grad_spikes: torch.Tensor):
        v_before_reset, spikes = ctx.saved_tensors
        p = ctx.p
        grad_increments = torch.zeros_like(v_before_reset)
        carry = torch.zeros_like(v_before_reset[0])  # dL/dv_{t+1}, before reset
        for t in range(v_before_reset.shape[0] - 1, -1, -1):
            grad_increments[t] = carry * p.syn_coef
            distance = v_before_reset[t] - p.v_th
            if ctx.threshold_scale != 1.0:
                distance = distance / ctx.threshold_scale
            surrogate = ctx.derivative(distance, ctx.surrogate_scale) / ctx.threshold_scale
            through_reset = carry * p.alpha if p.reset_subtract else carry * p.alpha * (1 - spikes[t])
            carry = grad_spikes[t] * surrogate + through_reset
        return grad_increments, None, None, None, None, None
