"""One run of a reservoir model on one task, as `snn reservoir` and the tests call it.

Each runner returns a plain dict of figures (JSON-able) plus, under ``"curves"``, arrays
for the plots. Hyperparameters come in as an :class:`snn.reservoir.ESN` or
:class:`snn.reservoir.LSM`; the split into washout, training and test steps is fixed per
task (``SPLITS``) so that runs are comparable.
"""

from __future__ import annotations

import time

import numpy as np

from snn.errors import ValidationError
from snn.reservoir import ESN, LSM, Ridge, Softmax
from snn.reservoir.lsm import filtered_spikes
from studies.experiments.reservoir_tasks import mackey_glass, memory_capacity_data, narma10, nrmse, rmse

# (steps in total, washout, first test step)
SPLITS = {
    "mackey-glass": (2000, 100, 1599),
    "narma10": (6000, 200, 4000),
    "memory-capacity": (7000, 500, 5000),
}
GENERATIVE_STEPS = 200  # free-running Mackey-Glass prediction after teacher forcing


def check_series(name: str, series: np.ndarray, washout: int) -> None:
    """The checks every series task makes before fitting."""
    if not np.all(np.isfinite(series)):
        raise ValidationError(name, "contains NaN or infinite values")
    if series.shape[0] <= washout:
        raise ValidationError(name, f"has {series.shape[0]} steps, not more than the washout ({washout})")


def _fit_predict(esn: ESN, inputs, targets, washout: int, split: int, ridge: float, seed: int, extra=None):
    """Run, fit the ridge readout on [washout, split), predict [split, end).

    Timings: ``init_s`` draws the weights, ``run_s`` runs the reservoir over every step and
    applies the readout, ``fit_s`` fits the readout."""
    start = time.perf_counter()
    weights = esn.initial_weights(inputs.shape[1], seed=seed)
    init_s = time.perf_counter() - start
    start = time.perf_counter()
    states = esn.run(weights, inputs)
    features = states if extra is None else np.hstack([states, extra])
    run_s = time.perf_counter() - start
    start = time.perf_counter()
    readout = Ridge(ridge).fit(features[washout:split], targets[washout:split])
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    prediction = readout.predict(features[split:])
    run_s += time.perf_counter() - start
    return weights, states, readout, prediction, {"init_s": init_s, "fit_s": fit_s, "run_s": run_s}


def esn_mackey_glass(esn: ESN, ridge: float, seed: int = 0, series: np.ndarray | None = None) -> dict:
    """One-step prediction (train on the first 80 %, as reservoirpy's example), then
    ``GENERATIVE_STEPS`` of free-running prediction from the end of the test part's teacher forcing."""
    steps, washout, split = SPLITS["mackey-glass"]
    series = mackey_glass(steps + 1) if series is None else np.asarray(series, dtype=float).ravel()
    check_series("series", series, washout)
    inputs, targets = series[:-1, None], series[1:, None]
    weights, states, readout, prediction, timing = _fit_predict(
        esn, inputs, targets, washout, split, ridge, seed
    )
    truth = targets[split:]
    free_steps = min(GENERATIVE_STEPS, truth.shape[0])
    # free run from the state at the start of the test part, fed with its own predictions
    _, generated = esn.generate(weights, readout, free_steps, states[split - 1], targets[split - 1])
    return {
        "nrmse": nrmse(truth, prediction),
        "rmse": rmse(truth, prediction),
        "generative_nrmse": nrmse(truth[:free_steps], generated),
        "generative_steps": free_steps,
        **timing,
        "curves": {"truth": truth[:, 0], "prediction": prediction[:, 0], "generated": generated[:, 0]},
    }


def esn_narma10(esn: ESN, ridge: float, seed: int = 0) -> dict:
    """NARMA10 from its input; the readout also sees the input itself (a common choice)."""
    steps, washout, split = SPLITS["narma10"]
    u, y = narma10(steps, seed=seed)
    _, _, _, prediction, timing = _fit_predict(
        esn, u[:, None], y[:, None], washout, split, ridge, seed, u[:, None]
    )
    truth = y[split:, None]
    return {
        "nrmse": nrmse(truth, prediction),
        "rmse": rmse(truth, prediction),
        **timing,
        "curves": {"truth": truth[:, 0], "prediction": prediction[:, 0]},
    }


def esn_memory_capacity(esn: ESN, ridge: float, seed: int = 0, max_delay: int | None = None) -> dict:
    """Jaeger's memory capacity: sum over delays k of the squared correlation between u[t - k]
    and its best linear reconstruction from the state (test part); delays up to 2 N."""
    steps, washout, split = SPLITS["memory-capacity"]
    max_delay = max_delay or 2 * esn.units
    u, targets = memory_capacity_data(steps, max_delay, seed=seed)
    _, _, _, prediction, timing = _fit_predict(esn, u[:, None], targets, washout, split, ridge, seed)
    truth = targets[split:]
    per_delay = np.array([np.corrcoef(prediction[:, k], truth[:, k])[0, 1] ** 2 for k in range(max_delay)])
    return {
        "memory_capacity": float(per_delay.sum()),
        "nrmse": nrmse(truth, prediction),
        "rmse": rmse(truth, prediction),
        **timing,
        "curves": {"delay": np.arange(1, max_delay + 1), "r2": per_delay},
    }


