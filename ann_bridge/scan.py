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
        code = _numba_code(increments, derivative)
        ctx.p, ctx.derivative, ctx.surrogate_scale, ctx.threshold_scale = (
            p,
            derivative,
            surrogate_scale,
            threshold_scale,
        )
        ctx.code = code
        if code is not None:  # CPU: Numba kernels, the backward recomputes the membrane
            v0 = v0.detach().reshape(-1).contiguous()
            spikes = _forward_numba(increments, v0, p, threshold_scale)
            ctx.save_for_backward(increments, v0)
            return spikes
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
        if ctx.code is not None:
            return _backward_numba(ctx, grad_spikes, *ctx.saved_tensors), None, None, None, None, None
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


def _numba_code(increments: torch.Tensor, derivative) -> int | None:
    """The Numba kernels' surrogate code when they apply (CPU float tensors, a known surrogate)."""
    from ann_bridge.scan_kernels import CODES
    from ann_bridge.surrogate import DERIVATIVES

    if increments.device.type != "cpu" or increments.dtype not in (torch.float32, torch.float64):
        return None
    name = next((name for name, function in DERIVATIVES.items() if function is derivative), None)
    return CODES.get(name)


def _kernel_parameters(p: Parameters, threshold_scale: float, like: torch.Tensor) -> tuple:
    """The step's constants in the tensor's precision, so the kernels round as torch does."""
    import numpy as np

    cast = np.float32 if like.dtype == torch.float32 else np.float64
    return (
        cast(p.alpha),
        cast(p.const_drive),
        cast(p.syn_coef),
        cast(p.v_th),
        cast(threshold_scale),
        bool(p.reset_subtract),
        cast(p.reset_amount),
        cast(p.v_reset),
    )


def _flat(tensor: torch.Tensor):
    """A ``(T, ...)`` CPU tensor as a ``(T, M)`` numpy view (any strides)."""
    return tensor.detach().reshape(tensor.shape[0], -1).numpy()


def _empty_like(tensor: torch.Tensor) -> torch.Tensor:
    """An uninitialised CPU tensor like ``tensor`` whose memory numpy allocates: numpy advises
    transparent huge pages for large arrays (torch's CPU allocator only with
    ``THP_MEM_ALLOC_ENABLE=1``), which spares most page faults of a fresh output; writing a
    131 MB output took 5 ms instead of 23 ms on the reference machine."""
    import numpy as np

    dtype = np.float32 if tensor.dtype == torch.float32 else np.float64
    return torch.from_numpy(np.empty(tuple(tensor.shape), dtype=dtype))


def _forward_numba(increments: torch.Tensor, v0: torch.Tensor, p: Parameters, threshold_scale: float):
    """Spikes (T, ...) from the increments and the flat initial membrane ``v0`` (M,)."""
    from ann_bridge import scan_kernels

    spikes = _empty_like(increments)
    parameters = _kernel_parameters(p, threshold_scale, increments)
    scan_kernels.forward(_flat(increments), v0.numpy(), parameters, _flat(spikes))
    return spikes


def _backward_numba(ctx, grad_spikes: torch.Tensor, increments: torch.Tensor, v0: torch.Tensor):
    from ann_bridge import scan_kernels

    grad_increments = _empty_like(increments)
    parameters = _kernel_parameters(ctx.p, ctx.threshold_scale, increments)
    scan_kernels.backward(
        _flat(grad_spikes),
        _flat(increments),
        v0.numpy(),
        parameters,
        ctx.code,
        type(parameters[0])(ctx.surrogate_scale),
        _flat(grad_increments),
    )
    return grad_increments
