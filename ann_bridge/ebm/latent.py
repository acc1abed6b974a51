r"""A latent-variable EBM: the source material's ellipse.

Points ``y`` in the plane lie near a closed curve; a latent angle ``z`` says where along
the curve. The energy of a point and an angle is the distance to the decoded point,

.. math::  E(y, z) = \lVert y - g(z) \rVert_2, \qquad F(y) = \min_z E(y, z),

with the decoder ``g(z) = MLP(cos z, sin z)`` (the angle enters through the circle, so
``g`` is periodic). Because the latent is one-dimensional, low energy can only be a curve:
the model is regularised by its architecture, no negatives needed. Learning alternates
inference of ``z* = argmin_z E`` (a grid of angles, then gradient steps) with a gradient
step on ``mean E(y, z*)^2`` in the decoder. Once the curve is learned, ``F(y)`` is the
distance from ``y`` to it, also far from the data it was trained on.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from snn import validate
from snn.errors import ValidationError


class LatentCurveEBM(nn.Module):
    """Decoder of a closed curve in ``dim`` dimensions from an angle; :meth:`energy` is
    ``E(y, z)``, :meth:`free_energy` ``F(y)`` with the inferred angle."""

    def __init__(self, dim: int = 2, hidden: int = 64, seed: int = 0) -> None:
        super().__init__()
        self.dim = validate.count("LatentCurveEBM.dim", dim)
        hidden = validate.count("LatentCurveEBM.hidden", hidden)
        with torch.random.fork_rng(devices=[]):  # seed the initial weights, not the caller's stream
            torch.manual_seed(seed)
            layers = [nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()]
            self.decoder = nn.Sequential(*layers, nn.Linear(hidden, self.dim))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Angles (n,) -> points (n, dim)."""
        return self.decoder(torch.stack([torch.cos(z), torch.sin(z)], dim=-1))

    def energy(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``|y - g(z)|`` per point (n,)."""
        return (y - self.decode(z)).pow(2).sum(-1).clamp_min(1e-24).sqrt()

    def infer(self, y: torch.Tensor, grid: int = 128, steps: int = 50, lr: float = 0.05) -> torch.Tensor:
        """``z* = argmin_z E(y, z)``: the best of ``grid`` evenly spaced angles (so the global
        minimum's basin is found), refined by ``steps`` of gradient descent on the squared
        energy. Returns angles (n,), detached."""
        grid = validate.count("infer.grid", grid, low=4)
        with torch.no_grad():
            angles = torch.arange(grid, dtype=y.dtype, device=y.device) * (2 * math.pi / grid)
            curve = self.decode(angles)  # (grid, dim)
            z = angles[torch.cdist(y, curve).argmin(1)]
        lr = validate.positive("infer.lr", lr)
        z = z.clone().requires_grad_(True)
        with torch.enable_grad():  # gradients in z, also inside a caller's no_grad()
            for _ in range(validate.count("infer.steps", steps, low=0)):
                (grad,) = torch.autograd.grad((y - self.decode(z)).pow(2).sum(), z)
                with torch.no_grad():
                    z -= lr * grad
        return z.detach()

    def free_energy(self, y: torch.Tensor) -> torch.Tensor:
        """``F(y) = min_z E(y, z)`` (n,), no gradients."""
        z = self.infer(y)
        with torch.no_grad():
            return self.energy(y, z)

    def fit(self, points, steps: int = 3000, batch: int = 256, lr: float = 3e-3, seed: int = 0,
            progress: bool | None = None) -> list[float]:  # fmt: skip
        """Learn the curve from ``points`` (n, dim); returns the mean squared energy per step."""
        from ann_bridge.training import epochs_bar

        device = next(self.parameters()).device
        y = torch.as_tensor(validate.finite_array("points", points), dtype=torch.float32, device=device)
        if y.ndim != 2 or y.shape[1] != self.dim:
            raise ValidationError("points", f"must have shape (n, {self.dim}), got {tuple(y.shape)}")
        batch = validate.count("batch", batch)
        lr = validate.positive("lr", lr)
        generator = torch.Generator().manual_seed(seed)
        optimiser = torch.optim.Adam(self.parameters(), lr=lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, validate.count("steps", steps))
        losses = []
        for _ in epochs_bar(steps, "latent EBM", progress, unit="step"):
            rows = torch.randint(len(y), (min(batch, len(y)),), generator=generator).to(device)
            z = self.infer(y[rows], grid=64, steps=10)
            optimiser.zero_grad()
            loss = self.energy(y[rows], z).pow(2).mean()
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(float(loss.detach()))
        return losses


def ellipse_points(n: int, a: float = 2.0, b: float = 1.0, noise: float = 0.0,
                   rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``n`` points ``(a cos t, b sin t)`` at uniform angles t, plus Gaussian ``noise``;
    returns (points (n, 2), angles (n,))."""
    rng = rng or np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, n)
    points = np.stack([a * np.cos(angles), b * np.sin(angles)], axis=1)
    return points + noise * rng.standard_normal(points.shape), angles


def ellipse_distance(points: np.ndarray, a: float = 2.0, b: float = 1.0) -> np.ndarray:
    """The Euclidean distance from each point (n, 2) to the ellipse ``x^2/a^2 + y^2/b^2 = 1``:
    the best of 4096 angles, refined by scipy's bounded scalar minimiser around it (an
    independent reference for :class:`LatentCurveEBM`)."""
    from scipy.optimize import minimize_scalar

    points = np.asarray(points, dtype=np.float64)
    grid = np.linspace(0, 2 * np.pi, 4096, endpoint=False)
    curve = np.stack([a * np.cos(grid), b * np.sin(grid)], axis=1)
    step = grid[1]
    distances = np.empty(len(points))
    for k, point in enumerate(points):
        start = grid[np.argmin(np.sum((curve - point) ** 2, axis=1))]

        def squared(t, point=point):
            return (a * np.cos(t) - point[0]) ** 2 + (b * np.sin(t) - point[1]) ** 2

        best = minimize_scalar(squared, bounds=(start - step, start + step), method="bounded",
                               options={"xatol": 1e-12})  # fmt: skip
        distances[k] = math.sqrt(best.fun)
    return distances
