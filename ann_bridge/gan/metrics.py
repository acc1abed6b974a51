"""Sample-quality metrics: the Frechet distance between feature distributions (Heusel et al.
2017, on a small classifier's features instead of Inception's), a classifier two-sample test
(Lopez-Paz & Oquab 2017), and the feature classifier itself, trained once and cached."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of two samples of features (n, d)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    # tr (S_a S_b)^(1/2) = tr (S_a^(1/2) S_b S_a^(1/2))^(1/2), from symmetric eigendecompositions:
    # exact for singular covariances (dead ReLU features), where a general matrix root is not
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    trace_root = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)))
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def two_sample_accuracy(a: np.ndarray, b: np.ndarray, seed: int = 0, epochs: int = 300) -> float:
    """Held-out accuracy of a logistic regression telling sample ``a`` from sample ``b``
    (subsampled to the same size; half of each trains, the other half tests): 0.5 when they
    cannot be told apart."""
    from snn.errors import ValidationError

    rng = np.random.default_rng(seed)
    n = min(len(a), len(b)) // 2 * 2
    if n < 4:
        raise ValidationError(
            "two_sample_accuracy", f"needs at least 4 samples of each, got {min(len(a), len(b))}"
        )
    a, b = a[rng.permutation(len(a))[:n]], b[rng.permutation(len(b))[:n]]
    half = n // 2  # the first half of each sample trains, the second tests: balanced in both
    x = torch.from_numpy(np.concatenate([a[:half], b[:half], a[half:], b[half:]]).astype(np.float32))
    y = torch.cat([torch.zeros(half), torch.ones(half), torch.zeros(half), torch.ones(half)])
    mean, std = x[:n].mean(0), x[:n].std(0) + 1e-6
    x = (x - mean) / std
    train, test = slice(0, n), slice(n, 2 * n)
    torch.manual_seed(seed)
    model = nn.Linear(x.shape[1], 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-3)
    for _ in range(epochs):
        opt.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(model(x[train]).squeeze(1), y[train]).backward()
        opt.step()
    with torch.no_grad():
        return float(((model(x[test]).squeeze(1) > 0).float() == y[test]).float().mean())


def cache_dir() -> Path:
    """Where trained helpers are kept: ``$NEUROBRIDGE_CACHE``, else ``$XDG_CACHE_HOME/neurobridge``
    (``~/.cache/neurobridge``)."""
    if os.environ.get("NEUROBRIDGE_CACHE"):
        return Path(os.environ["NEUROBRIDGE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "neurobridge"


class FeatureClassifier(nn.Module):
    """inputs -> 128 hidden features (ReLU) -> classes; :meth:`features` is the hidden layer."""

    def __init__(self, n_in: int, n_classes: int, hidden: int = 128) -> None:
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.hidden(x))

    def features(self, samples: np.ndarray) -> np.ndarray:
        """The hidden features of ``samples`` (n, n_in) as a numpy array (no gradients)."""
        with torch.no_grad():
            return self.hidden(torch.from_numpy(np.asarray(samples, np.float32))).numpy()


def cached_model(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    epochs: int = 200,
) -> FeatureClassifier:
    """A :class:`FeatureClassifier` trained on (x_train, y_train) with a fixed seed, kept
    under :func:`cache_dir` (trained on first use; the file is written atomically; the key
    covers the data and the training recipe). Its test accuracy is stored in the file too."""
    from snn.atomic import write_atomic

    recipe = f"FeatureClassifier/128/adam1e-3/batch64/epochs{epochs}".encode()
    key = hashlib.sha256(recipe + np.ascontiguousarray(x_train, dtype=np.float32).tobytes()
                         + np.ascontiguousarray(y_train).tobytes()).hexdigest()[:16]  # fmt: skip
    path = cache_dir() / f"{name}_features_{key}.pt"
    n_classes = int(y_train.max()) + 1
    model = FeatureClassifier(x_train.shape[1], n_classes)
    if path.exists():
        model.load_state_dict(torch.load(path, weights_only=True)["state"])
    else:
        torch.manual_seed(0)
        x, y = torch.from_numpy(np.asarray(x_train, np.float32)), torch.from_numpy(np.asarray(y_train))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(epochs):
            for batch in torch.randperm(len(x)).split(64):
                opt.zero_grad()
                nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
                opt.step()
        with torch.no_grad():
            accuracy = float((model(torch.from_numpy(np.asarray(x_test, np.float32))).argmax(1).numpy()
                              == y_test).mean())  # fmt: skip
        saved = {"state": model.state_dict(), "test_accuracy": accuracy}
        write_atomic(path, lambda handle: torch.save(saved, handle))
    model.eval()
    return model
