"""Thin torch modules over :mod:`ann_bridge.functional`: they own weights and constants,
the functional core owns the maths. Time is dimension 0: inputs ``(T, batch, ...)``."""

from __future__ import annotations

import torch
from torch import nn

from ann_bridge import functional, scan
from ann_bridge.surrogate import surrogate
from snn import validate
from snn.neurons import LIF, NeuronModel
from snn.synapses import Delta, Exponential


class SpikingLayer(nn.Module):
    """A synaptic operation into a population of spiking (or LI readout) neurons.

    Subclasses define the operation (:meth:`increments`): dense, convolutional. The
    population integrates it with :func:`ann_bridge.functional.step`.

    Parameters
    ----------
    model: the neuron model (an ``snn`` model: LIF, ALIF, IF or LI), SI units.
    synapse: ``snn.Delta()`` (weights in V) or ``snn.Exponential(tau_syn)`` (weights in A).
    dt: time step (s).
    spike_fn: surrogate name (``fast_sigmoid``, ``triangle``, ``arctan``).
    threshold_scale: the surrogate sees ``(v - threshold) / threshold_scale`` (V); default
        ``v_th - v_reset``.

    ``forward(x)`` takes presynaptic spikes ``(T, batch, *in_shape)`` and returns spikes
    ``(T, batch, *out_shape)`` (for LI: the membrane potential instead).
    """

    def __init__(
        self,
        model: NeuronModel | None,
        synapse: Delta | Exponential | None,
        dt: float,
        spike_fn: str,
        threshold_scale: float | None,
    ) -> None:
        super().__init__()
        self.model = model if model is not None else LIF()
        self.synapse = synapse if synapse is not None else Delta()
        self.dt = validate.positive("SpikingLayer.dt", dt)
        self.p = functional.parameters(self.model, self.synapse, self.dt)
        self.spike_fn_name = spike_fn
        self.spike_fn = surrogate(spike_fn)
        default_scale = abs(self.p.v_th - self.p.v_reset) if self.p.spiking else 1.0
        self.threshold_scale = validate.positive(
            "SpikingLayer.threshold_scale", default_scale if threshold_scale is None else threshold_scale
        )

    def increments(self, x: torch.Tensor) -> torch.Tensor:
        """What each step's input adds to the synaptic slots, for all steps at once."""
        raise NotImplementedError

    def recurrent(self, z: torch.Tensor | None) -> torch.Tensor | None:
        """What this step's own spikes ``z`` add to the slots (None: no recurrence; also
        when called with ``z = None``, which asks whether the layer has any)."""
        return None

    def forward(self, x: torch.Tensor, state: functional.State | None = None, return_state: bool = False):
        increments = self.increments(x)
        if state is None and not return_state and self.recurrent(None) is None and scan.applies(self.p):
            v0 = functional.initial_state(
                self.model, tuple(increments.shape[1:]), dtype=increments.dtype, device=increments.device
            ).v
            return scan.DeltaLIFScan.apply(
                increments, v0, self.p, self.spike_fn.derivative, self.spike_fn.scale, self.threshold_scale
            )
        if state is None:
            state = functional.initial_state(
                self.model, tuple(increments.shape[1:]), dtype=increments.dtype, device=increments.device
            )
        outputs = []
        # unbind, not increments[k]: indexing's backward would write a full-size zero
        # gradient per step (quadratic in T)
        for increment in increments.unbind(0):
            z, state = functional.step(
                increment, state, self.p, self.spike_fn, threshold_scale=self.threshold_scale
            )
            feedback = self.recurrent(z)
            if feedback is not None:
                state = state._replace(syn=state.syn + feedback)
            outputs.append(z if self.p.spiking else state.v)
        out = torch.stack(outputs)
        return (out, state) if return_state else out


class SpikingLinear(SpikingLayer):
    """Dense weights ``(n_in, n_out)`` (stored pre x post, as ``snn`` stores them), optional
    recurrent ``(n_out, n_out)`` weights without self-connections."""

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
        super().__init__(model, synapse, dt, spike_fn, threshold_scale)
        self.n_in = validate.count("SpikingLinear.n_in", n_in)
        self.n_out = validate.count("SpikingLinear.n_out", n_out)
        self.weight = nn.Parameter(torch.empty(n_in, n_out, dtype=dtype))
        nn.init.normal_(self.weight, std=self.threshold_scale / n_in**0.5)
        self.recurrent_weight = nn.Parameter(torch.zeros(n_out, n_out, dtype=dtype)) if recurrent else None

    def increments(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight  # one batched matmul for every step

    def recurrent(self, z: torch.Tensor | None) -> torch.Tensor | None:
        if self.recurrent_weight is None:
            return None
        if z is None:
            return self.recurrent_weight
        mask = 1 - torch.eye(self.n_out, dtype=z.dtype, device=z.device)
        return z @ (self.recurrent_weight * mask)


class SpikingConv1d(SpikingLayer):
    """A 1-D convolution into a ``(channels, length)`` grid of spiking neurons."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        stride: int = 1,
        padding: int = 0,
        model: NeuronModel | None = None,
        synapse: Delta | Exponential | None = None,
        dt: float = 1e-3,
        spike_fn: str = "fast_sigmoid",
        threshold_scale: float | None = None,
    ) -> None:
        super().__init__(model, synapse, dt, spike_fn, threshold_scale)
        self.conv = nn.Conv1d(in_channels, out_channels, kernel, stride=stride, padding=padding, bias=False)

    def increments(self, x: torch.Tensor) -> torch.Tensor:
        steps, batch = x.shape[:2]
        out = self.conv(x.reshape(steps * batch, *x.shape[2:]))
        return out.reshape(steps, batch, *out.shape[1:])
