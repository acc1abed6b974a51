r"""Training losses for EBMs: contrastive ones push the energy down on data and up on chosen
points; the denoising auto-encoder shapes a reconstruction energy with no negatives.

``e_pos`` are the energies (n,) of data, ``e_neg`` those (m,) of contrastive points.

- :func:`maximum_likelihood`: the gradient of ``-log p(x)`` for ``p ~ exp(-F)`` is
  ``grad F(x_data) - E_p[grad F]``, estimated with SGLD samples for the expectation;
  plus Du & Mordatch's (2019) ``alpha (e_pos^2 + e_neg^2)`` to keep energies near zero.
- :func:`hinge` (margin loss): ``max(0, m + e_pos - e_neg)``.
- :func:`square_square` (LeCun et al. 2006, "A tutorial on energy-based learning"):
  ``e_pos^2 + max(0, m - e_neg)^2``.
- :func:`nce` (Gutmann & Hyvarinen 2010): logistic regression of data against samples of
  a known noise density ``q`` with the logit ``-F(x) - c - log q(x)``, ``c`` (the log
  partition function) learned with the energy; the optimum is the data's density.
- :class:`DenoisingAutoencoder`: trained to undo Gaussian corruption; its reconstruction
  error ``|x - D(x)|^2`` is an energy low near the data (Alain & Bengio 2014).
"""

from __future__ import annotations

import torch
from torch import nn

from snn import validate


def maximum_likelihood(e_pos: torch.Tensor, e_neg: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    alpha = validate.non_negative("alpha", alpha)
    return e_pos.mean() - e_neg.mean() + alpha * (e_pos.pow(2).mean() + e_neg.pow(2).mean())


def hinge(e_pos: torch.Tensor, e_neg: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    margin = validate.positive("margin", margin)
    return torch.relu(margin + e_pos - e_neg).mean()


def square_square(e_pos: torch.Tensor, e_neg: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    margin = validate.positive("margin", margin)
    return e_pos.pow(2).mean() + torch.relu(margin - e_neg).pow(2).mean()


def nce(e_data: torch.Tensor, e_noise: torch.Tensor, log_q_data: torch.Tensor, log_q_noise: torch.Tensor,
        log_normaliser: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """NCE with as many noise samples as data: energies and noise log densities of both,
    and the learned ``log_normaliser`` c (a scalar tensor)."""
    from snn.errors import ValidationError

    if e_data.shape != log_q_data.shape or e_noise.shape != log_q_noise.shape or len(e_data) != len(e_noise):
        raise ValidationError("nce", "needs as many noise samples as data, each with its energy and log q")
    logit_data = -e_data - log_normaliser - log_q_data
    logit_noise = -e_noise - log_normaliser - log_q_noise
    softplus = nn.functional.softplus
    return softplus(-logit_data).mean() + softplus(logit_noise).mean()


class DenoisingAutoencoder(nn.Module):
    """``D(x)``: an MLP auto-encoder (``hidden`` units, SiLU) trained by :meth:`loss` on
    inputs corrupted by Gaussian noise of std ``noise``; :meth:`energy` is ``|x - D(x)|^2``."""

    def __init__(self, n_in: int, hidden: int = 128, noise: float = 0.1) -> None:
        super().__init__()
        n_in = validate.count("DenoisingAutoencoder.n_in", n_in)
        hidden = validate.count("DenoisingAutoencoder.hidden", hidden)
        self.noise = validate.positive("DenoisingAutoencoder.noise", noise)
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, n_in))  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        return (self(x + self.noise * torch.randn_like(x)) - x).pow(2).sum(1).mean()

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return (self(x) - x).pow(2).sum(1)
