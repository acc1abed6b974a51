r"""Energy networks and inference by minimising energy.

An energy-based model scores configurations: low energy = compatible. ``F(x)`` scores a
point (density models, ``p(x) ~ exp(-F(x))``); ``F(x, y)`` scores an answer ``y`` for an
input ``x``, and *inference* is ``y* = argmin_y F(x, y)``, here by gradient descent on ``y``
(:func:`infer`). A latent-variable EBM has ``F(y) = min_z E(y, z)`` (:mod:`ann_bridge.ebm.latent`).
"""

from __future__ import annotations

import torch
from torch import nn

from snn import validate


def _mlp(n_in: int, hidden: int, layers: int, activation: type[nn.Module]) -> nn.Sequential:
    blocks: list[nn.Module] = []
    width = n_in
    for _ in range(layers):
        blocks += [nn.Linear(width, hidden), activation()]
        width = hidden
    blocks.append(nn.Linear(width, 1))
    return nn.Sequential(*blocks)


class EnergyMLP(nn.Module):
    """``F(x)``: inputs (n, n_in) -> energies (n,), an MLP of ``layers`` hidden layers of
    ``hidden`` units with a smooth activation (SiLU: SGLD needs useful input gradients)."""

    def __init__(self, n_in: int, hidden: int = 128, layers: int = 3) -> None:
        super().__init__()
        self.n_in = validate.count("EnergyMLP.n_in", n_in)
        self.net = _mlp(self.n_in, validate.count("EnergyMLP.hidden", hidden),
                        validate.count("EnergyMLP.layers", layers, low=1, high=64), nn.SiLU)  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


class JointEnergy(nn.Module):
    """``F(x, y)``: inputs (n, n_x) and answers (n, n_y) -> energies (n,), an MLP of their
    concatenation."""

    def __init__(self, n_x: int, n_y: int, hidden: int = 128, layers: int = 3) -> None:
        super().__init__()
        self.n_x = validate.count("JointEnergy.n_x", n_x)
        self.n_y = validate.count("JointEnergy.n_y", n_y)
        self.net = _mlp(self.n_x + self.n_y, validate.count("JointEnergy.hidden", hidden),
                        validate.count("JointEnergy.layers", layers, low=1, high=64), nn.SiLU)  # fmt: skip

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, y], dim=-1)).squeeze(-1)


def infer(energy, x: torch.Tensor, y0: torch.Tensor, steps: int = 100, lr: float = 0.1) -> torch.Tensor:
    """``argmin_y F(x, y)`` from ``y0`` by ``steps`` of gradient descent with step ``lr``
    (the energy's parameters are not changed). Returns ``y`` (detached)."""
    steps = validate.count("infer.steps", steps, low=1, high=1_000_000)
    lr = validate.positive("infer.lr", lr)
    y = y0.detach().clone().requires_grad_(True)
    with torch.enable_grad():  # gradients in y, also inside a caller's no_grad()
        for _ in range(steps):
            (grad,) = torch.autograd.grad(energy(x, y).sum(), y)
            with torch.no_grad():
                y -= lr * grad
    return y.detach()
