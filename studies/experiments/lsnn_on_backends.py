"""A trained LSNN's recall on other simulators: the same weights and test sequences run on
the Numba LSNN kernel and, exported with :func:`snn.lsnn.to_network`, on any backend
(``nengo``, ``nengo-dl``, ``numba``), scored the same way (:func:`~studies.experiments.tasks.accuracy`).

    python -m studies.experiments.lsnn_on_backends --iterations 300 --sequences 64
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from snn.lsnn import LSNN, LSNNWeights, run, to_network
from studies.experiments.tasks import Batch, accuracy


def readout_on(backend: str, lsnn: LSNN, weights: LSNNWeights, x: np.ndarray) -> tuple[np.ndarray, dict]:
    """The LSNN's readout ``y`` (T, n_out) for one sequence ``x`` (T, n_in) run on ``backend``,
    and its recurrent spikes per group. The exported LI readout lags ``y`` by one step, so
    the network runs one step longer."""
    import hardware

    steps = x.shape[0]
    result = hardware.get(backend).run(to_network(lsnn, weights, x), (steps + 1) * lsnn.dt, dt=lsnn.dt,
                                       progress=False)  # fmt: skip
    spikes = {g: result.spikes[g] for g in lsnn.groups()}
    return result.traces["readout_v"].values[1 : steps + 1], spikes


def recall(backend: str, lsnn: LSNN, weights: LSNNWeights, batch: Batch, sequences: int) -> dict:
    """Accuracy of the first ``sequences`` test sequences on ``backend`` and on the Numba
    LSNN kernel, and the share of recurrent spikes the two put on the same step and neuron."""
    x = batch.x[:sequences]
    reference = run(lsnn, weights, x)
    outputs, same, total = [], 0, 0
    for i in range(sequences):
        y, spikes = readout_on(backend, lsnn, weights, x[i])
        outputs.append(y)
        for group, columns in lsnn.groups().items():
            times, ids = spikes[group]
            theirs = set(
                zip(
                    np.rint(times / lsnn.dt).astype(int).tolist(), (ids + columns.start).tolist(), strict=True
                )
            )
            steps, neurons = np.nonzero(reference["spikes"][i][:, columns])
            ours = set(zip(steps.tolist(), (neurons + columns.start).tolist(), strict=True))
            same, total = same + len(ours & theirs), total + len(ours)
    part = Batch(
        x=x, target=batch.target[:sequences], mask=batch.mask[:sequences], labels=batch.labels[:sequences]
    )
    return {
        "backend": backend,
        "sequences": sequences,
        "accuracy": accuracy(np.stack(outputs), part),
        "numba_accuracy": accuracy(reference["y"], part),
        "same_spikes": same / max(total, 1),
        "spikes": total,
    }


def main(argv: list[str] | None = None) -> int:
    from studies.experiments.lsnn_training import train
    from studies.experiments.tasks import get as get_task

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="store-recall")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--sequences", type=int, default=64, help="test sequences per backend")
    parser.add_argument("--backends", nargs="+", default=["nengo", "nengo-dl"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    trained = train(get_task(args.task), "eprop", seed=args.seed, iterations=args.iterations, progress=False)
    rows = [
        recall(b, trained.lsnn, trained.weights, trained.test_batch, args.sequences) for b in args.backends
    ]
    report = {
        "task": args.task,
        "iterations": args.iterations,
        "test_accuracy": trained.test_accuracy,
        "rows": rows,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        from studies.cli.output import write_json

        write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
