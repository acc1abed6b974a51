"""Generators and discriminators: MLPs for the 2-D toys and flat signals, DCGAN-size
convolutional ones for 8x8 digits, and EBGAN's auto-encoder discriminator."""

from __future__ import annotations

import torch
from torch import nn


def _mlp(sizes: list[int], activation=nn.ReLU) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (latent) -> a sample of ``n_out`` values; ``tanh`` output when ``bounded`` ([-1, 1] data)."""

    def __init__(
        self, latent: int, n_out: int, hidden: int = 128, depth: int = 3, bounded: bool = False
    ) -> None:
        super().__init__()
        self.latent = latent
        self.net = _mlp([latent, *[hidden] * depth, n_out])
        self.bounded = bounded

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.net(z)
        return torch.tanh(out) if self.bounded else out


class MLPDiscriminator(nn.Module):
    """A sample -> one score (a logit, or a critic value for WGAN)."""

    def __init__(self, n_in: int, hidden: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.net = _mlp([n_in, *[hidden] * depth, 1], activation=lambda: nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)


class ConvGenerator(nn.Module):
    """DCGAN-style for 8x8 images in [-1, 1]: z -> 4 x 4 x (2 width) -> transposed conv -> 8 x 8."""

    def __init__(self, latent: int = 32, width: int = 64) -> None:
        super().__init__()
        self.latent, self.width = latent, width
        self.project = nn.Sequential(
            nn.Linear(latent, 2 * width * 16), nn.BatchNorm1d(2 * width * 16), nn.ReLU()
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, 1, 3, padding=1),
        )  # fmt: skip

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(-1, 2 * self.width, 4, 4)
        return torch.tanh(self.up(h)).flatten(1)


class ConvDiscriminator(nn.Module):
    """DCGAN-style for 8x8 images (given flat, 64 values): two strided convolutions -> a score."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * width * 4, 1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.view(-1, 1, 8, 8)).squeeze(1)


class AutoencoderDiscriminator(nn.Module):
    """EBGAN's discriminator (Zhao et al. 2017): an auto-encoder whose energy is the mean
    squared reconstruction error; :meth:`code` is the bottleneck (for the pulling-away term)."""

    def __init__(self, n_in: int, hidden: int = 128, code: int = 32) -> None:
        super().__init__()
        self.encode = _mlp([n_in, hidden, code], activation=lambda: nn.LeakyReLU(0.2))
        self.decode = _mlp([code, hidden, n_in], activation=lambda: nn.LeakyReLU(0.2))

    def code(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        return (self.decode(self.encode(flat)) - flat).square().mean(1)


class SpikingDiscriminator(nn.Module):
    """A discriminator of spiking LIF layers (:class:`ann_bridge.layers.SpikingLinear`, surrogate
    gradients) reading a rate-coded sample, with a linear readout of the last layer's firing rates.

    Rate coding: each input value is mapped to a firing probability ``p = (x - low) / (high -
    low)`` (clipped to [0, 1]) and spikes are drawn each of ``steps`` steps; the draw passes
    gradients straight through to ``p`` (the generator learns through it). The layers are
    stepped one by one (not the fused scan) so CGD's second derivatives exist.
    """

    def __init__(self, n_in: int, hidden: int = 64, steps: int = 8, low: float = -3.0, high: float = 3.0,
                 dt: float = 1e-3) -> None:  # fmt: skip
        super().__init__()
        import snn
        from ann_bridge.layers import SpikingLinear

        model = snn.LIF(tau_mem=5e-3, tau_ref=0.0, v_rest=0.0, v_reset=0.0, v_th=1.0)
        self.first = SpikingLinear(n_in, hidden, model, dt=dt, threshold_scale=1.0)
        self.second = SpikingLinear(hidden, hidden, model, dt=dt, threshold_scale=1.0)
        with torch.no_grad():  # strong enough that rate-coded inputs make the layers fire
            self.first.weight.normal_(0.0, 2.0 / n_in**0.5)
            self.second.weight.normal_(0.0, 2.0 / hidden**0.5)
        self.readout = nn.Linear(hidden, 1)
        if not high > low:
            from snn.errors import ValidationError

            raise ValidationError("SpikingDiscriminator.high", f"must be > low ({low}), got {high}")
        self.steps, self.low, self.high = steps, low, high

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Rate-coded spikes ``(steps, batch, n_in)`` with straight-through gradients."""
        p = ((x.flatten(1) - self.low) / (self.high - self.low)).clamp(0.0, 1.0)
        drawn = (torch.rand(self.steps, *p.shape, device=p.device, dtype=p.dtype) < p).to(p.dtype)
        return drawn + p - p.detach()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first, _ = self.first(self.encode(x), return_state=True)
        second, _ = self.second(first, return_state=True)
        return self.readout(second.mean(0)).squeeze(1)
