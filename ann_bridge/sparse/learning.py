r"""Learning what sparse coding codes with: a dictionary, a predictive sparse decomposition,
a sparse auto-encoder. These are the "regularised / architectural" energy-based models of
the source material: the L1 term limits the volume of low energy.

- :func:`learn_dictionary` (Olshausen & Field 1996 in its proximal form): alternate FISTA
  codes of a mini-batch with a gradient step of ``1/2 |x - Phi z|^2`` in ``Phi``, then
  renormalise each atom to unit length (otherwise the L1 term is dodged by growing ``Phi``).
- :class:`PSD` (Kavukcuoglu, Ranzato & LeCun 2008, "Fast inference in sparse coding
  algorithms with applications to object recognition"): energy
  ``|x - Phi z|^2/2 + lam |z|_1 + alpha/2 |z - F(x)|^2`` with the encoder
  ``F(x) = g * tanh(W x + b)``. Inference in ``z`` is a LASSO on the stacked dictionary
  ``[Phi; sqrt(alpha) I]`` and signal ``[x; sqrt(alpha) F(x)]``, so FISTA solves it; learning
  moves ``Phi`` toward the codes and ``F`` toward ``z*``. After training ``F(x)`` alone is a
  fast approximate code.
- :class:`SparseAutoencoder`: ``z = relu(W x + b)``, ``x_hat = D z``, loss
  ``|x - x_hat|^2 / 2 + lam |z|_1`` trained end to end (no inference loop).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ann_bridge.sparse.solvers import fista
from snn import validate
from snn.errors import ValidationError


def _signals(signals, dtype=torch.float64, device=None) -> torch.Tensor:
    x = validate.finite_array("signals", signals.detach().cpu() if torch.is_tensor(signals) else signals)
    if x.ndim != 2 or len(x) < 1:
        raise ValidationError("signals", f"must be a 2-D array (n, dim), got shape {x.shape}")
    return torch.as_tensor(x, dtype=dtype, device=device)


def _recipe(epochs: int, batch: int, lr: float) -> tuple[int, int, float]:
    return (validate.count("epochs", epochs), validate.count("batch", batch), validate.positive("lr", lr))


def initial_dictionary(signals, atoms: int, seed: int = 0) -> np.ndarray:
    """Where :func:`learn_dictionary` starts: ``atoms`` signals drawn at random (plus noise
    of 1e-3), normalised to unit length, (dim, atoms)."""
    x = _signals(signals)
    return _draw_initial(x, atoms, torch.Generator().manual_seed(seed)).numpy()


def _draw_initial(x: torch.Tensor, atoms: int, generator: torch.Generator) -> torch.Tensor:
    atoms = validate.count("atoms", atoms, low=1, high=100_000)
    picks = torch.randint(len(x), (atoms,), generator=generator)
    phi = x[picks].T.clone() + 1e-3 * torch.randn(x.shape[1], atoms, generator=generator, dtype=x.dtype)
    return phi / phi.norm(dim=0, keepdim=True).clamp_min(1e-12)


def learn_dictionary(signals, atoms: int, lam: float, epochs: int = 30, batch: int = 128, lr: float = 0.5,
                     seed: int = 0, inference_iterations: int = 100,
                     progress: bool | None = None) -> np.ndarray:  # fmt: skip
    """A dictionary (dim, atoms) with unit-norm atoms for ``signals`` (n, dim), started from
    :func:`initial_dictionary`. ``lr`` scales the step ``lr / L_z`` with ``L_z`` the batch's
    Lipschitz constant in ``Phi`` (the codes' largest squared singular value / batch)."""
    from ann_bridge.training import epochs_bar

    x = _signals(signals)
    lam = validate.non_negative("lambda", lam)
    epochs, batch, lr = _recipe(epochs, batch, lr)
    validate.count("inference_iterations", inference_iterations)
    generator = torch.Generator().manual_seed(seed)  # the start, then the batches, from one stream
    phi = _draw_initial(x, atoms, generator)
    for _ in epochs_bar(epochs, "dictionary", progress):
        for rows in torch.randperm(len(x), generator=generator).split(batch):
            codes = fista(phi, x[rows], lam, iterations=inference_iterations).codes
            residual = x[rows] - codes @ phi.T
            curvature = float(torch.linalg.matrix_norm(codes, ord=2) ** 2) / len(rows)
            phi = phi + (lr / max(curvature, 1e-12)) * (residual.T @ codes) / len(rows)
            phi /= phi.norm(dim=0, keepdim=True).clamp_min(1e-12)
    return phi.numpy()


class PSD(nn.Module):
    """Predictive sparse decomposition for signals of ``dim`` with ``atoms`` atoms.

    ``encode(x)``: the fast encoder ``F(x)`` (n, atoms); ``infer(x)``: the energy's minimiser
    ``z*``; ``fit(signals)``: learn ``Phi`` and ``F`` together."""

    def __init__(self, dim: int, atoms: int, lam: float, alpha: float = 1.0, seed: int = 0) -> None:
        super().__init__()
        dim = validate.count("PSD.dim", dim)
        atoms = validate.count("PSD.atoms", atoms)
        self.lam = validate.non_negative("PSD.lambda", lam)
        self.alpha = validate.positive("PSD.alpha", alpha)
        generator = torch.Generator().manual_seed(seed)
        phi = torch.randn(dim, atoms, generator=generator, dtype=torch.float64)
        self.register_buffer("dictionary", phi / phi.norm(dim=0, keepdim=True))
        self.weight = nn.Parameter(0.1 * torch.randn(atoms, dim, generator=generator, dtype=torch.float64))
        self.bias = nn.Parameter(torch.zeros(atoms, dtype=torch.float64))
        self.gain = nn.Parameter(torch.ones(atoms, dtype=torch.float64))

    def encode(self, signals: torch.Tensor) -> torch.Tensor:
        return self.gain * torch.tanh(signals @ self.weight.T + self.bias)

    def infer(self, signals: torch.Tensor, iterations: int = 100) -> torch.Tensor:
        """argmin_z of the PSD energy, by FISTA on the stacked LASSO."""
        root = self.alpha**0.5
        atoms = self.dictionary.shape[1]
        eye = torch.eye(atoms, dtype=self.dictionary.dtype, device=self.dictionary.device)
        stacked = torch.cat([self.dictionary, root * eye])
        with torch.no_grad():
            target = torch.cat([signals, root * self.encode(signals)], dim=1)
        return fista(stacked, target, self.lam, iterations=iterations).codes

    def energy(self, signals: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """The PSD energy per signal (n,)."""
        reconstruction = 0.5 * (signals - codes @ self.dictionary.T).pow(2).sum(1)
        prediction = 0.5 * self.alpha * (codes - self.encode(signals)).pow(2).sum(1)
        return reconstruction + self.lam * codes.abs().sum(1) + prediction

    def fit(self, signals, epochs: int = 30, batch: int = 128, lr: float = 1e-2, dictionary_lr: float = 0.5,
            seed: int = 0, progress: bool | None = None) -> list[float]:  # fmt: skip
        """Alternate inference of ``z*`` with a step of ``Phi`` (as :func:`learn_dictionary`)
        and an Adam step of the encoder toward ``z*``; returns the mean energy per epoch."""
        from ann_bridge.training import epochs_bar

        x = _signals(signals, device=self.dictionary.device)
        epochs, batch, lr = _recipe(epochs, batch, lr)
        dictionary_lr = validate.positive("dictionary_lr", dictionary_lr)
        if x.shape[1] != self.dictionary.shape[0]:
            raise ValidationError(
                "signals", f"must have {self.dictionary.shape[0]} columns, got {x.shape[1]}"
            )
        generator = torch.Generator().manual_seed(seed)
        optimiser = torch.optim.Adam([self.weight, self.bias, self.gain], lr=lr)
        energies = []
        for _ in epochs_bar(epochs, "PSD", progress):
            total = 0.0
            for rows in torch.randperm(len(x), generator=generator).to(x.device).split(batch):
                codes = self.infer(x[rows])
                total += float(self.energy(x[rows], codes).detach().sum())
                residual = x[rows] - codes @ self.dictionary.T
                curvature = float(torch.linalg.matrix_norm(codes, ord=2) ** 2) / len(rows)
                with torch.no_grad():
                    self.dictionary += (
                        (dictionary_lr / max(curvature, 1e-12)) * (residual.T @ codes) / len(rows)
                    )
                    self.dictionary /= self.dictionary.norm(dim=0, keepdim=True).clamp_min(1e-12)
                optimiser.zero_grad()
                (self.encode(x[rows]) - codes).pow(2).sum(1).mean().backward()
                optimiser.step()
            energies.append(total / len(x))
        return energies


class SparseAutoencoder(nn.Module):
    """``z = relu(W x + b)`` (atoms), ``x_hat = D z``; :meth:`loss` = reconstruction + L1."""

    def __init__(self, dim: int, atoms: int, lam: float, seed: int = 0) -> None:
        super().__init__()
        self.lam = validate.non_negative("SparseAutoencoder.lambda", lam)
        dim = validate.count("SparseAutoencoder.dim", dim)
        atoms = validate.count("SparseAutoencoder.atoms", atoms)
        with torch.random.fork_rng(devices=[]):  # seed the initial weights, not the caller's stream
            torch.manual_seed(seed)
            self.encoder = nn.Linear(dim, atoms)
            self.decoder = nn.Linear(atoms, dim, bias=False)

    def encode(self, signals: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.encoder(signals))

    def loss(self, signals: torch.Tensor) -> torch.Tensor:
        codes = self.encode(signals)
        residual = signals - self.decoder(codes)
        return (0.5 * residual.pow(2).sum(1) + self.lam * codes.abs().sum(1)).mean()

    def fit(self, signals, epochs: int = 100, batch: int = 128, lr: float = 1e-3, seed: int = 0,
            progress: bool | None = None) -> list[float]:  # fmt: skip
        from ann_bridge.training import epochs_bar

        x = _signals(signals, dtype=torch.float32, device=self.decoder.weight.device)
        epochs, batch, lr = _recipe(epochs, batch, lr)
        if x.shape[1] != self.decoder.out_features:
            raise ValidationError(
                "signals", f"must have {self.decoder.out_features} columns, got {x.shape[1]}"
            )
        generator = torch.Generator().manual_seed(seed)
        optimiser = torch.optim.Adam(self.parameters(), lr=lr)
        losses = []
        for _ in epochs_bar(epochs, "sparse auto-encoder", progress):
            total = 0.0
            for rows in torch.randperm(len(x), generator=generator).to(x.device).split(batch):
                optimiser.zero_grad()
                loss = self.loss(x[rows])
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(rows)
            losses.append(total / len(x))
        return losses
