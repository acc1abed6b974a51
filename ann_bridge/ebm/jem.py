r"""A classifier read as an energy-based model, and energy scores for out-of-distribution data.

JEM (Grathwohl et al. 2020, "Your classifier is secretly an energy based model"): the logits
``f(x)`` of a classifier define ``p(x, y) ~ exp(f(x)[y])``, so ``p(y|x)`` is the usual
softmax and the marginal has the energy

.. math::  E(x) = -\log \sum_y \exp f(x)[y] .

Training adds the maximum-likelihood term of ``p(x)`` (SGLD negatives from a replay
buffer) to the cross-entropy. The same energy is the OOD score of Liu et al. (2020,
"Energy-based out-of-distribution detection"): in-distribution inputs have lower energy,
and unlike the maximum softmax probability it is not squashed to [0, 1] by normalisation.
:class:`EnergyHead` puts that score on any fixed features (a linear classifier trained by
cross-entropy), so spiking features can score novelty the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ann_bridge.ebm.losses import maximum_likelihood
from ann_bridge.ebm.sampling import ReplayBuffer, Sampler, keep
from ann_bridge.ebm.training import Recipe
from snn import validate
from snn.errors import ValidationError


def energy(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """``E(x) = -T logsumexp(f(x) / T)`` per row of ``logits`` (n, classes)."""
    return -temperature * torch.logsumexp(logits / temperature, dim=1)


def scores(logits) -> dict[str, np.ndarray]:
    """In-distribution scores (higher = more typical) from logits (n, classes): ``energy``
    (``-E(x)``) and ``softmax`` (the maximum softmax probability, Hendrycks & Gimpel 2017)."""
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    return {"energy": (-energy(logits)).numpy(), "softmax": torch.softmax(logits, 1).max(1).values.numpy()}


def auroc(in_distribution, out_of_distribution) -> float:
    """Area under the ROC curve of telling in-distribution (positive) from OOD samples by a
    score where higher means in-distribution; 0.5 is chance."""
    from sklearn.metrics import roc_auc_score

    a, b = np.asarray(in_distribution, dtype=np.float64), np.asarray(out_of_distribution, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise ValidationError("auroc", "needs at least one in-distribution and one OOD score")
    return float(roc_auc_score(np.r_[np.ones(a.size), np.zeros(b.size)], np.r_[a, b]))


#: JEM's sampler (Grathwohl et al. 2020, their code: 20 steps of x += 1 * grad logsumexp f(x) + 0.01 xi,
#: i.e. step_size 2 in :func:`~ann_bridge.ebm.sampling.sgld`'s x -= step/2 grad E), in the box of
#: digits' pixels [0, 1]
JEM_SAMPLER = Sampler(chain=20, step_size=2.0, noise=0.01, low=0.0, high=1.0)


@dataclass(frozen=True, kw_only=True)
class JEMConfig(Recipe):
    """Recipe of :func:`train_jem`: ``epochs`` over the data in batches of the :class:`Recipe`'s
    fields; the generative term weighted by ``generative`` (0: a plain classifier); JEM's
    sampler by default."""

    epochs: int = 60
    generative: float = 1.0
    sampler: Sampler = JEM_SAMPLER

    def __post_init__(self) -> None:
        super().__post_init__()
        keep(self, {
            "epochs": validate.count("JEMConfig.epochs", self.epochs),
            "generative": validate.non_negative("JEMConfig.generative", self.generative),
        })  # fmt: skip


def train_jem(model: nn.Module, x_train, y_train, config: JEMConfig = JEMConfig(),
              progress: bool | None = None) -> ReplayBuffer:  # fmt: skip
    """Train ``model`` (inputs (n, d) -> logits) as a JEM on ``x_train`` (n, d) with labels
    ``y_train`` (n,); returns the replay buffer (its points are SGLD samples of p(x))."""
    from ann_bridge.training import epochs_bar

    device = next(model.parameters()).device
    x = torch.as_tensor(validate.finite_array("x_train", x_train), dtype=torch.float32, device=device)
    if x.ndim != 2:
        raise ValidationError("x_train", f"must be a 2-D array (n, d), got shape {tuple(x.shape)}")
    labels = np.asarray(y_train)
    if labels.shape != (len(x),) or labels.dtype.kind not in "iu" or (labels.size and labels.min() < 0):
        raise ValidationError("y_train", f"must hold one integer class >= 0 per row of x_train ({len(x)})")
    y = torch.as_tensor(labels, dtype=torch.long, device=device)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    buffer = config.sampler.buffer((x.shape[1],), config.seed, device=device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)

    def marginal(inputs):
        return energy(model(inputs))

    for _ in epochs_bar(config.epochs, "JEM", progress):
        model.train()
        for rows in torch.randperm(len(x), generator=generator).to(device).split(config.batch):
            if config.generative > 0:  # the chains run with the model in eval mode, as JEM's code does
                model.eval()
                negatives = config.sampler.run(marginal, buffer.sample(len(rows)))
                buffer.push(negatives)
                model.train()
            logits = model(x[rows])
            loss = nn.functional.cross_entropy(logits, y[rows])
            if config.generative > 0:
                e_pos = energy(logits)
                loss = loss + config.generative * maximum_likelihood(e_pos, marginal(negatives), config.alpha)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    return buffer


class EnergyHead(nn.Module):
    """A linear classifier on fixed features, standardised with the training features' mean
    and spread; its logits give :func:`scores` (the energy head of spiking features)."""

    def __init__(self, n_features: int, n_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(validate.count("EnergyHead.n_features", n_features),
                                validate.count("EnergyHead.n_classes", n_classes, low=2))  # fmt: skip
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear((features - self.mean) / self.scale)

    def fit(self, features, labels, epochs: int = 300, lr: float = 1e-2, weight_decay: float = 1e-4,
            seed: int = 0) -> EnergyHead:  # fmt: skip
        """Full-batch Adam on the cross-entropy of ``features`` (n, n_features), ``labels`` (n,)."""
        device = self.mean.device
        x = torch.as_tensor(validate.finite_array("features", features), dtype=torch.float32, device=device)
        if x.ndim != 2 or x.shape[1] != self.linear.in_features:
            raise ValidationError(
                "features", f"must have shape (n, {self.linear.in_features}), got {tuple(x.shape)}"
            )
        classes = np.asarray(labels)
        if classes.shape != (len(x),) or classes.dtype.kind not in "iu" or classes.min() < 0 \
                or classes.max() >= self.linear.out_features:  # fmt: skip
            raise ValidationError("labels", f"must hold one class in [0, {self.linear.out_features}) per row")
        y = torch.as_tensor(classes, dtype=torch.long, device=device)
        self.mean.copy_(x.mean(0))
        self.scale.copy_(x.std(0).clamp_min(1e-6))
        torch.manual_seed(seed)
        optimiser = torch.optim.Adam(self.linear.parameters(), lr=lr, weight_decay=weight_decay)
        for _ in range(validate.count("epochs", epochs)):
            optimiser.zero_grad()
            nn.functional.cross_entropy(self(x), y).backward()
            optimiser.step()
        return self

    def logits(self, features) -> np.ndarray:
        with torch.no_grad():
            features = torch.as_tensor(np.asarray(features), dtype=torch.float32, device=self.mean.device)
            return self(features).cpu().numpy()
