"""Maximum-likelihood training of an energy ``F(x)`` with SGLD negatives from a replay buffer
(Du & Mordatch 2019), and the kernel two-sample statistic that scores its samples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ann_bridge.ebm.losses import maximum_likelihood
from ann_bridge.ebm.sampling import ReplayBuffer, Sampler, keep
from snn import validate
from snn.errors import ValidationError


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """What every contrastive training recipe holds: updates of Adam (``lr``) on batches of
    ``batch`` data and as many negatives of the ``sampler``, ``alpha`` weighing the
    energy-magnitude regulariser, ``seed``. Field errors are named after the subclass."""

    batch: int = 64
    lr: float = 1e-3
    alpha: float = 0.1
    seed: int = 0
    sampler: Sampler = field(default_factory=Sampler)

    def __post_init__(self) -> None:
        where = type(self).__name__
        if not isinstance(self.sampler, Sampler):
            raise ValidationError(f"{where}.sampler", f"must be a Sampler, got {type(self.sampler).__name__}")
        keep(self, {
            "batch": validate.count(f"{where}.batch", self.batch, low=2, high=self.sampler.capacity),
            "lr": validate.positive(f"{where}.lr", self.lr),
            "alpha": validate.non_negative(f"{where}.alpha", self.alpha),
            "seed": validate.count(f"{where}.seed", self.seed, low=0),
        })  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class EBMConfig(Recipe):
    """Recipe of :func:`train_ebm`: ``steps`` updates (Adam's betas (0, 0.999) as Du & Mordatch)
    of the :class:`Recipe`'s fields, 256 data per batch by default."""

    steps: int = 3000
    batch: int = 256

    def __post_init__(self) -> None:
        super().__post_init__()
        keep(self, {"steps": validate.count("EBMConfig.steps", self.steps)})


def train_ebm(
    energy: torch.nn.Module,
    data: Callable[[int], np.ndarray],
    shape: tuple[int, ...],
    config: EBMConfig = EBMConfig(),
    progress: bool | None = None,
) -> tuple[ReplayBuffer, list]:
    """Train ``energy`` on batches drawn by ``data(n)`` ((n, *shape) arrays); returns the replay
    buffer (its points are the persistent chains' samples) and the (E_data, E_negatives) means
    per step."""
    from ann_bridge.training import epochs_bar

    device = next(energy.parameters()).device
    torch.manual_seed(config.seed)
    buffer = config.sampler.buffer(shape, config.seed, device=device)
    optimiser = torch.optim.Adam(energy.parameters(), lr=config.lr, betas=(0.0, 0.999))
    history = []
    for _ in epochs_bar(config.steps, "EBM", progress, unit="step"):
        positives = torch.as_tensor(data(config.batch), dtype=torch.float32, device=device)
        if tuple(positives.shape) != (config.batch, *shape):
            raise ValidationError(
                "data", f"must return ({config.batch}, *{shape}) arrays, got {tuple(positives.shape)}"
            )
        negatives = config.sampler.run(energy, buffer.sample(config.batch))
        buffer.push(negatives)
        e_pos, e_neg = energy(positives), energy(negatives)
        optimiser.zero_grad()
        maximum_likelihood(e_pos, e_neg, config.alpha).backward()
        optimiser.step()
        history.append((float(e_pos.detach().mean()), float(e_neg.detach().mean())))
    return buffer, history


def mmd(a, b, scales: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0)) -> float:
    """The unbiased squared maximum mean discrepancy (Gretton et al. 2012) between samples ``a``
    (n, d) and ``b`` (m, d) with a sum of Gaussian kernels of bandwidths ``scales``; ~0 when
    they come from the same distribution."""
    a = torch.as_tensor(np.asarray(a), dtype=torch.float64)
    b = torch.as_tensor(np.asarray(b), dtype=torch.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValidationError(
            "mmd", f"needs two samples (n >= 2, d) of one d, got {tuple(a.shape)}, {tuple(b.shape)}"
        )

    def kernel(x, y):
        distance = torch.cdist(x, y).pow(2)
        return sum(torch.exp(-distance / (2 * s * s)) for s in scales)

    def within(x):
        k = kernel(x, x)
        return (k.sum() - k.diagonal().sum()) / (len(x) * (len(x) - 1))

    return float(within(a) + within(b) - 2 * kernel(a, b).mean())
