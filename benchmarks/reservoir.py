"""Echo state network: ours against reservoirpy on the same Mackey-Glass task, in one process.

Both build a reservoir of the same size and hyperparameters (spectral radius 1.25, leak 0.3,
connectivity 0.1, input connectivity 0.1, ridge 1e-5), then are timed on training
(running the reservoir over the training part and fitting the ridge readout) plus
prediction (running it over the test part and applying the readout). Drawing the weights
(including the spectral radius) is timed separately, for both, as ``init_s``. Each figure
is the median of ``--repeats`` runs with different seeds.

    python benchmarks/reservoir.py --units 100 1000 5000 --json benchmarks/results/reservoir.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from snn.reservoir import ESN, Ridge
from studies.experiments.reservoir_tasks import mackey_glass, nrmse

WASHOUT, SPLIT = 100, 1599


def ours(series: np.ndarray, units: int, seed: int) -> dict:
    x, y = series[:-1, None], series[1:, None]
    esn = ESN(units=units, spectral_radius=1.25, leak=0.3)
    start = time.perf_counter()
    weights = esn.initial_weights(1, seed=seed)
    init_s = time.perf_counter() - start
    start = time.perf_counter()
    train_states = esn.run(weights, x[:SPLIT])
    readout = Ridge(1e-5).fit(train_states[WASHOUT:], y[WASHOUT:SPLIT])
    test_states = esn.run(weights, x[SPLIT:], initial_state=train_states[-1])
    prediction = readout.predict(test_states)
    seconds = time.perf_counter() - start
    return {"init_s": init_s, "train_predict_s": seconds, "nrmse": nrmse(y[SPLIT:], prediction)}


def reservoirpy(series: np.ndarray, units: int, seed: int) -> dict:
    from reservoirpy.nodes import Reservoir
    from reservoirpy.nodes import Ridge as PeerRidge

    x, y = series[:-1, None], series[1:, None]
    model = Reservoir(units, lr=0.3, sr=1.25, seed=seed) >> PeerRidge(ridge=1e-5)
    start = time.perf_counter()
    model.initialize(x[:1], y[:1])  # draws W (spectral radius by ARPACK), W_in and the readout's shape
    init_s = time.perf_counter() - start
    start = time.perf_counter()
    model.fit(x[:SPLIT], y[:SPLIT], warmup=WASHOUT)
    prediction = model.run(x[SPLIT:])
    seconds = time.perf_counter() - start
    return {"init_s": init_s, "train_predict_s": seconds, "nrmse": nrmse(y[SPLIT:], prediction)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    series = mackey_glass(2001)
    ours(series, 50, 0)  # loads the cached kernels before anything is timed
    rows = []
    for units in args.units:
        mine = [ours(series, units, seed) for seed in range(args.repeats)]
        peer = [reservoirpy(series, units, seed) for seed in range(args.repeats)]
        row = {"units": units}
        for label, runs in (("ours", mine), ("reservoirpy", peer)):
            for key in ("init_s", "train_predict_s", "nrmse"):
                row[f"{label}_{key}"] = statistics.median(r[key] for r in runs)
        row["speedup_train_predict"] = row["reservoirpy_train_predict_s"] / row["ours_train_predict_s"]
        rows.append(row)
        print(
            f"{units:>6} units: train+predict ours {row['ours_train_predict_s']:.4f} s, reservoirpy "
            f"{row['reservoirpy_train_predict_s']:.4f} s ({row['speedup_train_predict']:.1f}x); init ours "
            f"{row['ours_init_s']:.3f} s, reservoirpy {row['reservoirpy_init_s']:.3f} s; NRMSE ours "
            f"{row['ours_nrmse']:.4f}, reservoirpy {row['reservoirpy_nrmse']:.4f}",
            flush=True,
        )
    if args.json:
        report = {"benchmark": "esn-mackey-glass", "repeats": args.repeats, "rows": rows}
        from studies.cli.output import provenance

        args.json.write_text(json.dumps({**report, "provenance": provenance()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
