"""Conventional networks the spiking models are compared with: MLP, 1-D CNN, GRU."""

from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    """ReLU multilayer perceptron: ``n_in -> hidden... -> n_out`` (logits)."""

    def __init__(self, n_in: int, hidden: tuple[int, ...], n_out: int, bias: bool = True) -> None:
        super().__init__()
        sizes = (n_in, *hidden)
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(a, b, bias=bias), nn.ReLU()]
        layers.append(nn.Linear(sizes[-1], n_out, bias=bias))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def macs(self) -> int:
        """Multiply-accumulates per sample."""
        return sum(m.in_features * m.out_features for m in self.net if isinstance(m, nn.Linear))


class CNN1d(nn.Module):
    """Two 1-D convolutions (ReLU) and a linear classifier; input ``(batch, channels * length)``
    reshaped to ``image_shape = (channels, length)``."""

    def __init__(self, image_shape: tuple[int, int], n_out: int, channels: int = 32, kernel: int = 3) -> None:
        super().__init__()
        self.image_shape = image_shape
        in_channels, length = image_shape
        self.features = nn.Sequential(
            nn.Conv1d(in_channels, channels, kernel, padding=kernel // 2),
            nn.ReLU(),
            nn.Conv1d(channels, channels, kernel, padding=kernel // 2, stride=2),
            nn.ReLU(),
        )
        out_length = (length + 2 * (kernel // 2) - kernel) // 2 + 1
        self.classifier = nn.Linear(channels * out_length, n_out)
        self._macs = (
            length * in_channels * channels * kernel
            + out_length * channels * channels * kernel
            + channels * out_length * n_out
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.features(x.reshape(-1, *self.image_shape))
        return self.classifier(features.flatten(1))

    def macs(self) -> int:
        return self._macs


class GRUClassifier(nn.Module):
    """A GRU reading the sample as a sequence of ``length`` steps of ``channels`` features."""

    def __init__(self, image_shape: tuple[int, int], n_out: int, hidden: int = 64) -> None:
        super().__init__()
        self.image_shape = image_shape
        self.gru = nn.GRU(image_shape[0], hidden, batch_first=True)
        self.out = nn.Linear(hidden, n_out)
        self._macs = image_shape[1] * 3 * hidden * (image_shape[0] + hidden) + hidden * n_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sequence = x.reshape(-1, *self.image_shape).transpose(1, 2)  # (batch, length, channels)
        _, last = self.gru(sequence)
        return self.out(last[0])

    def macs(self) -> int:
        return self._macs
