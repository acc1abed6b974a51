r"""ISTA and FISTA for the LASSO, batched over signals, in torch (device-agnostic).

For signals ``x`` (n, dim) and a dictionary ``Phi`` (dim, atoms), both minimise
``E(z) = 1/2 |x - Phi z|^2 + lam |z|_1`` per signal with the proximal-gradient step

.. math::  z \leftarrow h_{\lambda/L}\bigl(y + \Phi^T (x - \Phi y) / L\bigr),
           \qquad h_\theta(v) = \mathrm{sign}(v) \max(|v| - \theta, 0),

``L = sigma_max(Phi)^2`` (the Lipschitz constant of the smooth part's gradient). ISTA takes
``y = z`` (objective gap O(1/k)); FISTA (Beck & Teboulle 2009) takes the momentum point
``y = z_k + (t_{k-1} - 1)/t_k (z_k - z_{k-1})``, ``t_k = (1 + sqrt(1 + 4 t_{k-1}^2)) / 2``
(gap O(1/k^2)). ``nonnegative=True`` solves the LASSO restricted to z >= 0 (the one-sided
shrinkage ``max(v - theta, 0)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from snn import validate
from snn.errors import ValidationError
from snn.lca import check_problem


@dataclass
class Solution:
    """``codes`` (n, atoms) tensor; ``iterations`` run; ``objectives`` (iterations, n) float64
    numpy array of E per iteration (when recorded, else empty); ``converged``: the tolerance
    was met before the iteration cap; ``code_errors`` (iterations,): the relative squared
    error ``sum |z_k - z*|^2 / sum |z*|^2`` against a ``reference`` z* when one was given."""

    codes: torch.Tensor
    iterations: int
    objectives: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    converged: bool = False
    code_errors: np.ndarray = field(default_factory=lambda: np.zeros(0))


def as_problem(dictionary, signals, lam, dtype=torch.float64, device=None):
    """(dictionary, signals (n, dim), lam) as tensors after :func:`snn.lca.check_problem`'s
    checks (shapes, finiteness, lam >= 0; errors name ``dictionary``, ``signals``, ``lambda``)."""
    if isinstance(dictionary, torch.Tensor):
        device = device or dictionary.device
        dictionary = dictionary.detach().cpu().numpy()
    if isinstance(signals, torch.Tensor):
        device = device or signals.device
        signals = signals.detach().cpu().numpy()
    phi, x, lam = check_problem(dictionary, signals, lam)
    return (
        torch.as_tensor(phi, dtype=dtype, device=device),
        torch.as_tensor(x, dtype=dtype, device=device),
        lam,
    )


def lipschitz(dictionary: torch.Tensor) -> float:
    """``L = sigma_max(Phi)^2``, the step-size bound of ISTA/FISTA."""
    return float(torch.linalg.matrix_norm(dictionary, ord=2) ** 2)


def shrink(values: torch.Tensor, threshold, nonnegative: bool = False) -> torch.Tensor:
    """Soft threshold ``sign(v) max(|v| - threshold, 0)`` (one-sided when ``nonnegative``)."""
    if nonnegative:
        return torch.clamp(values - threshold, min=0.0)
    return torch.sign(values) * torch.clamp(values.abs() - threshold, min=0.0)


def objective(
    dictionary: torch.Tensor, signals: torch.Tensor, codes: torch.Tensor, lam: float
) -> torch.Tensor:
    """E(z) per signal (n,), as :func:`snn.lca.lasso_objective` computes it, on tensors."""
    residual = signals - codes @ dictionary.T
    return 0.5 * residual.pow(2).sum(1) + lam * codes.abs().sum(1)


def _solve(dictionary, signals, lam, iterations, tol, nonnegative, record, accelerated, dtype,
           reference) -> Solution:  # fmt: skip
    iterations = validate.count("iterations", iterations, low=1, high=10_000_000)
    tol = validate.non_negative("tol", tol)
    phi, x, lam = as_problem(dictionary, signals, lam, dtype=dtype)
    step = 1.0 / lipschitz(phi)
    gram, correlation = phi.T @ phi, x @ phi  # the gradient of the smooth part is z G - x Phi
    codes = torch.zeros(x.shape[0], phi.shape[1], dtype=phi.dtype, device=phi.device)
    point, t = codes, 1.0
    history, errors = [], []
    if reference is not None:
        reference = torch.as_tensor(reference, dtype=phi.dtype, device=phi.device)
        if reference.shape != codes.shape:
            raise ValidationError(
                "reference", f"must have shape {tuple(codes.shape)}, got {tuple(reference.shape)}"
            )
        reference_norm = float(reference.pow(2).sum())
    converged = False
    iteration = 0
    for iteration in range(1, iterations + 1):  # noqa: B007 (the count is returned)
        new = shrink(point - step * (point @ gram - correlation), lam * step, nonnegative)
        if accelerated:
            t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
            point = new + ((t - 1.0) / t_next) * (new - codes)
            t = t_next
        else:
            point = new
        change = float((new - codes).norm() / max(float(new.norm()), 1e-300)) if tol else 1.0
        codes = new
        if record:
            history.append(objective(phi, x, codes, lam).cpu().numpy())
        if reference is not None:
            errors.append(float((codes - reference).pow(2).sum()) / reference_norm)
        if tol and change <= tol:
            converged = True
            break
    objectives = np.array(history, dtype=np.float64) if record else np.zeros((0, x.shape[0]))
    return Solution(codes=codes, iterations=iteration, objectives=objectives, converged=converged,
                    code_errors=np.array(errors))  # fmt: skip


def ista(dictionary, signals, lam: float, iterations: int = 1000, tol: float = 0.0,
         nonnegative: bool = False, record: bool = False, dtype=torch.float64,
         reference=None) -> Solution:  # fmt: skip
    """ISTA for ``signals`` (n, dim) or (dim,): at most ``iterations`` steps, stopping when
    the relative change of the codes falls to ``tol`` (0: never); ``record`` keeps E per step;
    ``reference`` (n, atoms): optimal codes to record the code error against."""
    return _solve(dictionary, signals, lam, iterations, tol, nonnegative, record, False, dtype, reference)


def fista(dictionary, signals, lam: float, iterations: int = 1000, tol: float = 0.0,
          nonnegative: bool = False, record: bool = False, dtype=torch.float64,
         reference=None) -> Solution:  # fmt: skip
    """FISTA (Beck & Teboulle 2009), arguments as :func:`ista`."""
    return _solve(dictionary, signals, lam, iterations, tol, nonnegative, record, True, dtype, reference)
