"""`snn reservoir`: an echo state network or a liquid state machine on a standard task.

Tasks: ``mackey-glass`` (one-step and free-running prediction, tau = 17), ``narma10``,
``memory-capacity`` (Jaeger) with the ESN; ``digits`` (scikit-learn digits read row by
row) with either model. Each task has defaults from the literature, overridable flags,
and writes ``results.json`` and a plot (prediction against truth, the memory-capacity
curve, or the digits confusion matrix).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from studies.cli.output import add_output_arguments, save_figure, staged, table, write_json

TASKS = ("mackey-glass", "narma10", "memory-capacity", "digits")
MODELS = ("esn", "lsm")
# per task: ESN hyperparameters and the readout's regularisation
DEFAULTS = {
    # reservoirpy's Mackey-Glass example (100 units, sr 1.25, leak 0.3, ridge 1e-5)
    "mackey-glass": dict(
        units=100, spectral_radius=1.25, leak=0.3, input_scaling=1.0, input_connectivity=0.1, ridge=1e-5
    ),
    "narma10": dict(
        units=200, spectral_radius=0.8, leak=1.0, input_scaling=0.1, input_connectivity=1.0, ridge=1e-8
    ),
    # a linear reservoir with orthogonal weights just below spectral radius 1 (Jaeger 2001)
    "memory-capacity": dict(
        units=50,
        spectral_radius=0.95,
        leak=1.0,
        input_scaling=0.1,
        input_connectivity=1.0,
        ridge=1e-10,
        activation="identity",
        recurrent="orthogonal",
    ),
    "digits": dict(
        units=500, spectral_radius=0.9, leak=0.5, input_scaling=0.5, input_connectivity=0.2, ridge=1e-2
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--task", default="mackey-glass", help=f"one of {', '.join(TASKS)} (default mackey-glass)"
    )
    parser.add_argument(
        "--model", default="esn", help="esn (echo state network; every task) or lsm (spiking liquid; digits)"
    )
    parser.add_argument("--units", type=int, help="reservoir size (default per task: 100, 200, 50, 500)")
    parser.add_argument("--spectral-radius", type=float, help="ESN: largest |eigenvalue| of W, > 0")
    parser.add_argument("--leak", type=float, help="ESN: leak rate in (0, 1]")
    parser.add_argument("--input-scaling", type=float, help="ESN: input weight magnitude, >= 0")
    parser.add_argument(
        "--ridge",
        type=float,
        help="readout regularisation, >= 0 (ridge penalty; L2 of the softmax for digits)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the reservoir and the data (default 0)")
    parser.add_argument("--float32", action="store_true", help="ESN states and weights in single precision")
    add_output_arguments(parser, "reservoir")


def _models(args):
    from snn.errors import ValidationError
    from snn.reservoir import ESN, LSM

    if args.task not in TASKS:
        raise ValidationError("--task", f"must be one of {list(TASKS)}, got {args.task!r}")
    if args.model not in MODELS:
        raise ValidationError("--model", f"must be one of {list(MODELS)}, got {args.model!r}")
    if args.model == "lsm" and args.task != "digits":
        raise ValidationError(
            "--model", "lsm runs the digits task (spike-encoded input); use esn for series tasks"
        )
    settings = dict(DEFAULTS[args.task])
    default_ridge = settings.pop("ridge")
    ridge = default_ridge if args.ridge is None else args.ridge
    if ridge < 0:
        raise ValidationError("--ridge", f"must be >= 0, got {ridge}")
    if args.seed < 0:
        raise ValidationError("--seed", f"must be >= 0, got {args.seed}")
    overrides = {
        "units": args.units,
        "spectral_radius": args.spectral_radius,
        "leak": args.leak,
        "input_scaling": args.input_scaling,
    }
    if args.model == "lsm":
        esn_only = [
            f"--{k.replace('_', '-')}" for k, v in overrides.items() if k != "units" and v is not None
        ]
        if args.float32:
            esn_only.append("--float32")
        if esn_only:
            raise ValidationError(esn_only[0], "is an ESN hyperparameter; the lsm model does not take it")
        return (LSM() if args.units is None else LSM(units=args.units)), ridge
    settings.update({key: value for key, value in overrides.items() if value is not None})
    return ESN(**settings, dtype="float32" if args.float32 else "float64"), ridge


def run(args: argparse.Namespace) -> int:
    from studies.experiments import reservoir_runs as runs

    model, ridge = _models(args)
    jit_s = _load_kernels(model)
    if args.task == "mackey-glass":
        result = runs.esn_mackey_glass(model, ridge, seed=args.seed)
    elif args.task == "narma10":
        result = runs.esn_narma10(model, ridge, seed=args.seed)
    elif args.task == "memory-capacity":
        result = runs.esn_memory_capacity(model, ridge, seed=args.seed)
    elif args.model == "esn":
        result = runs.esn_digits(model, ridge, seed=args.seed)
    else:
        result = runs.lsm_digits(model, ridge, seed=args.seed)
    curves = result.pop("curves", None)
    report = {
        "task": args.task,
        "model": args.model,
        "units": model.units,
        "seed": args.seed,
        "ridge": ridge,
        "nrmse": result.pop("nrmse", None),
        "rmse": result.pop("rmse", None),
        "fit_s": result.pop("fit_s"),
        "run_s": result.pop("run_s"),
        # Numba loading its cache (or compiling, the first time): not part of run_s
        "jit_s": jit_s + result.pop("jit_s", 0.0),
        **result,
        "hyperparameters": {k: v for k, v in vars(model).items()},
    }
    out: Path = args.out
    with staged(out) as staging:
        write_json(staging / "results.json", report)
        _plot(args.task, args.model, report, curves, staging / "reservoir.png")
    if args.json:
        write_json(args.json, report)
    rows = [("task / model", f"{args.task} / {args.model} ({model.units} units)")]
    for key in ("nrmse", "rmse", "generative_nrmse", "memory_capacity", "accuracy", "val_accuracy"):
        if report.get(key) is not None:
            rows.append((key.replace("_", " "), report[key]))
    rows += [
        ("jit / fit / run", f"{report['jit_s']:.3f} / {report['fit_s']:.3f} / {report['run_s']:.3f} s"),
        ("written", f"{out}/ (results.json, reservoir.png)"),
    ]
    print(table(rows))
    return 0


def _load_kernels(model) -> float:
    """Seconds Numba takes to load (or compile) the ESN's kernels, timed on a 2-step run so
    that ``run_s`` holds only the run; 0 for the LSM, whose simulator reports its own."""
    import time

    import numpy as np

    from snn.reservoir import ESN

    if not isinstance(model, ESN):
        return 0.0
    start = time.perf_counter()
    model.run(model.initial_weights(1, seed=0), np.zeros((2, 1)))
    return time.perf_counter() - start


def _plot(task: str, model: str, report: dict, curves: dict | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(9, 3.5))
    if task == "memory-capacity":
        ax.bar(curves["delay"], curves["r2"], width=1.0)
        ax.set_xlabel("delay k (steps)")
        ax.set_ylabel("r² of u[t - k]")
        ax.set_title(f"memory capacity {report['memory_capacity']:.2f} of {report['units']} units")
    elif curves is not None:
        shown = min(400, curves["truth"].size)
        ax.plot(curves["truth"][:shown], color="black", lw=1.2, label="truth")
        ax.plot(curves["prediction"][:shown], color="tab:red", lw=0.9, ls="--", label="one-step prediction")
        if "generated" in curves:
            ax.plot(curves["generated"], color="tab:blue", lw=0.9, label="free-running")
        ax.set_xlabel("test step")
        ax.set_title(f"{task}, {model}: NRMSE {report['nrmse']:.4g}")
        ax.legend(loc="upper right", fontsize=8)
    else:
        ax.bar(["validation", "test"], [report["val_accuracy"], report["accuracy"]])
        ax.set_ylim(0, 1)
        ax.set_ylabel("accuracy")
        ax.set_title(f"digits, {model} ({report['units']} units)")
    figure.tight_layout()
    save_figure(path, figure)
    plt.close(figure)