def _digits(seed: int):
    from studies.experiments.datasets import load

    data = load("digits", seed=seed)
    rows = {
        part: getattr(data, f"x_{part}").reshape(-1, 8, 8).astype(float) for part in ("train", "val", "test")
    }
    labels = {part: getattr(data, f"y_{part}") for part in ("train", "val", "test")}
    return rows, labels


def _classify(features: dict, labels: dict, l2: float, timing: dict) -> dict:
    start = time.perf_counter()
    readout = Softmax(l2=l2).fit(features["train"], labels["train"])
    timing["fit_s"] = time.perf_counter() - start
    accuracy = {
        part: float(np.mean(readout.predict(features[part]) == labels[part])) for part in ("val", "test")
    }
    return {"accuracy": accuracy["test"], "val_accuracy": accuracy["val"], **timing}


def esn_digits(esn: ESN, l2: float = 1e-2, seed: int = 0) -> dict:
    """Digits read row by row (8 steps of 8 pixels); features = the states after every row."""
    rows, labels = _digits(seed)
    start = time.perf_counter()
    weights = esn.initial_weights(8, seed=seed)
    timing = {"init_s": time.perf_counter() - start}
    start = time.perf_counter()
    features = {part: esn.run(weights, x).reshape(len(x), -1) for part, x in rows.items()}
    timing["run_s"] = time.perf_counter() - start
    return _classify(features, labels, l2, timing)


def lsm_features(
    lsm: LSM,
    sequences: np.ndarray,
    seed: int = 0,
    dt: float = 1e-3,
    row_s: float = 0.01,
    gap_s: float = 0.05,
    max_rate: float = 200.0,
    replicas: int = 20,
    tau: float = 0.03,
):
    """The liquid's states for ``sequences`` (n, steps, channels) of values in [0, 1]: each
    step's values drive ``channels * replicas`` Poisson channels at ``value * max_rate`` Hz for
    ``row_s`` seconds, then ``gap_s`` of silence lets the liquid settle before the next
    sample; features (n, steps * units) = the filtered spikes (``tau``) of every neuron at the
    end of every step. One simulation runs every sample in sequence. Returns (features,
    timing, mean rate (Hz))."""
    import snn

    n, steps, channels = sequences.shape
    gap_windows = int(round(gap_s / row_s))
    per_sample = steps + gap_windows
    values = np.zeros((n, per_sample, channels * replicas))
    values[:, :steps] = np.repeat(sequences, replicas, axis=2)
    source = snn.RateEncoder(
        name="input", values=values.reshape(n * per_sample, -1), max_rate=max_rate, window=row_s
    )
    start = time.perf_counter()
    network = lsm.network(source, seed=seed)
    simulator = snn.Simulator(network, dt=dt, seed=seed, progress=False)
    result = simulator.run(n * per_sample * row_s)
    # Numba's load/compile time is reported apart from the run (a one-shot CLI run pays it)
    jit_s = result.metadata["compile_s"]
    timing = {"jit_s": jit_s, "run_s": time.perf_counter() - start - jit_s}
    n_exc = lsm.n_exc
    times = np.concatenate([result.spikes["exc"][0], result.spikes["inh"][0]])
    ids = np.concatenate([result.spikes["exc"][1], result.spikes["inh"][1] + n_exc])
    ends = (np.arange(n)[:, None] * per_sample + np.arange(1, steps + 1)[None, :]) * row_s - 0.5 * dt
    features = filtered_spikes(times, ids, lsm.units, ends.ravel(), tau).reshape(n, -1)
    return features, timing, result.mean_rate()


def lsm_digits(lsm: LSM, l2: float = 1e-2, seed: int = 0, **encoding) -> dict:
    """Digits read row by row by a liquid (:func:`lsm_features`, 8 steps of 8 pixels);
    a softmax readout of the states at the end of every row."""
    rows, labels = _digits(seed)
    parts = list(rows)
    features, timing, rate = lsm_features(
        lsm, np.concatenate([rows[p] for p in parts]), seed=seed, **encoding
    )
    bounds = np.cumsum([0] + [len(rows[p]) for p in parts])
    split = {p: features[bounds[i] : bounds[i + 1]] for i, p in enumerate(parts)}
    out = _classify(split, labels, l2, timing)
    out["mean_rate_hz"] = rate
    return out
