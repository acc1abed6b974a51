r"""Negative samples for contrastive EBM training: stochastic gradient Langevin dynamics and
the replay buffer of Du & Mordatch (2019, "Implicit generation and modeling with
energy-based models").

SGLD (Welling & Teh 2011) with the step size and the noise set apart, as Du & Mordatch and
Grathwohl et al. (JEM) run it:

.. math::  x \leftarrow x - \frac{\epsilon}{2} \nabla_x F(x) + \sigma \, \xi,
           \qquad \xi \sim \mathcal N(0, I),

which for ``sigma^2 = epsilon`` is the Langevin discretisation sampling ``exp(-F)``; the
literature's smaller ``sigma`` trades exactness for sharper samples. Chains start from a
:class:`ReplayBuffer`: most from earlier chains' ends (so short chains amount to long
ones), a fraction ``reinit`` from the uniform box each time (so new modes are found).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from snn import validate
from snn.errors import ValidationError


def sgld(energy, x0: torch.Tensor, steps: int = 20, step_size: float = 1.0, noise: float = 0.01,
         low: float | None = None, high: float | None = None) -> torch.Tensor:  # fmt: skip
    """Run ``steps`` SGLD steps from ``x0`` on ``energy`` (a callable (n, ...) -> (n,));
    ``low``/``high`` clamp the chain to a box after each step. Returns the detached end."""
    steps = validate.count("SGLD.steps", steps, low=1, high=100_000)
    step_size = validate.positive("SGLD.step_size", step_size)
    noise = validate.non_negative("SGLD.noise", noise)
    if (
        low is not None
        and high is not None
        and not validate.finite("SGLD.low", low) < validate.finite("SGLD.high", high)
    ):
        raise ValidationError("SGLD.high", f"must be > low ({low}), got {high}")
    x = x0.detach().clone()
    with torch.enable_grad():  # the chain needs input gradients, also inside a caller's no_grad()
        for _ in range(steps):
            x.requires_grad_(True)
            (grad,) = torch.autograd.grad(energy(x).sum(), x)
            with torch.no_grad():
                x = x - 0.5 * step_size * grad + noise * torch.randn_like(x)
                if low is not None or high is not None:
                    x = x.clamp(low, high)
    return x.detach()


class ReplayBuffer:
    """Chains' end points of shape ``shape`` kept for restarting; ``capacity`` points, started
    uniform in [low, high]; :meth:`sample` draws ``n`` starts, each fresh from the box with
    probability ``reinit`` (Du & Mordatch: 5 %); :meth:`push` writes chain ends back in place."""

    def __init__(
        self,
        shape: tuple[int, ...],
        capacity: int = 10_000,
        low: float = -1.0,
        high: float = 1.0,
        reinit: float = 0.05,
        generator: torch.Generator | None = None,
        device=None,
    ) -> None:
        self.capacity = validate.count("ReplayBuffer.capacity", capacity)
        self.reinit = validate.probability("ReplayBuffer.reinit", reinit)
        self.low, self.high = (
            validate.finite("ReplayBuffer.low", low),
            validate.finite("ReplayBuffer.high", high),
        )
        if not self.low < self.high:
            raise ValidationError("ReplayBuffer.high", f"must be > low ({low}), got {high}")
        self.shape = tuple(validate.count("ReplayBuffer.shape", size) for size in shape)
        self.generator = generator
        self.device = device
        self.points = self._uniform(self.capacity)
        self._last: torch.Tensor | None = None

    def _uniform(self, n: int) -> torch.Tensor:
        u = torch.rand((n, *self.shape), generator=self.generator)
        return (self.low + (self.high - self.low) * u).to(self.device)

    def sample(self, n: int) -> torch.Tensor:
        n = validate.count("ReplayBuffer.sample.n", n, low=1, high=self.capacity)
        self._last = torch.randint(self.capacity, (n,), generator=self.generator)
        starts = self.points[self._last.to(self.points.device)].clone()
        fresh = torch.rand(n, generator=self.generator) < self.reinit
        if fresh.any():
            starts[fresh.to(starts.device)] = self._uniform(int(fresh.sum()))
        return starts

    def push(self, ends: torch.Tensor) -> None:
        """Store the ends of the chains started by the last :meth:`sample`."""
        if self._last is None or len(ends) != len(self._last):
            raise ValidationError("ReplayBuffer.push", "needs the ends of the chains of the last sample()")
        self.points[self._last.to(self.points.device)] = ends.detach().to(self.points.device)
        self._last = None


def keep(record, checked: dict) -> None:
    """Store validated values on a frozen dataclass ``record``: the coerced ones (an int
    count, not 2.0), so what was checked is what is used."""
    for name, value in checked.items():
        object.__setattr__(record, name, value)


@dataclass(frozen=True, kw_only=True)
class Sampler:
    """The negatives of one training recipe: ``chain`` SGLD steps (``step_size``, ``noise``)
    in the box [low, high], started from a replay buffer of ``capacity`` points of which a
    fraction ``reinit`` restarts uniform in the box."""

    chain: int = 20
    step_size: float = 0.02
    noise: float = 0.01
    low: float = -3.0
    high: float = 3.0
    capacity: int = 10_000
    reinit: float = 0.05

    def __post_init__(self) -> None:
        checked = {
            "chain": validate.count("Sampler.chain", self.chain, low=1, high=100_000),
            "step_size": validate.positive("Sampler.step_size", self.step_size),
            "noise": validate.non_negative("Sampler.noise", self.noise),
            "capacity": validate.count("Sampler.capacity", self.capacity),
            "reinit": validate.probability("Sampler.reinit", self.reinit),
            "low": validate.finite("Sampler.low", self.low),
            "high": validate.finite("Sampler.high", self.high),
        }
        if not checked["low"] < checked["high"]:
            raise ValidationError("Sampler.high", f"must be > low ({self.low}), got {self.high}")
        keep(self, checked)

    def buffer(self, shape: tuple[int, ...], seed: int = 0, device=None) -> ReplayBuffer:
        """An empty (uniform) replay buffer of this recipe for points of ``shape``."""
        return ReplayBuffer(shape, self.capacity, self.low, self.high, self.reinit,
                            generator=torch.Generator().manual_seed(seed), device=device)  # fmt: skip

    def uniform(self, n: int, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
        """``n`` fresh chain starts uniform in the box."""
        u = torch.rand(
            (validate.count("Sampler.uniform.n", n), *shape), generator=torch.Generator().manual_seed(seed)
        )
        return self.low + (self.high - self.low) * u

    def run(self, energy, starts: torch.Tensor, chain: int | None = None) -> torch.Tensor:
        """SGLD chains of this recipe (``chain`` steps unless given) from ``starts``."""
        return sgld(energy, starts, steps=self.chain if chain is None else chain, step_size=self.step_size,
                    noise=self.noise,
                    low=self.low, high=self.high)  # fmt: skip
