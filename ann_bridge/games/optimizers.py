r"""Two-player optimisers with one API: GDA (simultaneous, alternating, with Adam), optimistic
GDA, extragradient, competitive gradient descent (CGD) and adaptive CGD (ACGD).

Player x holds ``x_params``, player y ``y_params``. A step takes a ``closure`` that
evaluates the game at the current parameters and returns either one tensor ``f`` (a
zero-sum game: x minimises f, y maximises it) or a pair ``(loss_x, loss_y)``, each
minimised by its own player (a general-sum game, e.g. the non-saturating GAN). Every
:meth:`GameOptimizer.step` returns a :class:`StepInfo`.

CGD (Schaefer & Anandkumar, NeurIPS 2019) plays the Nash equilibrium of the local bilinear
approximation of a zero-sum game, each player regularised by its step size
(``eta_x``, ``eta_y``)::

    dx = -eta_x (grad_x f + D_xy f dy)        dy = eta_y (grad_y f + D_yx f dx)

solved for the side with fewer parameters by conjugate gradient on the symmetric positive
definite ``I + eta_x^(1/2) D_xy f eta_y D_yx f eta_x^(1/2)`` (matrix-free: mixed
Hessian-vector products by double backprop, :mod:`ann_bridge.games.hvp`), warm-started from
the previous step's solution, to a relative tolerance ``tol`` within ``max_iter``
iterations. On f = alpha x y it contracts the distance to the equilibrium by
``1 / sqrt(1 + eta^2 alpha^2)`` per step, where simultaneous GDA expands it by
``sqrt(1 + eta^2 alpha^2)``.

ACGD (Schaefer, Zheng & Anandkumar, ICML 2020) is CGD with per-parameter step sizes from an
RMSprop estimate of each player's squared gradient: ``v <- beta v + (1 - beta) g^2``,
``eta = lr sqrt(1 - beta^t) / (sqrt(v) + eps)`` (the same per-coordinate rule as the
authors' package ``cgds``), so the step sizes are diagonal matrices in the formulas above.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch

from ann_bridge.games.hvp import conjugate_gradient, flat, gradient, mixed_product, split_like
from snn import validate
from snn.errors import ValidationError

Closure = Callable[[], "torch.Tensor | tuple[torch.Tensor, torch.Tensor]"]


@dataclass
class StepInfo:
    """What one step saw: each player's loss before the step (alternating GDA: y's after x's
    move, where y steps from), the CG iterations (CGD and ACGD; 0 otherwise) and the CG
    solve's final relative residual."""

    loss_x: float
    loss_y: float
    cg_iterations: int = 0
    cg_residual: float = 0.0


def _apply(params: Sequence[torch.Tensor], delta: torch.Tensor) -> None:
    with torch.no_grad():
        for p, piece in zip(params, split_like(delta, params), strict=True):
            p.add_(piece)


class GameOptimizer:
    """Base of the two-player optimisers (see the module docstring).

    ``lr_x``, ``lr_y``: step sizes of x and y (> 0; ``lr_y`` defaults to ``lr_x``).
    """

    name: ClassVar[str] = ""
    zero_sum_only: ClassVar[bool] = False

    def __init__(self, x_params, y_params, lr_x: float = 1e-3, lr_y: float | None = None) -> None:
        kind = type(self).__name__
        self.x_params, self.y_params = list(x_params), list(y_params)
        if not self.x_params or not self.y_params:
            raise ValidationError(f"{kind}.params", "each player needs at least one parameter tensor")
        self.lr_x = validate.positive(f"{kind}.lr_x", lr_x)
        self.lr_y = validate.positive(f"{kind}.lr_y", lr_x if lr_y is None else lr_y)
        self.steps = 0

    def _losses(self, closure: Closure) -> tuple[torch.Tensor, torch.Tensor]:
        out = closure()
        if isinstance(out, torch.Tensor):
            return out, -out
        if self.zero_sum_only:
            raise ValidationError(
                f"{type(self).__name__}.closure",
                "CGD and ACGD play zero-sum games: return one loss f (x minimises it, y maximises it)",
            )
        loss_x, loss_y = out
        return loss_x, loss_y

    def _gradients(self, closure: Closure) -> tuple[torch.Tensor, torch.Tensor, StepInfo]:
        """Each player's gradient of its own loss at the current point."""
        loss_x, loss_y = self._losses(closure)
        return (gradient(loss_x, self.x_params), gradient(loss_y, self.y_params),
                StepInfo(float(loss_x.detach()), float(loss_y.detach())))  # fmt: skip

    def step(self, closure: Closure) -> StepInfo:
        """One move of both players; see the subclass."""
        raise NotImplementedError


class SimultaneousGDA(GameOptimizer):
    """Both players step along their own negative gradient from the same point."""

    name = "gda"

    def step(self, closure: Closure) -> StepInfo:
        grad_x, grad_y, info = self._gradients(closure)
        _apply(self.x_params, -self.lr_x * grad_x)
        _apply(self.y_params, -self.lr_y * grad_y)
        self.steps += 1
        return info


