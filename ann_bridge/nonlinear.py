r"""Torch mirrors of the nonlinear neuron models (AdEx, Izhikevich), with surrogate gradients.

Each step is its model's Numba step (:func:`snn.models.adex.step`,
:func:`snn.models.izhikevich.step`) on tensors, term for term and in the same order, so the
two agree spike for spike in float64 (pinned by ``tests/ann_bridge/test_nonlinear_mirror.py``).
The forward spike is exact (``v`` crossed ``v_peak``); the backward pass goes through
``spike_fn`` of the distance to ``v_peak`` divided by ``threshold_scale`` (a surrogate from
:mod:`ann_bridge.surrogate`), and the reset uses the detached spike, as in
:func:`ann_bridge.functional.step`.

State: ``(v, w)`` tensors of shape ``(batch, neurons)`` (``w`` is AdEx's adaptation current
in A, or Izhikevich's recovery ``u`` in V); ``current`` (A) of the same shape, held for the step.
"""

from __future__ import annotations

import torch

from snn.models import adex as adex_model
from snn.models import izhikevich as izhikevich_model
from snn.models.adex import AdEx
from snn.models.izhikevich import Izhikevich


def _constants(model, dt: float) -> list[float]:
    return [float(x) for x in model.constants(dt)["extra"]]


def initial_state(model: AdEx | Izhikevich, shape: tuple[int, int], dtype=torch.float64, device=None):
    """``(v, w)`` at the model's starting state (AdEx: rest, no adaptation; Izhikevich: -65 mV, u = b v)."""
    values = model.constants(1.0)
    v = torch.full(shape, float(values["initial_v"]), dtype=dtype, device=device)
    return v, torch.full(shape, float(values["initial_w"]), dtype=dtype, device=device)


def _substeps(v, w, current, v_peak, derivative_update, substeps: int, spike_fn, threshold_scale: float):
    """Euler substeps; a neuron that crosses ``v_peak`` keeps its crossing state for the rest of the step."""
    spiked = torch.zeros_like(v, dtype=torch.bool)
    z = torch.zeros_like(v)
    for _ in range(substeps):
        v_next, w_next = derivative_update(v, w, current)
        v = torch.where(spiked, v, v_next)
        w = torch.where(spiked, w, w_next)
        crossing = spike_fn((v - v_peak) / threshold_scale)
        z = torch.where(spiked, z, crossing)
        spiked = spiked | (crossing.detach() > 0)
    return z, v, w


def adex_step(v, w, current, model: AdEx, dt: float, spike_fn, threshold_scale: float = 1e-3):
    """One step of ``dt`` (s) of AdEx neurons; returns ``(z, v, w)``."""
    p = _constants(model, dt)
    h = p[adex_model.H]
    g_leak, delta_t, v_t = p[adex_model.G_LEAK], p[adex_model.DELTA_T], p[adex_model.V_T]
    e_leak, i_bias, capacitance = p[adex_model.E_LEAK], p[adex_model.I_BIAS], p[adex_model.CAPACITANCE]
    a, tau_w = p[adex_model.A], p[adex_model.TAU_W]

    def update(v, w, current):
        exponential = delta_t * g_leak * torch.exp((v - v_t) / delta_t)
        v_next = v + h * (exponential + g_leak * (e_leak - v) + i_bias + current - w) / capacitance
        return v_next, h * (a * (v - e_leak) - w) / tau_w + w

    z, v, w = _substeps(v, w, current, model.v_peak, update, model.substeps, spike_fn, threshold_scale)
    fired = z.detach() > 0
    return z, torch.where(fired, model.v_reset, v), torch.where(fired, w + model.b, w)


def izhikevich_step(v, u, current, model: Izhikevich, dt: float, spike_fn, threshold_scale: float = 1e-3):
    """One step of ``dt`` (s) of Izhikevich neurons; returns ``(z, v, u)``.

    The spike condition is ``v >= v_peak``; the surrogate sees ``v - v_peak``, so a neuron
    exactly at ``v_peak`` counts as a spike in the forward pass (``spike_fn`` fires above 0).
    """
    p = _constants(model, dt)
    h, time_scale = p[izhikevich_model.H], p[izhikevich_model.TIME_SCALE]
    a, b = p[izhikevich_model.A], p[izhikevich_model.B]
    resistance, i_bias = p[izhikevich_model.RESISTANCE], p[izhikevich_model.I_BIAS]
    quadratic, linear, constant = (
        izhikevich_model.QUADRATIC,
        izhikevich_model.LINEAR,
        izhikevich_model.CONSTANT,
    )

    def update(v, u, current):
        drive = resistance * (i_bias + current)
        v_next = h * (constant + linear * v + quadratic * (v * v) + drive - u) / time_scale + v
        return v_next, a * h * (b * v - u) + u

    def at_or_above(x):  # v >= v_peak in the forward pass, the surrogate's gradient backward
        exact = (x >= 0).to(x.dtype)
        return exact + (spike_fn(x) - spike_fn(x).detach())

    z, v, u = _substeps(v, u, current, model.v_peak, update, model.substeps, at_or_above, threshold_scale)
    fired = z.detach() > 0
    return z, torch.where(fired, model.c, v), torch.where(fired, u + model.d, u)


__all__ = ["adex_step", "initial_state", "izhikevich_step"]
