"""GAN losses as games between a generator G (player x, minimising) and a discriminator D
(player y, maximising): each gives the zero-sum value f(G, D) that CGD and ACGD play, and the
pair of losses (G's, D's) that gradient methods minimise.

- ``gan`` (Goodfellow et al. 2014): f = E log s(D(x)) + E log(1 - s(D(G(z)))) with s the
  logistic function; gradient methods give G the non-saturating loss -E log s(D(G(z))).
- ``wgan`` (Arjovsky et al. 2017): f = E D(x) - E D(G(z)), no clipping and no penalty.
- ``wgan-gp`` (Gulrajani et al. 2017): D also pays ``gp_weight`` E (|grad D(x_hat)| - 1)^2 on
  random interpolates x_hat; zero-sum: f = W - penalty.
- ``ebgan`` (Zhao et al. 2017): D is an auto-encoder whose reconstruction error is an
  energy; D minimises E e(x) + E max(0, margin - e(G(z))), G minimises E e(G(z)) plus
  ``pt_weight`` times the pulling-away term (mean squared cosine similarity between the
  codes of a batch's samples). Not zero-sum (the hinge), so CGD and ACGD refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from snn.errors import ValidationError

LOSSES = ("gan", "wgan", "wgan-gp", "ebgan")


@dataclass(frozen=True)
class Loss:
    """A GAN loss (see the module docstring): ``name`` and its weights."""

    name: str = "gan"
    gp_weight: float = 10.0
    margin: float = 1.0
    pt_weight: float = 0.1

    def __post_init__(self) -> None:
        if self.name not in LOSSES:
            raise ValidationError("--model", f"must be one of {list(LOSSES)}, got {self.name!r}")

    @property
    def has_zero_sum(self) -> bool:
        return self.name != "ebgan"

    def game(self, generator, discriminator, real: torch.Tensor, z: torch.Tensor, zero_sum: bool):
        """f (zero_sum) or (G's loss, D's loss) on a batch of ``real`` samples and latents ``z``."""
        fake = generator(z)
        if self.name == "ebgan":
            if zero_sum:
                raise ValidationError(
                    "--optimizer",
                    "ebgan is not a zero-sum game (its hinge): CGD and ACGD play zero-sum games; "
                    "use gda, adam, ogda or extragradient",
                )
            energy_real, energy_fake = discriminator(real), discriminator(fake)
            loss_d = energy_real.mean() + F.relu(self.margin - energy_fake).mean()
            return energy_fake.mean() + self.pt_weight * pulling_away(discriminator.code(fake)), loss_d
        score_real, score_fake = discriminator(real), discriminator(fake)
        if self.name == "gan":
            f = F.logsigmoid(score_real).mean() + F.logsigmoid(-score_fake).mean()
            return f if zero_sum else (-F.logsigmoid(score_fake).mean(), -f)
        wasserstein = score_real.mean() - score_fake.mean()
        if self.name == "wgan":
            return wasserstein if zero_sum else (-score_fake.mean(), -wasserstein)
        # the penalty is D's alone: interpolate towards the fake samples as data (in the zero-sum
        # form the generator must not be paid for moving D's gradient norm away from 1)
        penalty = self.gp_weight * gradient_penalty(discriminator, real, fake.detach())
        return wasserstein - penalty if zero_sum else (-score_fake.mean(), penalty - wasserstein)


def gradient_penalty(discriminator, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E (|grad_x D(x_hat)| - 1)^2 at random points between real and fake samples."""
    share = torch.rand(real.shape[0], *[1] * (real.dim() - 1), device=real.device, dtype=real.dtype)
    between = (share * real + (1 - share) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(between).sum(), between, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


def pulling_away(codes: torch.Tensor) -> torch.Tensor:
    """EBGAN's pulling-away term: mean squared cosine similarity between distinct codes of a batch."""
    unit = F.normalize(codes, dim=1)
    n = codes.shape[0]
    if n < 2:
        return codes.sum() * 0
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=codes.device)
    return (unit @ unit.T)[off_diagonal].square().mean()
