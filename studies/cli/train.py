"""``snn train lsnn``: train an LSNN on a task with e-prop, random e-prop or BPTT.

Writes to ``--out``: ``metrics.json``, ``learning_curve.png``, ``weights.npz`` (the last
seed's trained arrays) and ``model.toml``, the trained network with one test sequence as
its input, which ``snn simulate model.toml`` runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from studies.cli.output import path_argument

MODELS = ("lsnn",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from studies.experiments.lsnn_training import RULES
    from studies.experiments.tasks import TASKS

    parser.add_argument("model", nargs="?", default="lsnn", help="what to train: lsnn (default)")
    parser.add_argument("--task", default="store-recall", help=f"one of {list(TASKS)} (default store-recall)")
    parser.add_argument("--rule", default="eprop", help=f"one of {list(RULES)} (default eprop)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds to run: seed, seed+1, ... (default 1)")
    parser.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="training batches (default: the task's, see --help-tasks)",
    )
    parser.add_argument("--batch", type=int, default=None, help="sequences per batch (default: the task's)")
    parser.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: the task's)")
    parser.add_argument(
        "--cosine-every",
        type=int,
        default=0,
        help="e-prop rules: also compute the BPTT gradient every N batches and record the cosine "
        "similarity (default 0: off)",
    )
    parser.add_argument(
        "--help-tasks", action="store_true", help="list the tasks and their defaults, then exit"
    )
    parser.add_argument(
        "--out", type=path_argument, default=Path("out/train"), help="output directory (default out/train)"
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default="float32",
        help="precision of e-prop's kernels and of the validation passes (default float32; "
        "the test accuracy is always measured in float64)",
    )
    parser.add_argument("--json", type=path_argument, help="also write the metrics object here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _check(args) -> None:
    """What :func:`studies.experiments.lsnn_training.train` does not check itself (it checks --rule,
    --iterations, --batch and --lr, before any work, with the same messages)."""
    from snn.errors import ValidationError
    from studies.experiments.tasks import TASKS

    if args.model not in MODELS:
        raise ValidationError("model", f"must be one of {list(MODELS)}, got {args.model!r}")
    if args.task not in TASKS:
        raise ValidationError("--task", f"must be one of {list(TASKS)}, got {args.task!r}")
    if args.seed < 0:
        raise ValidationError("--seed", f"must be >= 0, got {args.seed}")
    if args.seeds < 1:
        raise ValidationError("--seeds", f"must be >= 1, got {args.seeds}")
    if args.cosine_every < 0:
        raise ValidationError("--cosine-every", f"must be >= 0, got {args.cosine_every}")


def _task_table() -> str:
    from studies.experiments import tasks

    lines = []
    for name in tasks.TASKS:
        task = tasks.get(name)
        lines.append(
            f"  {name:<13} {task.n_in} inputs, {task.n_out} classes; LSNN {task.lsnn['n_lif']} LIF + "
            f"{task.lsnn['n_alif']} ALIF (tau_adapt {task.lsnn['tau_adapt']} s); {task.iterations} batches "
            f"of {task.batch_size}, lr {task.learning_rate}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from snn.config import SimulationDefaults, save_toml
    from snn.lsnn import to_network
    from studies.cli.output import save_figure, staged, table, write_json
    from studies.experiments import tasks
    from studies.experiments.lsnn_training import train

    if args.help_tasks:
        print(_task_table())
        return 0
    _check(args)
    task = tasks.get(args.task)
    runs = []
    for seed in range(args.seed, args.seed + args.seeds):
        runs.append(
            train(
                task,
                args.rule,
                seed=seed,
                iterations=args.iterations,
                batch_size=args.batch,
                learning_rate=args.lr,
                cosine_every=args.cosine_every if args.rule != "bptt" else 0,
                progress=False if args.no_progress else None,
                dtype=np.dtype(args.dtype).type,
            )
        )
        print(f"  seed {seed}: test accuracy {runs[-1].test_accuracy:.4f} ({runs[-1].train_seconds:.1f} s)")
    accuracies = np.array([r.test_accuracy for r in runs])
    last = runs[-1]
    metrics = {
        "task": args.task,
        "rule": args.rule,
        "dtype": args.dtype,
        "model": "lsnn",
        "seeds": [r.seed for r in runs],
        "test_accuracy": float(accuracies.mean()),
        "test_accuracy_std": float(accuracies.std()),
        "test_accuracies": accuracies.tolist(),
        "test_error": float(1 - accuracies.mean()),
        "test_sequences": int(len(last.test_batch.labels)),
        "validation_accuracies": [r.validation_accuracy for r in runs],
        "kept_iterations": [r.best_iteration for r in runs],
        "train_seconds": float(np.mean([r.train_seconds for r in runs])),
        # Numba loading (or compiling) its kernels, once per process: not in train_seconds
        "jit_seconds": float(sum(r.jit_seconds for r in runs)),
        "steps_per_s": float(np.mean([r.steps_per_s for r in runs])),
        "iterations": last.history[-1]["iteration"],
        "lsnn": last.lsnn.to_dict(),
        "history": {r.seed: r.history for r in runs},
    }
    if any(r.cosines for r in runs):
        metrics["gradient_cosine"] = {r.seed: r.cosines for r in runs}
    out: Path = args.out
    names = {"metrics": "metrics.json", "curve": "learning_curve.png", "weights": "weights.npz",
             "model": "model.toml"}  # fmt: skip
    metrics["files"] = {key: str(out / name) for key, name in names.items()}
    network = to_network(last.lsnn, last.weights, last.test_batch.x[0], name=f"lsnn-{args.task}")
    steps = last.test_batch.x.shape[1]
    with staged(out) as staging:
        write_json(staging / names["metrics"], metrics)
        save_figure(staging / names["curve"], _curves(runs, f"LSNN {args.task}, {args.rule}"))
        arrays = last.weights.arrays()
        np.savez(staging / names["weights"], mask=last.weights.mask, **arrays)
        save_toml(network, staging / names["model"],
                  SimulationDefaults(dt=last.lsnn.dt, duration=steps * last.lsnn.dt, seed=0))  # fmt: skip
    if args.json:
        write_json(args.json, metrics)
    print(
        table(
            [
                ("task / rule", f"{args.task} / {args.rule}"),
                (
                    "test accuracy",
                    f"{metrics['test_accuracy']:.4f} +- {metrics['test_accuracy_std']:.4f} "
                    f"over {len(runs)} seed(s)",
                ),  # fmt: skip
                (
                    "train time",
                    f"{metrics['train_seconds']:.1f} s per seed (+ {metrics['jit_seconds']:.2f} s JIT, once)",
                ),
                ("throughput", f"{metrics['steps_per_s']:.3g} sequence-steps/s"),
                ("written", f"{out}/ (metrics.json, learning_curve.png, weights.npz, model.toml)"),
            ]
        )
    )
    return 0


def _curves(runs, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for r in runs:
        its = [h["iteration"] for h in r.history]
        ax_loss.plot(its, [h["loss"] for h in r.history], label=f"seed {r.seed}")
        ax_acc.plot(its, [h["train_accuracy"] for h in r.history], label=f"seed {r.seed}")
    ax_loss.set(xlabel="batch", ylabel="training loss", yscale="log")
    ax_acc.set(xlabel="batch", ylabel="training-batch accuracy", ylim=(0, 1.02))
    ax_acc.legend(loc="lower right")
    figure.suptitle(title)
    figure.tight_layout()
    return figure
