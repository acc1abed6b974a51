"""Sequence tasks for the temporal memory: high-order sequences (with and without input
noise), branching sequences, and anomaly detection on a synthetic series.

- **high-order**: ``n_sequences`` sequences of ``length`` elements that all share the same
  middle sub-sequence (A-B-C-D vs X-B-C-Y ...), so after the shared part only the context
  tells which successor comes. Each element is a random set of 40 of 2048 columns; the
  memory is reset before each sequence. Accuracy = the share of predictable elements (all
  but the first of a sequence) whose successor's columns were predicted exactly (no column
  missing, none extra); ``overlap`` = the mean share of the successor's columns predicted.
- **noisy**: the trained memory of high-order, tested with ``noise`` of each element's
  columns moved to random other columns (learning off).
- **branching**: one prefix continues in ``branches`` ways at random; the memory learns to
  predict the union of the possible successors (share predicted, extra columns).
- **anomaly**: a daily-periodic synthetic series (5-minute steps) with three injected
  anomalies (a jump, a flat stretch, a frequency change), through the NAB detector.
"""

from __future__ import annotations

import numpy as np

from snn.htm import TemporalMemory, TemporalMemoryParameters

COLUMNS, ACTIVE = 2048, 40


def _elements(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    return [np.sort(rng.choice(COLUMNS, size=ACTIVE, replace=False)) for _ in range(count)]


def _flip(cols: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """``fraction`` of the active columns moved to random inactive ones."""
    k = int(round(fraction * cols.size))
    if k == 0:
        return cols
    keep = rng.choice(cols, size=cols.size - k, replace=False)
    others = np.setdiff1d(np.arange(COLUMNS), cols)
    return np.sort(np.concatenate([keep, rng.choice(others, size=k, replace=False)]))


def _plan(sequences, learn: bool, noise: float = 0.0, rng=None) -> list[tuple[np.ndarray, bool, bool]]:
    """One pass over ``sequences`` as steps (columns shown, learn, reset before it), the
    noisy columns drawn here in presentation order."""
    steps = []
    for seq, _ in sequences:
        for k, cols in enumerate(seq):
            steps.append((_flip(cols, noise, rng) if noise else cols, learn, k == 0))
    return steps


def _scores(sequences, predicted: list[np.ndarray]) -> dict:
    """Exact-prediction accuracy and mean overlap over the predictable elements of one pass,
    given the columns predicted after each step, and the same for the successor of the shared part."""
    exact, overlap, after_shared = [], [], []
    step = 0
    for seq, shared_end in sequences:
        for k in range(len(seq)):
            if k + 1 < len(seq):
                target = seq[k + 1]
                hit = np.array_equal(predicted[step], target)
                exact.append(hit)
                overlap.append(np.intersect1d(predicted[step], target).size / target.size)
                if k == shared_end:
                    after_shared.append(hit)
            step += 1
    return {
        "accuracy": float(np.mean(exact)),
        "overlap": float(np.mean(overlap)),
        "after_shared_accuracy": float(np.mean(after_shared)) if after_shared else None,
    }


def _step_through(tm: TemporalMemory, steps) -> list[np.ndarray]:
    """``tm`` over ``steps``; the columns it predicts after each."""
    predicted = []
    for cols, learn, reset in steps:
        if reset:
            tm.reset()
        tm.compute(cols, learn=learn)
        predicted.append(tm.predicted_columns())
    return predicted


def _present(tm: TemporalMemory, sequences, learn: bool, noise: float = 0.0, rng=None) -> dict:
    """One pass of ``tm`` over ``sequences`` (reset before each), scored by :func:`_scores`."""
    return _scores(sequences, _step_through(tm, _plan(sequences, learn, noise, rng)))


def _run_array(params: TemporalMemoryParameters, steps) -> tuple[list[np.ndarray], TemporalMemory]:
    """A new array temporal memory over ``steps``; the columns it predicts after each."""
    tm = TemporalMemory(params)
    return _step_through(tm, steps), tm


def _run_spiking(params: TemporalMemoryParameters, steps) -> tuple[list[np.ndarray], TemporalMemory]:
    """The same steps through dendritic-segment cells on snn.Simulator (:mod:`snn.htm.spiking`),
    one cycle at a time: the columns with a predicted cell after each."""
    import snn
    from snn.htm.spiking import CYCLE_STEPS, add_temporal_memory, column_input

    dt = 1e-3
    net = snn.Network("high-order")
    net.add(column_input("columns", [cols for cols, _, _ in steps], params.columns, dt))
    add_temporal_memory(net, "tm", "columns", params, dt=dt)
    sim = snn.Simulator(net, dt=dt, progress=False)
    layer = sim.segment_layer("tm")
    predicted = []
    for _, learn, reset in steps:
        if reset:
            sim.reset_context("tm")
        layer.learn = learn
        sim.run(CYCLE_STEPS * dt)
        predicted.append(np.unique(layer.memory.predictive_cells // params.cells_per_column))
    return predicted, layer.memory


ENGINES = {"array": _run_array, "spiking": _run_spiking}


def high_order(seed: int = 0, epochs: int = 30, n_sequences: int = 4, length: int = 6, noise: float = 0.1,
               params: TemporalMemoryParameters | None = None, engine: str = "array") -> dict:  # fmt: skip
    """Train on high-order sequences, then test clean and with ``noise``; curves per epoch.

    ``engine``: ``"array"`` (:class:`~snn.htm.TemporalMemory`) or ``"spiking"`` (the same
    memory as dendritic-segment cells on the simulator, :mod:`snn.htm.spiking`)."""
    rng = np.random.default_rng(seed)
    shared = _elements(rng, 3)
    sequences = []
    for _ in range(n_sequences):
        head = _elements(rng, max(1, (length - 3) // 2))
        tail = _elements(rng, max(1, length - 3 - len(head)))
        sequences.append((head + shared + tail, len(head) + 2))  # predicting after the shared part's end
    # wrong predictions learned while the context was ambiguous must be unlearned (see the tests)
    params = params or TemporalMemoryParameters(predicted_segment_decrement=0.05, seed=seed + 1)
    passes = [_plan(sequences, learn=True) for _ in range(epochs)]
    passes += [_plan(sequences, learn=False), _plan(sequences, learn=False, noise=noise, rng=rng)]
    predicted, tm = ENGINES[engine](params, [step for one in passes for step in one])
    per_pass = len(passes[0])
    scores = [_scores(sequences, predicted[k * per_pass : (k + 1) * per_pass]) for k in range(len(passes))]
    clean, noisy = scores[-2], scores[-1]
    curve = [score["accuracy"] for score in scores[:epochs]]
    return {
        "task": "high-order",
        "epochs": epochs,
        "sequences": n_sequences,
        "length": length,
        "accuracy": clean["accuracy"],
        "after_shared_accuracy": clean["after_shared_accuracy"],
        "noise": noise,
        "noisy_accuracy": noisy["accuracy"],
        "noisy_overlap": noisy["overlap"],
        "noisy_after_shared_accuracy": noisy["after_shared_accuracy"],
        "segments": tm.n_segments,
        "synapses": tm.n_synapses,
        "engine": engine,
        "curves": {"epoch_accuracy": curve},
    }


def branching(seed: int = 0, epochs: int = 40, branches: int = 2) -> dict:
    """A-B-C followed at random by one of ``branches`` successors: the memory predicts their union."""
    rng = np.random.default_rng(seed)
    prefix, successors = _elements(rng, 3), _elements(rng, branches)
    tm = TemporalMemory(TemporalMemoryParameters(seed=seed + 1))
    curve = []
    for _ in range(epochs):
        tm.reset()
        for cols in prefix:
            tm.compute(cols)
        union = np.unique(np.concatenate(successors))
        predicted = tm.predicted_columns()
        curve.append(np.intersect1d(predicted, union).size / union.size)
        tm.compute(successors[rng.integers(branches)])
    tm.reset()
    for cols in prefix:
        tm.compute(cols, learn=False)
    predicted = tm.predicted_columns()
    shares = [np.intersect1d(predicted, s).size / s.size for s in successors]
    extra = np.setdiff1d(predicted, np.concatenate(successors)).size
    return {
        "task": "branching",
        "epochs": epochs,
        "branches": branches,
        "successor_shares_predicted": shares,
        "extra_columns_predicted": int(extra),
        "accuracy": float(min(shares)),
        "curves": {"epoch_accuracy": curve},
    }


def synthetic_series(seed: int = 0, days: int = 14) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Timestamps (5-minute steps), values and the anomaly windows (row ranges) of a daily
    pattern with three injected anomalies."""
    rng = np.random.default_rng(seed)
    rows = days * 288
    timestamps = np.datetime64("2026-01-05T00:00:00") + np.arange(rows) * np.timedelta64(5, "m")
    phase = 2 * np.pi * np.arange(rows) / 288
    values = 50 + 20 * np.sin(phase) + rng.normal(0, 1.0, rows)
    spans = []
    for day, kind in ((8, "jump"), (10, "flat"), (12, "frequency")):
        if day >= days:  # a short series: only the anomalies that fit
            continue
        start = day * 288 + 100
        stop = start + 36
        if kind == "jump":
            values[start:stop] += 25
        elif kind == "flat":
            values[start:stop] = values[start]
        else:
            values[start:stop] = 50 + 20 * np.sin(4 * phase[start:stop]) + rng.normal(0, 1.0, stop - start)
        spans.append((start, stop))
    return timestamps, values, spans


def anomaly(seed: int = 0, days: int = 14) -> dict:
    """The NAB detector on :func:`synthetic_series`: the score's peak inside each window
    against its peak outside them (after the probationary period)."""
    from studies.experiments.nab.detector import detect
    from studies.experiments.nab.scorer import probation_length

    timestamps, values, spans = synthetic_series(seed, days)
    scores, raw = detect(timestamps, values)
    inside = np.zeros(values.size, dtype=bool)
    for start, stop in spans:
        inside[start : stop + 36] = True  # a detection shortly after the change still counts
    scored = np.arange(values.size) >= probation_length(values.size)
    peaks = [float(scores[start : stop + 36].max()) for start, stop in spans]
    return {
        "task": "anomaly",
        "rows": int(values.size),
        "windows_detected": sum(peak >= 0.5 for peak in peaks),
        "windows": len(spans),
        "false_alarm_rows": int(np.count_nonzero((scores >= 0.5) & ~inside & scored)),
        "peak_inside": peaks,
        "peak_outside": float(scores[~inside & scored].max()),
        "curves": {"values": values, "scores": scores, "raw": raw, "spans": spans},
    }