class AlternatingGDA(GameOptimizer):
    """x steps first; y then steps at the game re-evaluated after x's move."""

    name = "alt-gda"

    def step(self, closure: Closure) -> StepInfo:
        loss_x, _ = self._losses(closure)
        _apply(self.x_params, -self.lr_x * gradient(loss_x, self.x_params))
        _, loss_y = self._losses(closure)
        _apply(self.y_params, -self.lr_y * gradient(loss_y, self.y_params))
        self.steps += 1
        return StepInfo(float(loss_x.detach()), float(loss_y.detach()))


class AdamGDA(GameOptimizer):
    """Simultaneous steps, each player with its own Adam (``betas``, as in most GAN code)."""

    name = "adam"

    def __init__(self, x_params, y_params, lr_x: float = 1e-3, lr_y: float | None = None,
                 betas: tuple[float, float] = (0.5, 0.999)) -> None:  # fmt: skip
        super().__init__(x_params, y_params, lr_x, lr_y)
        self._adams = (torch.optim.Adam(self.x_params, lr=self.lr_x, betas=betas),
                       torch.optim.Adam(self.y_params, lr=self.lr_y, betas=betas))  # fmt: skip

    def step(self, closure: Closure) -> StepInfo:
        grad_x, grad_y, info = self._gradients(closure)
        for adam, params, grad in zip(
            self._adams, (self.x_params, self.y_params), (grad_x, grad_y), strict=True
        ):
            for p, piece in zip(params, split_like(grad, params), strict=True):
                p.grad = piece.detach().clone()
            adam.step()
            adam.zero_grad(set_to_none=True)
        self.steps += 1
        return info


class OptimisticGDA(GameOptimizer):
    """``z <- z - lr (2 g_t - g_{t-1})`` (Daskalakis et al. 2018); the first step is plain GDA."""

    name = "ogda"

    def __init__(self, x_params, y_params, lr_x: float = 1e-3, lr_y: float | None = None) -> None:
        super().__init__(x_params, y_params, lr_x, lr_y)
        self._previous: tuple[torch.Tensor, torch.Tensor] | None = None

    def step(self, closure: Closure) -> StepInfo:
        grad_x, grad_y, info = self._gradients(closure)
        last_x, last_y = self._previous if self._previous is not None else (grad_x, grad_y)
        _apply(self.x_params, -self.lr_x * (2 * grad_x - last_x))
        _apply(self.y_params, -self.lr_y * (2 * grad_y - last_y))
        self._previous = (grad_x, grad_y)
        self.steps += 1
        return info


class Extragradient(GameOptimizer):
    """A full look-ahead step, then the step from the original point with the gradients found
    at the look-ahead point (Korpelevich 1976)."""

    name = "extragradient"

    def step(self, closure: Closure) -> StepInfo:
        grad_x, grad_y, info = self._gradients(closure)
        start = [p.detach().clone() for p in (*self.x_params, *self.y_params)]
        _apply(self.x_params, -self.lr_x * grad_x)
        _apply(self.y_params, -self.lr_y * grad_y)
        ahead_x, ahead_y, _ = self._gradients(closure)
        with torch.no_grad():
            for p, value in zip((*self.x_params, *self.y_params), start, strict=True):
                p.copy_(value)
        _apply(self.x_params, -self.lr_x * ahead_x)
        _apply(self.y_params, -self.lr_y * ahead_y)
        self.steps += 1
        return info


