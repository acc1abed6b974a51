"""Reservoir benchmark tasks, generated offline from a seed.

* :func:`mackey_glass` — the delay differential equation of Mackey & Glass (1977),
  ``dx/dt = a x(t - tau) / (1 + x(t - tau)^n) - b x(t)``, tau = 17 (chaotic), integrated
  with RK4 at ``h`` and sampled every ``sample`` time units.
* :func:`narma10` — the 10th-order NARMA system (Atiya & Parlos 2000):
  ``y[t+1] = 0.3 y[t] + 0.05 y[t] sum_{i<10} y[t-i] + 1.5 u[t-9] u[t] + 0.1``, u ~ U[0, 0.5].
* :func:`memory_capacity_data` — i.i.d. input and its delayed copies (Jaeger 2001).
* :func:`nrmse` — RMSE divided by the target's standard deviation.
"""

from __future__ import annotations

import numpy as np

from snn import validate
from snn.errors import ValidationError


def mackey_glass(
    steps: int,
    tau: float = 17.0,
    a: float = 0.2,
    b: float = 0.1,
    n: float = 10.0,
    x0: float = 1.2,
    h: float = 0.1,
    sample: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """``steps`` samples (one every ``sample`` time units) of the Mackey-Glass series, shape (steps,).

    The history before t = 0 is ``x0`` plus uniform noise of width 0.2 drawn from ``seed``;
    the delayed term is linearly interpolated at RK4's half steps. The first 1000 time units
    are discarded so the series starts on the attractor.
    """
    steps = validate.count("steps", steps)
    delay = int(round(tau / h))
    per_sample = int(round(sample / h))
    if delay < 1 or per_sample < 1 or abs(delay * h - tau) > 1e-9 or abs(per_sample * h - sample) > 1e-9:
        raise ValidationError("h", f"must divide tau ({tau}) and sample ({sample}), got {h}")
    transient = int(round(1000.0 / h))
    total = transient + steps * per_sample
    rng = np.random.default_rng(seed)
    x = np.empty(delay + total + 1)
    x[: delay + 1] = x0 + 0.2 * (rng.random(delay + 1) - 0.5)

    def slope(value, delayed):
        return a * delayed / (1.0 + delayed**n) - b * value

    for i in range(delay, delay + total):
        lagged, lagged_next = x[i - delay], x[i - delay + 1]
        lagged_half = 0.5 * (lagged + lagged_next)
        k1 = slope(x[i], lagged)
        k2 = slope(x[i] + 0.5 * h * k1, lagged_half)
        k3 = slope(x[i] + 0.5 * h * k2, lagged_half)
        k4 = slope(x[i] + h * k3, lagged_next)
        x[i + 1] = x[i] + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x[delay + transient + per_sample :: per_sample][:steps].copy()


def narma10(steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Input ``u`` and target ``y`` of NARMA10, each (steps,); 200 leading steps are discarded."""
    steps = validate.count("steps", steps)
    rng = np.random.default_rng(seed)
    while True:  # the system diverges for rare input draws; redraw (deterministically) then
        total = steps + 200
        u = rng.uniform(0.0, 0.5, total)
        y = np.zeros(total)
        for t in range(9, total - 1):
            y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * y[t - 9 : t + 1].sum() + 1.5 * u[t - 9] * u[t] + 0.1
        if np.all(np.isfinite(y)) and np.abs(y).max() < 10:
            return u[200:], y[200:]


def memory_capacity_data(steps: int, max_delay: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Input ``u`` (steps,) uniform in [-0.5, 0.5] and targets (steps, max_delay) with column
    ``k - 1`` = ``u[t - k]`` (zero before the series starts)."""
    steps = validate.count("steps", steps)
    max_delay = validate.count("max_delay", max_delay)
    u = np.random.default_rng(seed).uniform(-0.5, 0.5, steps)
    targets = np.zeros((steps, max_delay))
    for k in range(1, max_delay + 1):
        targets[k:, k - 1] = u[:-k]
    return u, targets


def _pair(target, prediction) -> tuple[np.ndarray, np.ndarray]:
    """Both as (T, O) arrays; a (T,) series and a (T, 1) prediction are the same thing."""
    target = np.asarray(target, dtype=float).reshape(len(target), -1)
    prediction = np.asarray(prediction, dtype=float).reshape(len(prediction), -1)
    if target.shape != prediction.shape:
        raise ValidationError(
            "prediction", f"must have the target's shape {target.shape}, got {prediction.shape}"
        )
    return target, prediction


def rmse(target, prediction) -> float:
    """Root mean squared error over every step and output."""
    target, prediction = _pair(target, prediction)
    return float(np.sqrt(np.mean((target - prediction) ** 2)))


def nrmse(target, prediction) -> float:
    """RMSE over the target's standard deviation (1 = no better than predicting the mean)."""
    target, prediction = _pair(target, prediction)
    return rmse(target, prediction) / float(np.std(target))
