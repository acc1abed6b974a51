r"""LISTA (Gregor & LeCun 2010, "Learning fast approximations of sparse coding").

ISTA's iteration written as a recurrent network with its matrices set free:

.. math::  z^{(0)} = h_\theta(W_e x), \qquad z^{(k+1)} = h_\theta(W_e x + S z^{(k)}),

``K`` shrinkages in all (``K - 1`` recurrent steps). Initialised at ISTA (``W_e = Phi^T / L``,
``S = I - Phi^T Phi / L``, ``theta = lam / L``), where LISTA with ``K`` steps *is* ``K`` ISTA
iterations from zero; training ``W_e``, ``S`` and the per-atom thresholds ``theta`` by
back-propagation through the unrolled graph to regress the optimal codes ``z*`` (found by
FISTA) makes the ``K``-step output far closer to ``z*`` than ``K`` iterations of ISTA or
FISTA (the paper's headline: the error FISTA reaches only after 10-20x more iterations).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ann_bridge.sparse.solvers import as_problem, lipschitz, shrink
from snn import validate
from snn.errors import ValidationError


class LISTA(nn.Module):
    """The unrolled network for a dictionary (dim, atoms) and ``lam``, with ``steps`` = K >= 1
    shrinkages. ``forward(x)``: signals (n, dim) -> codes (n, atoms)."""

    def __init__(self, dictionary, lam: float, steps: int, dtype=torch.float32) -> None:
        super().__init__()
        self.steps = validate.count("LISTA.steps", steps, low=1, high=1000)
        phi = validate.finite_array(
            "dictionary", dictionary.detach().cpu() if torch.is_tensor(dictionary) else dictionary
        )
        if phi.ndim != 2:
            raise ValidationError("dictionary", f"must be a 2-D array (dim, atoms), got shape {phi.shape}")
        phi, _, lam = as_problem(phi, np.zeros(phi.shape[0]), lam, dtype=torch.float64)
        inverse_l = 1.0 / lipschitz(phi)
        eye = torch.eye(phi.shape[1], dtype=torch.float64)  # built on the CPU; .to(device) moves the module
        self.encoder = nn.Parameter((phi.T * inverse_l).to(dtype))  # W_e (atoms, dim)
        self.lateral = nn.Parameter((eye - phi.T @ phi * inverse_l).to(dtype))  # S (atoms, atoms)
        self.threshold = nn.Parameter(torch.full((phi.shape[1],), lam * inverse_l, dtype=dtype))

    def forward(self, signals: torch.Tensor) -> torch.Tensor:
        drive = signals @ self.encoder.T
        codes = shrink(drive, self.threshold)
        for _ in range(self.steps - 1):
            codes = shrink(drive + codes @ self.lateral.T, self.threshold)
        return codes


def relative_code_error(codes: torch.Tensor, optimal: torch.Tensor) -> float:
    """``sum |z - z*|^2 / sum |z*|^2`` over a batch."""
    return float((codes - optimal).detach().pow(2).sum() / optimal.pow(2).sum())


def train(model: LISTA, signals, optimal_codes, epochs: int = 300, batch: int = 128, lr: float = 1e-3,
          seed: int = 0, progress: bool | None = None) -> list[float]:  # fmt: skip
    """Fit ``model`` to map ``signals`` (n, dim) to ``optimal_codes`` (n, atoms) by Adam on the
    squared code error, the step size decaying from ``lr`` to 0 over the epochs (cosine);
    returns the mean training loss per epoch."""
    from ann_bridge.training import epochs_bar

    epochs = validate.count("epochs", epochs, low=1, high=1_000_000)
    batch = validate.count("batch", batch, low=1)
    lr = validate.positive("lr", lr)
    dtype, device = model.encoder.dtype, model.encoder.device
    x = torch.as_tensor(validate.finite_array("signals", signals), dtype=dtype, device=device)
    z = torch.as_tensor(validate.finite_array("optimal_codes", optimal_codes), dtype=dtype, device=device)
    atoms, dim = model.encoder.shape
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValidationError("signals", f"must have shape (n, {dim}), got {tuple(x.shape)}")
    if z.shape != (len(x), atoms):
        raise ValidationError("optimal_codes", f"must have shape ({len(x)}, {atoms}), got {tuple(z.shape)}")
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs)
    losses = []
    for _ in epochs_bar(epochs, "LISTA", progress):
        total = 0.0
        for rows in torch.randperm(len(x), generator=generator).to(device).split(batch):
            optimiser.zero_grad()
            loss = (model(x[rows]) - z[rows]).pow(2).sum(1).mean()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(rows)
        schedule.step()
        losses.append(total / len(x))
    return losses
