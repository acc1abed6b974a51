"""2-D mixtures of Gaussians, the GAN toys of the mode-collapse literature, and their metrics.

- ``ring``: 8 Gaussians evenly spaced on a circle of radius 2, standard deviation 0.02;
- ``grid``: 25 Gaussians on the grid {-4, -2, 0, 2, 4}^2, standard deviation 0.05.

The metrics are those of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018): of
2500 generated samples, a sample is *high quality* when it lies within 3 standard deviations
of its nearest mode's centre, and a mode is *covered* when at least 20 high-quality samples
lie near it.
"""

from __future__ import annotations

import numpy as np

from snn.errors import ValidationError

TOYS = ("ring", "grid")
#: VEEGAN's thresholds: within 3 std is high quality; 20 such samples cover a mode
QUALITY_STDS = 3.0
COVERING_SAMPLES = 20


def centres(name: str) -> tuple[np.ndarray, float]:
    """(mode centres (modes, 2), standard deviation) of toy ``name``."""
    if name == "ring":
        angles = 2 * np.pi * np.arange(8) / 8
        return 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.02
    if name == "grid":
        values = np.arange(-4.0, 5.0, 2.0)
        return np.stack(np.meshgrid(values, values), axis=-1).reshape(-1, 2), 0.05
    raise ValidationError("--data", f"toy must be one of {list(TOYS)}, got {name!r}")


def sample(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of toy ``name`` (float32, (n, 2)): a mode at random, plus Gaussian noise."""
    means, std = centres(name)
    picks = rng.integers(len(means), size=n)
    return (means[picks] + std * rng.standard_normal((n, 2))).astype(np.float32)


def mode_metrics(name: str, samples: np.ndarray) -> dict:
    """``modes_covered`` (of all modes), ``high_quality`` (share of samples), ``per_mode``
    (high-quality samples per mode) for generated ``samples`` (n, 2)."""
    means, std = centres(name)
    samples = np.asarray(samples, dtype=np.float64)
    distance = np.linalg.norm(samples[:, None, :] - means[None], axis=2)
    nearest = np.argmin(distance, axis=1)
    good = distance[np.arange(len(samples)), nearest] <= QUALITY_STDS * std
    per_mode = np.bincount(nearest[good], minlength=len(means))
    return {
        "modes": len(means),
        "modes_covered": int(np.sum(per_mode >= COVERING_SAMPLES)),
        "high_quality": float(np.mean(good)) if len(samples) else 0.0,
        "per_mode": per_mode.tolist(),
    }
