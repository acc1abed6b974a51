"""Maximum-likelihood training of an energy ``F(x)`` with SGLD negatives from a replay buffer
(Du & Mordatch 2019), and the kernel two-sample statistic that scores its samples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ann_bridge.ebm.losses import maximum_likelihood
from ann_bridge.ebm.sampling import ReplayBuffer, sgld
from snn import validate
from snn.errors import ValidationError


@dataclass(frozen=True, kw_only=True)
class SGLDConfig:
    """Recipe of :func:`train_ebm`: ``steps`` updates of Adam (``lr``, betas (0, 0.999) as Du &
    Mordatch), each on a batch of ``batch`` data and as many negatives from ``chain`` SGLD
    steps (``step_size``, ``noise``) started from the replay buffer (``capacity``, ``reinit``)
    in the box [low, high]; ``alpha`` weighs the energy-magnitude regulariser."""

    steps: int = 3000
    batch: int = 256
    lr: float = 1e-3
    chain: int = 20
    step_size: float = 0.02
    noise: float = 0.01
    capacity: int = 10_000
    reinit: float = 0.05
    low: float = -3.0
    high: float = 3.0
    alpha: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        validate.count("SGLDConfig.steps", self.steps)
        validate.count("SGLDConfig.batch", self.batch, low=2)
        validate.positive("SGLDConfig.lr", self.lr)
        validate.count("SGLDConfig.chain", self.chain)
        validate.positive("SGLDConfig.step_size", self.step_size)
        validate.non_negative("SGLDConfig.noise", self.noise)
        validate.count("SGLDConfig.capacity", self.capacity, low=self.batch)
        validate.probability("SGLDConfig.reinit", self.reinit)
        if not validate.finite("SGLDConfig.low", self.low) < validate.finite("SGLDConfig.high", self.high):
            raise ValidationError("SGLDConfig.high", f"must be > low ({self.low}), got {self.high}")
        validate.non_negative("SGLDConfig.alpha", self.alpha)

    def sample(self, energy, starts: torch.Tensor, chain: int | None = None) -> torch.Tensor:
        """SGLD chains of this recipe (``chain`` steps unless given) from ``starts``."""
        return sgld(energy, starts, steps=chain or self.chain, step_size=self.step_size, noise=self.noise,
                    low=self.low, high=self.high)  # fmt: skip


def train_ebm(
    energy: torch.nn.Module,
    data: Callable[[int], np.ndarray],
    shape: tuple[int, ...],
    config: SGLDConfig = SGLDConfig(),
    progress: bool | None = None,
) -> tuple[ReplayBuffer, list]:
    """Train ``energy`` on batches drawn by ``data(n)`` ((n, *shape) arrays); returns the replay
    buffer (its points are the persistent chains' samples) and the (E_data, E_negatives) means
    per step."""
    from ann_bridge.training import epochs_bar

    torch.manual_seed(config.seed)
    buffer = ReplayBuffer(shape, config.capacity, config.low, config.high, config.reinit,
                          generator=torch.Generator().manual_seed(config.seed))  # fmt: skip
    optimiser = torch.optim.Adam(energy.parameters(), lr=config.lr, betas=(0.0, 0.999))
    history = []
    for _ in epochs_bar(config.steps, "EBM", progress, unit="step"):
        positives = torch.as_tensor(data(config.batch), dtype=torch.float32)
        negatives = config.sample(energy, buffer.sample(config.batch))
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
