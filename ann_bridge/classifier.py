"""A directly trained spiking classifier: input encoding, spiking hidden layers, LI readout.

Trained with surrogate-gradient BPTT through :class:`~ann_bridge.layers.SpikingLinear`;
the logits are the readout's membrane potential averaged over time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ann_bridge.baselines import conv_lengths, conv_stack
from ann_bridge.layers import SpikingConv1d, SpikingLinear
from snn import validate
from snn.errors import ValidationError
from snn.neurons import LI, LIF
from snn.synapses import Delta

ENCODINGS = ("rate", "latency", "analog")
# a normalised LIF (threshold 1 above rest, 20 ms at dt = 1 ms): weights come out O(1)
HIDDEN_MODEL = LIF(tau_mem=20e-3, v_rest=0.0, v_reset=0.0, v_th=1.0, tau_ref=0.0, reset="subtract")
READOUT_MODEL = LI(tau_mem=20e-3, v_rest=0.0)


def encode(x: torch.Tensor, timesteps: int, encoding: str) -> torch.Tensor:
    """``x`` ``(batch, features)`` -> ``(timesteps, batch, features)``.

    rate: Bernoulli spikes with probability ``x`` per step (``x`` in [0, 1]); latency: one
    spike at step ``round((1 - x) (T - 1))`` for ``x > 0``; analog: ``x`` every step (a
    current into the first layer, for inputs that are not in [0, 1]).
    """
    if encoding == "rate":
        return (torch.rand((timesteps, *x.shape), device=x.device) < x.clamp(0, 1)).to(x.dtype)
    if encoding == "latency":
        step = torch.round((1 - x.clamp(0, 1)) * (timesteps - 1)).long()
        out = torch.zeros((timesteps, *x.shape), device=x.device, dtype=x.dtype)
        out.scatter_(0, step[None], (x > 0).to(x.dtype)[None])
        return out
    if encoding == "analog":
        return x.expand(timesteps, *x.shape)
    raise ValidationError("encoding", f"must be one of {ENCODINGS}, got {encoding!r}")


def _check_encoding(encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise ValidationError("encoding", f"must be one of {ENCODINGS}, got {encoding!r}")
    return encoding


class _Counting(nn.Module):
    """Per-sample operation counts of the last forward (see :class:`SpikingClassifier`)."""

    timesteps: int
    encoding: str

    def _store_counts(self, ops: list[float]) -> None:
        # ops[0]: the first layer's input events summed over T; analog input repeats one
        # constant vector, so its weighted sum is computed once
        if self.encoding == "analog":
            self.macs, self.accumulates = ops[0] / self.timesteps, sum(ops[1:])
        else:
            self.macs, self.accumulates = 0.0, sum(ops)


class SpikingClassifier(_Counting):
    """``n_in -> hidden (LIF) ... -> n_out (LI)`` over ``timesteps`` steps of ``dt``.

    After each forward, ``macs`` and ``accumulates`` hold per-sample operation counts:
    an analog input is a constant, so its first layer costs its multiply-accumulates once;
    every spike (input spikes included) costs one accumulate per target.
    """

    def __init__(
        self,
        n_in: int,
        hidden: tuple[int, ...],
        n_out: int,
        timesteps: int = 25,
        encoding: str = "rate",
        dt: float = 1e-3,
        spike_fn: str = "fast_sigmoid",
    ) -> None:
        super().__init__()
        self.timesteps = validate.count("timesteps", timesteps)
        self.encoding = _check_encoding(encoding)
        sizes = (n_in, *hidden)
        self.hidden = nn.ModuleList(
            SpikingLinear(a, b, HIDDEN_MODEL, Delta(), dt=dt, spike_fn=spike_fn)
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.readout = SpikingLinear(sizes[-1], n_out, READOUT_MODEL, Delta(), dt=dt)
        self.macs = 0.0
        self.accumulates = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        signal = encode(x, self.timesteps, self.encoding)
        layers = [*self.hidden, self.readout]
        ops = []
        for layer in layers:
            ops.append(float((signal.detach() != 0).sum()) * layer.n_out / x.shape[0])
            signal = layer(signal)
        self._store_counts(ops)
        return signal.mean(0)


class SpikingCNN(_Counting):
    """The spiking twin of :class:`~ann_bridge.baselines.CNN1d`: the same convolutions
    (no bias) into LIF grids, then an LI readout; logits are its mean potential."""

    def __init__(
        self,
        image_shape: tuple[int, int],
        n_out: int,
        channels: int = 32,
        timesteps: int = 16,
        encoding: str = "analog",
        dt: float = 1e-3,
        spike_fn: str = "fast_sigmoid",
    ) -> None:
        super().__init__()
        self.image_shape = image_shape
        self.timesteps = validate.count("timesteps", timesteps)
        self.encoding = _check_encoding(encoding)
        stack = conv_stack(image_shape)
        in_channels = image_shape[0]
        layers = []
        for kernel, stride in stack:
            layers.append(
                SpikingConv1d(
                    in_channels,
                    channels,
                    kernel,
                    stride=stride,
                    padding=1,
                    model=HIDDEN_MODEL,
                    synapse=Delta(),
                    dt=dt,
                    spike_fn=spike_fn,
                )
            )
            in_channels = channels
        self.convs = nn.ModuleList(layers)
        self.readout = SpikingLinear(
            channels * conv_lengths(image_shape[1], stack)[-1], n_out, READOUT_MODEL, Delta(), dt=dt
        )
        self.macs = 0.0
        self.accumulates = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        signal = encode(x.reshape(batch, *self.image_shape), self.timesteps, self.encoding)
        ops = []
        for layer in self.convs:
            conv = layer.conv
            with torch.no_grad():  # exact count: every nonzero input times the outputs it reaches
                events = (signal != 0).to(signal.dtype).flatten(0, 1)
                ones = torch.ones_like(conv.weight)
                ops.append(
                    float(F.conv1d(events, ones, stride=conv.stride, padding=conv.padding).sum()) / batch
                )
            signal = layer(signal)
        signal = signal.flatten(2)
        ops.append(float((signal.detach() != 0).sum()) * self.readout.n_out / batch)
        self._store_counts(ops)
        return self.readout(signal).mean(0)
