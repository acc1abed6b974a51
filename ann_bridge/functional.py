r"""The functional core: one step of a population of spiking neurons, with explicit state.

The update is the Numba simulator's: it calls the same step functions of
:mod:`snn.models.lif` and :mod:`snn.models.alif` on tensors, in this order:

.. code-block:: text

    drive_k = c * s_k                      synaptic slot s, c = channel coefficient
    s       <- d * s                       d = exp(-dt / tau_syn) (0 for delta synapses)
    v_k     = alpha v_{k-1} + const + drive_k + gain * i_k      unless refractory (v held)
    z_k     = H(v_k - v_th - beta b_{k-1})                       (never while refractory)
    v_k     <- v_reset  or  v_k - (v_th - v_reset)   where z_k = 1
    b_k     = rho b_{k-1} + (1 - rho) z_k
    s       <- s + W x_k                   input of step k acts from step k + 1

The reset uses ``z`` detached from the graph (the surrogate gradient flows through the
threshold only), as snnTorch and Zenke & Vogels (2021) recommend.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from snn.build import channel_coefficients
from snn.build.neurons import discrete_parameters
from snn.models import alif, lif
from snn.neurons import ALIF, IF, LI, LIF, NeuronModel
from snn.synapses import Delta, Exponential


class Parameters(NamedTuple):
    """Per-step constants of one population (floats; see :func:`parameters`)."""

    alpha: float
    const_drive: float
    drive_gain: float
    v_th: float
    v_reset: float
    reset_amount: float
    reset_subtract: bool
    ref_steps: int
    rho: float
    beta: float
    syn_decay: float
    syn_coef: float
    spiking: bool


class State(NamedTuple):
    """State tensors, each of shape ``(batch, neurons)``: membrane ``v`` (V), adaptation
    ``b``, the refractory countdown ``refractory_left`` (int64, as in the simulator:
    :func:`snn.models.lif.holding`), synaptic slot ``syn`` (A or V)."""

    v: torch.Tensor
    b: torch.Tensor
    refractory_left: torch.Tensor
    syn: torch.Tensor


def parameters(model: NeuronModel, synapse: Delta | Exponential, dt: float) -> Parameters:
    """The constants the Numba builder would use for ``model`` fed through ``synapse``."""
    values = discrete_parameters(model, dt)
    decay, coef = channel_coefficients(model, synapse, dt)
    return Parameters(
        alpha=float(values["alpha"]),
        const_drive=float(values["const_drive"]),
        drive_gain=float(values["drive_gain"]),
        v_th=float(values["v_th"]),
        v_reset=float(values["v_reset"]),
        reset_amount=float(values["reset_amount"]),
        reset_subtract=bool(values["reset_subtract"]),
        ref_steps=int(values["ref_steps"]),
        rho=float(values["rho"]),
        beta=float(values["beta"]),
        syn_decay=float(decay),
        syn_coef=float(coef),
        spiking=not isinstance(model, LI),
    )


def initial_state(model: NeuronModel, shape: tuple[int, int], dtype=torch.float64, device=None) -> State:
    """Every neuron at its model's starting potential (rest, or reset for IF), nothing pending."""
    start = model.v_reset if isinstance(model, IF) else model.v_rest
    zeros = torch.zeros(shape, dtype=dtype, device=device)
    return State(
        v=torch.full(shape, float(start), dtype=dtype, device=device),
        b=zeros.clone(),
        refractory_left=torch.zeros(shape, dtype=torch.int64, device=device),
        syn=zeros.clone(),
    )


def step(
    increment: torch.Tensor,
    state: State,
    p: Parameters,
    spike_fn,
    current: torch.Tensor | None = None,
    threshold_scale: float = 1.0,
) -> tuple[torch.Tensor, State]:
    """Advance one step; returns ``(z, new_state)``.

    ``increment``: what this step's presynaptic spikes add to the slot (``x_k W``), shape
    ``(batch, neurons)``; it acts from the next step on. ``current``: injected current (A)
    for this step, or None. ``spike_fn`` maps the scaled distance to threshold
    ``(v - threshold) / threshold_scale`` to spikes (a surrogate from
    :func:`ann_bridge.surrogate`). Non-spiking (LI) populations return ``z = 0``.
    """
    # fast paths skip work that cannot change the result (delta synapses keep nothing,
    # tau_ref = 0 never holds, a unit scale divides by one); the values are the same bits
    drive = p.syn_coef * state.syn
    syn = increment if p.syn_decay == 0.0 else state.syn * p.syn_decay + increment
    if current is not None:
        drive = p.drive_gain * current + drive
    v_free = lif.integrate(state.v, p.alpha, p.const_drive, drive)
    if not p.spiking:
        return torch.zeros_like(v_free), State(v_free, state.b, state.refractory_left, syn)
    threshold = alif.threshold(p.v_th, p.beta, state.b) if p.beta != 0.0 else p.v_th
    if p.ref_steps > 0:
        holding = lif.holding(state.refractory_left)
        v = torch.where(holding, state.v, v_free)
        distance = v - threshold if threshold_scale == 1.0 else (v - threshold) / threshold_scale
        z = spike_fn(distance) * (~holding).to(v.dtype)
    else:
        v = v_free
        z = spike_fn(v - threshold if threshold_scale == 1.0 else (v - threshold) / threshold_scale)
    fired = z.detach()
    v = lif.reset_fired(v, fired, p.v_reset, p.reset_amount, p.reset_subtract, torch.where)
    left = state.refractory_left
    if p.ref_steps > 0:  # the simulator's countdown (snn.models.lif.holding); a spike restarts it
        left = torch.where(fired > 0, p.ref_steps, lif.count_down(left))
    b = alif.adapt(state.b, p.rho, z) if p.rho < 1.0 else state.b
    return z, State(v, b, left, syn)


__all__ = ["ALIF", "LIF", "IF", "LI", "Parameters", "State", "initial_state", "parameters", "step"]
