"""A directly trained spiking classifier: input encoding, spiking hidden layers, LI readout.

Trained with surrogate-gradient BPTT through :class:`~ann_bridge.layers.SpikingLinear`;
the logits are the readout's membrane potential averaged over time.
"""

from __future__ import annotations

import torch
from torch import nn

from ann_bridge.layers import SpikingLinear
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


class SpikingClassifier(nn.Module):
    """``n_in -> hidden (LIF) ... -> n_out (LI)`` over ``timesteps`` steps of ``dt``."""

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
        if encoding not in ENCODINGS:
            raise ValidationError("encoding", f"must be one of {ENCODINGS}, got {encoding!r}")
        self.encoding = encoding
        sizes = (n_in, *hidden)
        self.hidden = nn.ModuleList(
            SpikingLinear(a, b, HIDDEN_MODEL, Delta(), dt=dt, spike_fn=spike_fn)
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.readout = SpikingLinear(sizes[-1], n_out, READOUT_MODEL, Delta(), dt=dt)
        self.last_counts: list[float] = []  # input and hidden spikes per sample, last forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        signal = encode(x, self.timesteps, self.encoding)
        counts = [float(signal.detach().abs().sum()) / x.shape[0]]
        for layer in self.hidden:
            signal = layer(signal)
            counts.append(float(signal.detach().sum()) / x.shape[0])
        self.last_counts = counts
        return self.readout(signal).mean(0)

    def synaptic_ops(self) -> float:
        """Accumulates per sample in the last forward: each event times its fan-out (the
        analog encoding's input counts as ``features x T`` multiply-accumulates instead)."""
        fan_out = [layer.n_out for layer in self.hidden] + [self.readout.n_out]
        return sum(c * f for c, f in zip(self.last_counts, fan_out, strict=True))
