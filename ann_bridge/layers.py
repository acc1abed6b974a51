"""Thin torch modules over :mod:`ann_bridge.functional`: they own weights and constants,
the functional core owns the maths. Time is dimension 0: inputs ``(T, batch, n_in)``."""

from __future__ import annotations

import torch
from torch import nn

from ann_bridge import functional
from ann_bridge.surrogate import surrogate
from snn import validate
from snn.neurons import LIF, NeuronModel
from snn.synapses import Delta, Exponential


class SpikingLinear(nn.Module):
    """A dense projection into a population of spiking (or LI readout) neurons.

    Parameters
    ----------
    n_in, n_out: sizes.
    model: the neuron model (an ``snn`` model: LIF, ALIF, IF or LI), SI units.
    synapse: ``snn.Delta()`` (weights in V) or ``snn.Exponential(tau_syn)`` (weights in A).
    dt: time step (s).
    spike_fn: surrogate name (``fast_sigmoid``, ``triangle``, ``arctan``).
    threshold_scale: the surrogate sees ``(v - threshold) / threshold_scale`` (V).
    recurrent: add an ``n_out x n_out`` recurrent weight matrix (no self-connections).

    ``forward(x)`` takes presynaptic spikes ``(T, batch, n_in)`` and returns spikes
    ``(T, batch, n_out)`` (for LI: the membrane potential instead).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        model: NeuronModel | None = None,
        synapse: Delta | Exponential | None = None,
        dt: float = 1e-3,
        spike_fn: str = "fast_sigmoid",
        threshold_scale: float | None = None,
        recurrent: bool = False,
        dtype=torch.float32,
    ) -> None:
        super().__init__()
        self.n_in = validate.count("SpikingLinear.n_in", n_in)
        self.n_out = validate.count("SpikingLinear.n_out", n_out)
        self.model = model if model is not None else LIF()
        self.synapse = synapse if synapse is not None else Delta()
        self.dt = validate.positive("SpikingLinear.dt", dt)
        self.p = functional.parameters(self.model, self.synapse, self.dt)
        self.spike_fn_name = spike_fn
        self.spike_fn = surrogate(spike_fn)
        default_scale = abs(self.p.v_th - self.p.v_reset) if self.p.spiking else 1.0
        self.threshold_scale = validate.positive(
            "SpikingLinear.threshold_scale", threshold_scale or default_scale
        )
        self.weight = nn.Parameter(torch.empty(n_in, n_out, dtype=dtype))  # (pre, post), as snn stores it
        nn.init.normal_(self.weight, std=self.threshold_scale / n_in**0.5)
        self.recurrent_weight = nn.Parameter(torch.zeros(n_out, n_out, dtype=dtype)) if recurrent else None

    def initial_state(self, batch: int, like: torch.Tensor) -> functional.State:
        return functional.initial_state(self.model, (batch, self.n_out), dtype=like.dtype, device=like.device)

    def forward(self, x: torch.Tensor, state: functional.State | None = None, return_state: bool = False):
        steps, batch, _ = x.shape
        state = state if state is not None else self.initial_state(batch, x)
        increments = x @ self.weight  # one batched matmul for every step
        if self.recurrent_weight is not None:
            recurrent = self.recurrent_weight * (1 - torch.eye(self.n_out, dtype=x.dtype, device=x.device))
        outputs = []
        for k in range(steps):
            increment = increments[k]
            z, state = functional.step(
                increment, state, self.p, self.spike_fn, threshold_scale=self.threshold_scale
            )
            if self.recurrent_weight is not None:
                state = state._replace(syn=state.syn + z @ recurrent)
            outputs.append(z if self.p.spiking else state.v)
        out = torch.stack(outputs)
        return (out, state) if return_state else out