class CGD(GameOptimizer):
    """Competitive gradient descent (see the module docstring) for zero-sum games.

    ``tol``: relative residual at which conjugate gradient stops; ``max_iter``: its cap per
    step; ``solve_for``: ``"x"``, ``"y"`` or ``"smaller"`` (default: the player with fewer
    parameters; the other's move follows in closed form)."""

    name = "cgd"
    zero_sum_only = True

    def __init__(self, x_params, y_params, lr_x: float = 1e-3, lr_y: float | None = None,
                 tol: float = 1e-10, max_iter: int = 100, solve_for: str = "smaller") -> None:  # fmt: skip
        super().__init__(x_params, y_params, lr_x, lr_y)
        kind = type(self).__name__
        self.tol = validate.positive(f"{kind}.tol", tol)
        self.max_iter = validate.count(f"{kind}.max_iter", max_iter, low=1)
        if solve_for not in ("x", "y", "smaller"):
            raise ValidationError(f"{kind}.solve_for", f"must be 'x', 'y' or 'smaller', got {solve_for!r}")
        if solve_for == "smaller":
            n_x, n_y = (sum(p.numel() for p in ps) for ps in (self.x_params, self.y_params))
            solve_for = "x" if n_x <= n_y else "y"
        self.solve_for = solve_for
        self._warm: torch.Tensor | None = None

    def _step_sizes(self, grad_x: torch.Tensor, grad_y: torch.Tensor):
        """(eta_x, eta_y): scalars here, per-parameter vectors in ACGD."""
        return self.lr_x, self.lr_y

    def step(self, closure: Closure) -> StepInfo:
        f, _ = self._losses(closure)
        grad_x = gradient(f, self.x_params, create_graph=True)
        grad_y = gradient(f, self.y_params, create_graph=True)
        g_x, g_y = grad_x.detach(), grad_y.detach()
        eta_x, eta_y = self._step_sizes(g_x, g_y)

        def d_xy(v_y: torch.Tensor) -> torch.Tensor:  # D_xy f v, in x's space
            return mixed_product(grad_y, self.x_params, v_y)

        def d_yx(v_x: torch.Tensor) -> torch.Tensor:
            return mixed_product(grad_x, self.y_params, v_x)

        if self.solve_for == "x":  # (I + s_x D_xy eta_y D_yx s_x) u = -s_x (g_x + D_xy eta_y g_y), dx = s_x u
            root = eta_x**0.5 if isinstance(eta_x, float) else torch.sqrt(eta_x)
            rhs = -root * (g_x + d_xy(eta_y * g_y))
            u, iterations, residual = conjugate_gradient(
                lambda u: u + root * d_xy(eta_y * d_yx(root * u)), rhs, self._warm, self.tol, self.max_iter
            )
            delta_x = root * u
            delta_y = eta_y * (g_y + d_yx(delta_x))
        else:  # (I + s_y D_yx eta_x D_xy s_y) w = s_y (g_y - D_yx eta_x g_x), dy = s_y w
            root = eta_y**0.5 if isinstance(eta_y, float) else torch.sqrt(eta_y)
            rhs = root * (g_y - d_yx(eta_x * g_x))
            u, iterations, residual = conjugate_gradient(
                lambda w: w + root * d_yx(eta_x * d_xy(root * w)), rhs, self._warm, self.tol, self.max_iter
            )
            delta_y = root * u
            delta_x = -eta_x * (g_x + d_xy(delta_y))
        self._warm = u.detach()
        _apply(self.x_params, delta_x.detach())
        _apply(self.y_params, delta_y.detach())
        self.steps += 1
        return StepInfo(float(f.detach()), -float(f.detach()), iterations, residual)


class ACGD(CGD):
    """Adaptive CGD: CGD with RMSprop step sizes per parameter (see the module docstring);
    ``beta`` in [0, 1), ``eps`` > 0."""

    name = "acgd"

    def __init__(self, x_params, y_params, lr_x: float = 1e-3, lr_y: float | None = None,
                 beta: float = 0.99, eps: float = 1e-8, tol: float = 1e-10, max_iter: int = 100,
                 solve_for: str = "smaller") -> None:  # fmt: skip
        super().__init__(x_params, y_params, lr_x, lr_y, tol, max_iter, solve_for)
        self.beta = validate.probability("ACGD.beta", beta)
        if self.beta >= 1.0:
            raise ValidationError("ACGD.beta", f"must be < 1, got {beta}")
        self.eps = validate.positive("ACGD.eps", eps)
        self._square_x: torch.Tensor | None = None
        self._square_y: torch.Tensor | None = None

    def _step_sizes(self, grad_x: torch.Tensor, grad_y: torch.Tensor):
        if self._square_x is None:
            self._square_x, self._square_y = torch.zeros_like(grad_x), torch.zeros_like(grad_y)
        self._square_x = self.beta * self._square_x + (1 - self.beta) * grad_x * grad_x
        self._square_y = self.beta * self._square_y + (1 - self.beta) * grad_y * grad_y
        correction = math.sqrt(1 - self.beta ** (self.steps + 1))
        return (self.lr_x * correction / (torch.sqrt(self._square_x) + self.eps),
                self.lr_y * correction / (torch.sqrt(self._square_y) + self.eps))  # fmt: skip


OPTIMIZERS: dict[str, type[GameOptimizer]] = {
    cls.name: cls
    for cls in (SimultaneousGDA, AlternatingGDA, AdamGDA, OptimisticGDA, Extragradient, CGD, ACGD)
}


def make(name: str, x_params, y_params, **options) -> GameOptimizer:
    """The optimiser registered as ``name`` (one of :data:`OPTIMIZERS`)."""
    if name not in OPTIMIZERS:
        raise ValidationError("optimizer", f"must be one of {list(OPTIMIZERS)}, got {name!r}")
    return OPTIMIZERS[name](x_params, y_params, **options)


__all__ = ["ACGD", "CGD", "OPTIMIZERS", "AdamGDA", "AlternatingGDA", "Extragradient", "GameOptimizer",
           "OptimisticGDA", "SimultaneousGDA", "StepInfo", "flat", "make"]  # fmt: skip
