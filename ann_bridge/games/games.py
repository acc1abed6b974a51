"""Small two-player games with known equilibria, for testing and comparing the optimisers.

Each game is a pair of parameter tensors (x, y) and a closure ``f()`` returning the zero-sum
loss (x minimises it, y maximises it), so ``optimizer.step(game.f)`` plays one move.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from snn import validate
from snn.errors import ValidationError


@dataclass
class Game:
    """Parameters ``x`` and ``y`` (leaf tensors) and the loss ``f() -> tensor``."""

    x: torch.Tensor
    y: torch.Tensor
    f: object

    def distance(self) -> float:
        """Distance of (x, y) to the equilibrium at the origin."""
        return float(torch.sqrt(self.x.detach().square().sum() + self.y.detach().square().sum()))


def bilinear(alpha: float = 1.0, x0=(1.0,), y0=(1.0,), dtype=torch.float64, device=None) -> Game:
    """f(x, y) = alpha x . y: the unique equilibrium is x = y = 0; simultaneous GDA spirals
    out of it, CGD into it (see :mod:`ann_bridge.games.optimizers`)."""
    alpha = validate.finite("bilinear.alpha", alpha)
    x = torch.tensor(x0, dtype=dtype, device=device, requires_grad=True)
    y = torch.tensor(y0, dtype=dtype, device=device, requires_grad=True)
    if x.shape != y.shape:
        raise ValidationError("bilinear.y0", f"must have x0's shape {tuple(x.shape)}, got {tuple(y.shape)}")
    return Game(x, y, lambda: alpha * (x * y).sum())


def quadratic(
    a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, gx: torch.Tensor, gy: torch.Tensor,
    x0: torch.Tensor, y0: torch.Tensor,
) -> Game:  # fmt: skip
    """f(x, y) = 1/2 x^T A x + x^T B y - 1/2 y^T C y + gx . x + gy . y (convex-concave when A
    and C are positive semi-definite); its mixed block D_xy f is B."""
    x = x0.clone().requires_grad_(True)
    y = y0.clone().requires_grad_(True)
    return Game(x, y, lambda: 0.5 * x @ a @ x + x @ b @ y - 0.5 * y @ c @ y + gx @ x + gy @ y)


def random_quadratic(n_x: int, n_y: int, seed: int = 0, dtype=torch.float64) -> tuple[Game, dict]:
    """A random convex-concave :func:`quadratic` game and its matrices."""
    generator = torch.Generator().manual_seed(seed)

    def draw(*shape):
        return torch.randn(*shape, generator=generator, dtype=dtype)

    ax, cy = draw(n_x, n_x), draw(n_y, n_y)
    parts = {"a": ax @ ax.T / n_x, "b": draw(n_x, n_y), "c": cy @ cy.T / n_y,
             "gx": draw(n_x), "gy": draw(n_y), "x0": draw(n_x), "y0": draw(n_y)}  # fmt: skip
    return quadratic(**parts), parts
