"""Conventional networks the spiking models are compared with: MLP, 1-D CNN, GRU."""

from __future__ import annotations

import torch
from torch import nn

from snn.errors import ValidationError


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


def conv_stack(image_shape: tuple[int, int]) -> list[tuple[int, int]]:
    """(kernel, stride) per convolution for an input of ``image_shape = (channels, length)``:
    MNIST-1D's reference CNN (Greydanus 2020: kernels 5, 3, 3, stride 2) for long inputs,
    two stride-1/stride-2 layers for short ones such as digit rows."""
    return [(5, 2), (3, 2), (3, 2)] if image_shape[1] >= 16 else [(3, 1), (3, 2)]


def conv_lengths(length: int, stack: list[tuple[int, int]]) -> list[int]:
    """Output length after each convolution (padding 1, as in the MNIST-1D reference)."""
    lengths = []
    for kernel, stride in stack:
        length = (length + 2 * _padding(kernel) - kernel) // stride + 1
        lengths.append(length)
    return lengths


def _padding(kernel: int) -> int:
    return 1


class CNN1d(nn.Module):
    """1-D convolutions (ReLU) and a linear classifier; input ``(batch, channels * length)``
    reshaped to ``image_shape = (channels, length)``; layers from :func:`conv_stack`."""

    def __init__(self, image_shape: tuple[int, int], n_out: int, channels: int = 32) -> None:
        super().__init__()
        self.image_shape = image_shape
        stack = conv_stack(image_shape)
        layers: list[nn.Module] = []
        in_channels = image_shape[0]
        for kernel, stride in stack:
            layers += [
                nn.Conv1d(in_channels, channels, kernel, stride=stride, padding=_padding(kernel)),
                nn.ReLU(),
            ]
            in_channels = channels
        self.features = nn.Sequential(*layers)
        lengths = conv_lengths(image_shape[1], stack)
        self.classifier = nn.Linear(channels * lengths[-1], n_out)
        sizes = [image_shape[0]] + [channels] * len(stack)
        self._macs = sum(lengths[k] * sizes[k] * sizes[k + 1] * stack[k][0] for k in range(len(stack)))
        self._macs += channels * lengths[-1] * n_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.features(x.reshape(-1, *self.image_shape))
        return self.classifier(features.flatten(1))

    def macs(self) -> int:
        """Multiply-accumulates per sample."""
        return self._macs


class RecurrentClassifier(nn.Module):
    """A GRU or LSTM (``cell``) reading the sample as a sequence of ``length`` steps of
    ``channels`` features; the last hidden state feeds a linear readout."""

    GATES = {"gru": 3, "lstm": 4}

    def __init__(self, image_shape: tuple[int, int], n_out: int, hidden: int = 64, cell: str = "gru") -> None:
        super().__init__()
        if cell not in self.GATES:
            raise ValidationError("cell", f"must be one of {tuple(self.GATES)}, got {cell!r}")
        self.image_shape = image_shape
        self.cell = cell
        recurrent = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = recurrent(image_shape[0], hidden, batch_first=True)
        self.out = nn.Linear(hidden, n_out)
        gates = self.GATES[cell]
        self._macs = image_shape[1] * gates * hidden * (image_shape[0] + hidden) + hidden * n_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sequence = x.reshape(-1, *self.image_shape).transpose(1, 2)  # (batch, length, channels)
        _, last = self.rnn(sequence)
        hidden = last if self.cell == "gru" else last[0]  # an LSTM also returns its cell state
        return self.out(hidden[0])

    def macs(self) -> int:
        """Multiply-accumulates per sample: every gate's input and recurrent products, each step."""
        return self._macs


class GRUClassifier(RecurrentClassifier):
    def __init__(self, image_shape: tuple[int, int], n_out: int, hidden: int = 64) -> None:
        super().__init__(image_shape, n_out, hidden, cell="gru")


class LSTMClassifier(RecurrentClassifier):
    def __init__(self, image_shape: tuple[int, int], n_out: int, hidden: int = 64) -> None:
        super().__init__(image_shape, n_out, hidden, cell="lstm")
