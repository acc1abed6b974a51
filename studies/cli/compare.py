"""`snn compare`: every model row trained and evaluated on the same data, side by side.

Rows: ANN baselines (MLP, 1-D CNN, GRU and LSTM on MNIST-1D), the MLP converted to an
integrate-and-fire network at each requested number of timesteps (run on the Numba
simulator), a directly trained spiking MLP (``snn``) and the spiking twin of the CNN
(``scnn``), both by surrogate-gradient BPTT, and an LSNN reading the sample sequentially,
trained online by e-prop (``lsnn``; the ``snn train lsnn`` task of the same name, with its
own encoding and validation split, the same test set), and a Keras ReLU MLP converted by
``nengo_dl.Converter`` to spiking rectified-linear neurons (``nengo-dl``: the Keras ANN and
the converted SNN at each requested number of timesteps). Each row is the mean and spread over
``--seeds`` seeds; costs are per test sample.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studies.cli.output import add_output_arguments, save_figure, staged, write_json

NENGO_DL_SCALE = 100.0  # firing-rate scale of the nengo-dl row: ReLU activation 1 -> 100 Hz at dt 1 ms
DEFAULT_TIMESTEPS = (8, 16, 32, 64, 128)
# the lsnn-nengo-dl row: epochs over 1024 training sequences, and Adam's rate in nengo's weight
# units (ours x dt x alpha; 2e-7 is the e-prop row's 0.01 x v_th 0.01 x dt 1e-3 x 2)
NENGO_DL_LSNN_EPOCHS, NENGO_DL_LSNN_RATE = 40, 2e-7
# rows NeuroBench 2.3 cannot measure, and why (shown in the NeuroBench table)
RECURRENT_REFUSED = (
    "NeuroBench 2.3 cannot count torch.nn.GRU/LSTM layers (its recurrent_layer_macs raises a string)"
)
ANALOG_REFUSED = "analog input cannot be replayed as spikes on the simulator (no Numba run to count)"
KERAS_REFUSED = "a Keras / NengoDL model: NeuroBench 2.3 runs torch models only"
NEUROBENCH_INSTALL = "pip install --no-deps -r requirements/no-deps.txt (neurobench without its torchaudio)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset", default="digits", help="digits (scikit-learn; default) or mnist1d (generated locally)"
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=None,
        metavar="MODEL",
        help=f"rows to run, from {list(MODELS)} (default: all that apply; gru and lstm only on mnist1d)",
    )
    parser.add_argument(
        "--timesteps",
        nargs="+",
        type=int,
        default=list(DEFAULT_TIMESTEPS),
        help="timesteps for the converted SNN rows (default 8 16 32 64 128)",
    )
    parser.add_argument(
        "--snn-timesteps",
        type=int,
        default=None,
        help="timesteps of the directly trained SNNs (default 25 for the MLP, 16 for the CNN)",
    )
    parser.add_argument(
        "--surrogate",
        default="fast_sigmoid",
        help="surrogate gradient of the directly trained SNNs: fast_sigmoid (default), triangle, arctan",
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="seeds per row, mean and spread reported (default 3)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=300,
        help="maximum training epochs, early stopping on validation loss (default 300)",
    )
    parser.add_argument(
        "--neurobench",
        action="store_true",
        help="also compute NeuroBench's metrics per row with the neurobench package (footprint, "
        "connection sparsity, parameter count, activation sparsity, synaptic operations, membrane "
        f"updates) beside our counters on the same model; needs: {NEUROBENCH_INSTALL}",
    )
    add_output_arguments(parser, "compare")


def _check(args) -> list[str]:
    from snn.errors import ValidationError
    from studies.experiments.datasets import DATASETS

    if args.dataset not in DATASETS:
        raise ValidationError("--dataset", f"must be one of {list(DATASETS)}, got {args.dataset!r}")
    models = args.models or [m for m in MODELS if m not in ("gru", "lstm") or args.dataset == "mnist1d"]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValidationError("--models", f"unknown {unknown}; choose from {list(MODELS)}")
    if any(t < 1 for t in args.timesteps):
        raise ValidationError("--timesteps", "every value must be >= 1")
    if args.snn_timesteps is not None and args.snn_timesteps < 1:
        raise ValidationError("--snn-timesteps", f"must be >= 1, got {args.snn_timesteps}")
    if args.seeds < 1:
        raise ValidationError("--seeds", f"must be >= 1, got {args.seeds}")
    surrogates = ("fast_sigmoid", "triangle", "arctan")  # ann_bridge.surrogate.SURROGATES, without torch
    if args.surrogate not in surrogates:
        raise ValidationError("--surrogate", f"must be one of {list(surrogates)}, got {args.surrogate!r}")
    if args.epochs < 1:
        raise ValidationError("--epochs", f"must be >= 1, got {args.epochs}")
    if args.neurobench and importlib.util.find_spec("neurobench") is None:
        raise ValidationError("--neurobench", f"needs the neurobench package: {NEUROBENCH_INSTALL}")
    return models


@dataclass
class Row:
    """One measured row of one seed: accuracy and per-test-sample costs."""

    model: str
    kind: str  # "ann" or "snn"
    timesteps: int
    accuracy: float
    synaptic_ops: float
    macs: float
    energy_j: float
    seconds: float  # training and testing, without jit_seconds
    # NeuroBench's metrics (studies.experiments.neurobench_metrics) when --neurobench is given
    neurobench: dict | None = None
    jit_seconds: float = 0.0  # Numba loading (or compiling) its kernels; torch rows have none


@dataclass
class Context:
    """What every row function of one seed reads: the arguments, the data, the training
    recipe, and the MLP that the ``mlp`` and ``converted`` rows share (trained once)."""

    args: argparse.Namespace
    seed: int
    data: object
    config: object
    encoding: str
    _mlp: tuple | None = None

    def mlp(self):
        """The trained MLP and its training time (s), trained on first use."""
        if self._mlp is None:
            from ann_bridge.baselines import MLP
            from ann_bridge.training import train

            start = time.perf_counter()
            mlp = MLP(self.data.n_features, (256,), self.data.n_classes)
            train(mlp, self.data.x_train, self.data.y_train, self.data.x_val, self.data.y_val, self.config,
                  desc=f"mlp seed {self.seed}")  # fmt: skip
            self._mlp = (mlp.cpu(), time.perf_counter() - start)
        return self._mlp


def _ann_row(label: str, net, ctx: Context, seconds: float, refused: str | None = None) -> Row:
    """An ANN's row; ``refused``: why NeuroBench cannot measure it (with --neurobench)."""
    from ann_bridge import cost
    from ann_bridge.training import accuracy

    macs = net.macs()
    acc = accuracy(net, ctx.data.x_test, ctx.data.y_test)
    row = Row(label, "ann", 1, acc, macs, macs, cost.ann_energy(macs), seconds)
    if ctx.args.neurobench:
        from studies.experiments import neurobench_metrics

        row.neurobench = (
            neurobench_metrics.not_computed(refused)
            if refused
            else neurobench_metrics.ann_metrics(net, ctx.data.x_test, ctx.data.y_test)
        )
    return row


def mlp_rows(ctx: Context) -> list[Row]:
    mlp, seconds = ctx.mlp()
    return [_ann_row("ANN MLP", mlp, ctx, seconds)]


def baseline_rows(name: str):
    """The ``cnn``, ``gru`` and ``lstm`` rows: an ANN baseline trained from scratch."""

    def rows(ctx: Context) -> list[Row]:
        from ann_bridge.baselines import CNN1d, RecurrentClassifier
        from ann_bridge.training import TrainConfig, train

        start = time.perf_counter()
        data = ctx.data
        if name == "cnn":
            net = CNN1d(data.image_shape, data.n_classes)
            # the MNIST-1D reference recipe for its CNN: Adam 1e-2, batches of 100
            config = TrainConfig(seed=ctx.seed, epochs=ctx.args.epochs, patience=40, lr=1e-2, batch_size=100)
        else:
            net = RecurrentClassifier(data.image_shape, data.n_classes, cell=name)
            config = ctx.config
        train(net, data.x_train, data.y_train, data.x_val, data.y_val, config, desc=f"{name} seed {ctx.seed}")
        refused = None if name == "cnn" else RECURRENT_REFUSED
        return [_ann_row(f"ANN {name.upper()}", net.cpu(), ctx, time.perf_counter() - start, refused)]

    return rows


def converted_rows(ctx: Context) -> list[Row]:
    """The MLP converted to IF neurons, one row per requested number of timesteps."""
    from ann_bridge import cost
    from ann_bridge.conversion import convert, evaluate

    mlp, mlp_seconds = ctx.mlp()
    start = time.perf_counter()
    converted = convert(mlp, ctx.data.x_train)
    result = evaluate(converted, ctx.data.x_test, ctx.data.y_test, ctx.args.timesteps,
                      seed=ctx.seed)  # fmt: skip
    # the conversion needs the trained MLP; Numba's kernel loading is reported on its own
    seconds = mlp_seconds + time.perf_counter() - start - result.jit_seconds
    rows = [
        Row("converted SNN (IF)", "snn", t, result.accuracy[t], result.synaptic_ops[t], result.macs,
            cost.snn_energy(result.synaptic_ops[t], result.macs), seconds, jit_seconds=result.jit_seconds)
        for t in sorted(result.accuracy)
    ]  # fmt: skip
    if ctx.args.neurobench:
        from studies.experiments import neurobench_metrics

        for row in rows:
            row.neurobench = neurobench_metrics.converted_metrics(
                converted, ctx.data.x_test, ctx.data.y_test, row.timesteps
            )
    return rows


def direct_snn_rows(name: str):
    """The ``snn`` (MLP) and ``scnn`` (CNN) rows: spiking nets trained by surrogate-gradient BPTT."""

    def rows(ctx: Context) -> list[Row]:
        import numpy as np
        import torch

        from ann_bridge import cost
        from ann_bridge.classifier import SpikingClassifier, SpikingCNN
        from ann_bridge.training import TrainConfig, train

        start = time.perf_counter()
        args, data, seed = ctx.args, ctx.data, ctx.seed
        if name == "snn":
            steps = args.snn_timesteps or 25
            model = SpikingClassifier(data.n_features, (256,), data.n_classes, timesteps=steps,
                                      encoding=ctx.encoding, spike_fn=args.surrogate)  # fmt: skip
            label = f"direct SNN MLP (LIF, {ctx.encoding} input)"
            config = TrainConfig(seed=seed, epochs=min(args.epochs, 100), patience=15, lr=2e-3)
        else:
            steps = args.snn_timesteps or 16
            model = SpikingCNN(data.image_shape, data.n_classes, timesteps=steps, encoding=ctx.encoding,
                               spike_fn=args.surrogate)  # fmt: skip
            label = f"direct SNN CNN (LIF, {ctx.encoding} input)"
            config = TrainConfig(seed=seed, epochs=min(args.epochs, 60), patience=15, lr=3e-3, batch_size=100)
        train(model, data.x_train, data.y_train, data.x_val, data.y_val, config, desc=f"{name} seed {seed}")
        model.cpu().eval()
        with torch.no_grad():  # one pass: accuracy and operation counts from the same spikes
            scores = model(torch.as_tensor(data.x_test, dtype=torch.float32))
        acc = float(np.mean(scores.argmax(1).numpy() == data.y_test))
        energy = cost.snn_energy(model.accumulates, model.macs)
        row = Row(
            label, "snn", steps, acc, model.accumulates, model.macs, energy, time.perf_counter() - start
        )
        if args.neurobench:
            from studies.experiments import neurobench_metrics

            row.neurobench = (
                neurobench_metrics.spiking_metrics(model, data.x_test, data.y_test, seed)
                if ctx.encoding != "analog"
                else neurobench_metrics.not_computed(ANALOG_REFUSED)
            )
        return [row]

    return rows


def lsnn_rows(ctx: Context) -> list[Row]:
    """An LSNN reading the sample sequentially, trained online by e-prop (``snn train``'s task)."""
    from ann_bridge import cost
    from studies.experiments import tasks
    from studies.experiments.lsnn_training import synaptic_ops
    from studies.experiments.lsnn_training import train as train_lsnn

    start = time.perf_counter()
    trained = train_lsnn(tasks.get(ctx.args.dataset), "eprop", seed=ctx.seed, progress=None)
    ops = synaptic_ops(trained.lsnn, trained.weights, trained.test_batch)
    seconds = time.perf_counter() - start - trained.jit_seconds
    row = Row("LSNN e-prop (LIF+ALIF, sequential input)", "snn", int(trained.test_batch.x.shape[1]),
              trained.test_accuracy, ops, 0.0, cost.snn_energy(ops), seconds,
              jit_seconds=trained.jit_seconds)  # fmt: skip
    if ctx.args.neurobench:
        from studies.experiments import neurobench_metrics

        row.neurobench = neurobench_metrics.lsnn_metrics(trained.lsnn, trained.weights, trained.test_batch.x)
    return [row]


def lsnn_nengo_dl_rows(ctx: Context) -> list[Row]:
    """The same LSNN (task, initial weights) trained by NengoDL's own ``fit`` (Keras Adam,
    BPTT through the simulation with the native TensorFlow step's surrogate gradient); scored
    in NengoDL, costs counted on the Numba kernel with the weights read back."""
    import numpy as np

    from ann_bridge import cost
    from studies.experiments import tasks
    from studies.experiments.lsnn_nengo_dl import train as train_nengo_dl
    from studies.experiments.lsnn_training import TEST_SEED, synaptic_ops

    start = time.perf_counter()
    task = tasks.get(ctx.args.dataset)
    run = train_nengo_dl(task, seed=ctx.seed, epochs=min(ctx.args.epochs, NENGO_DL_LSNN_EPOCHS),
                         learning_rate=NENGO_DL_LSNN_RATE)  # fmt: skip
    test_batch = task.test(np.random.default_rng(TEST_SEED))
    ops = synaptic_ops(run.lsnn, run.weights, test_batch)
    row = Row("LSNN trained in NengoDL (fit, BPTT)", "snn", int(test_batch.x.shape[1]), run.nengo_dl_accuracy,
              ops, 0.0, cost.snn_energy(ops), time.perf_counter() - start)  # fmt: skip
    if ctx.args.neurobench:
        from studies.experiments import neurobench_metrics

        row.neurobench = neurobench_metrics.lsnn_metrics(run.lsnn, run.weights, test_batch.x)
    return [row]


def nengo_dl_rows(ctx: Context) -> list[Row]:
    """A Keras ReLU MLP and its nengo_dl.Converter spiking twin at each requested number of timesteps."""
    from ann_bridge import cost
    from hardware.nengo_dl import convert_keras

    d = ctx.data
    conversion = convert_keras(
        d.x_train, d.y_train, d.x_val, d.y_val, d.x_test, d.y_test, timesteps=tuple(ctx.args.timesteps),
        scale_firing_rates=NENGO_DL_SCALE, hidden=(256,), epochs=min(ctx.args.epochs, 100), seed=ctx.seed,
    )  # fmt: skip
    macs = conversion.ann_macs
    rows = [Row("Keras ANN MLP (nengo-dl route)", "ann", 1, conversion.ann_accuracy, macs, macs,
                cost.ann_energy(macs), conversion.train_seconds)]  # fmt: skip
    for t in sorted(conversion.snn_accuracy):
        ops = conversion.synaptic_ops[t]
        energy = cost.snn_energy(ops, conversion.macs)
        label = f"NengoDL converted SNN (SpikingReLU, rates x{NENGO_DL_SCALE:g})"
        accuracy = conversion.snn_accuracy[t]
        rows.append(Row(label, "snn", t, accuracy, ops, conversion.macs, energy, conversion.seconds))
    if ctx.args.neurobench:
        from studies.experiments import neurobench_metrics

        for row in rows:
            row.neurobench = neurobench_metrics.not_computed(KERAS_REFUSED)
    return rows


#: Each ``--models`` name and the function that trains, evaluates and measures its rows
ROWS: dict[str, Callable[[Context], list[Row]]] = {
    "mlp": mlp_rows,
    "cnn": baseline_rows("cnn"),
    "gru": baseline_rows("gru"),
    "lstm": baseline_rows("lstm"),
    "converted": converted_rows,
    "snn": direct_snn_rows("snn"),
    "scnn": direct_snn_rows("scnn"),
    "lsnn": lsnn_rows,
    "lsnn-nengo-dl": lsnn_nengo_dl_rows,
    "nengo-dl": nengo_dl_rows,
}
MODELS = tuple(ROWS)


def run(args: argparse.Namespace) -> int:
    models = _check(args)
    import numpy as np
    import torch

    from ann_bridge import cost
    from ann_bridge.training import TrainConfig
    from studies.experiments.datasets import load

    records: dict[tuple[str, str, int], list[Row]] = {}
    encoding = "rate" if args.dataset == "digits" else "analog"
    for seed in range(args.seeds):
        data = load(args.dataset, seed=seed, val_fraction=0.1)
        config = TrainConfig(seed=seed, epochs=args.epochs, patience=40, lr=1e-3, weight_decay=1e-3)
        ctx = Context(args, seed, data, config, encoding)
        for name in models:
            torch.manual_seed(seed)
            for row in ROWS[name](ctx):
                records.setdefault((row.model, row.kind, row.timesteps), []).append(row)

    rows = []
    for (model, kind, timesteps), runs in records.items():
        accs = [r.accuracy for r in runs]
        rows.append(
            {
                "model": model,
                "kind": kind,
                "timesteps": timesteps,
                "accuracy_mean": float(np.mean(accs)),
                "accuracy_std": float(np.std(accs)),
                "synaptic_ops": statistics.mean(r.synaptic_ops for r in runs),
                "macs": statistics.mean(r.macs for r in runs),
                "energy_j": statistics.mean(r.energy_j for r in runs),
                "seconds": statistics.mean(r.seconds for r in runs),
                "jit_seconds": sum(r.jit_seconds for r in runs),
                "seeds": len(runs),
            }
        )
        if args.neurobench:
            from studies.experiments.neurobench_metrics import summarise

            rows[-1]["neurobench"] = summarise([r.neurobench for r in runs])
    report = {
        "dataset": args.dataset,
        "seeds": args.seeds,
        "energy_sources": cost.SOURCES,
        "note": "energies are estimates from counted operations per test sample",
        "rows": rows,
    }
    markdown = _markdown(report)
    with staged(args.out) as staging:
        write_json(staging / "compare.json", report)
        (staging / "compare.md").write_text(markdown)
        _plots(rows, args.dataset, staging / "compare.png")
    if args.json:
        write_json(args.json, report)
    print(markdown)
    print(f"written: {args.out}/ (compare.json, compare.md, compare.png)")
    return 0


def _markdown(report: dict) -> str:
    lines = [
        f"### {report['dataset']}: accuracy and cost per test sample ({report['seeds']} seeds)",
        "",
        "| model | kind | T | accuracy (%) | synaptic ops | MACs | energy (nJ, est.) | s (+ JIT) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['model']} | {r['kind']} | {r['timesteps']} | {100 * r['accuracy_mean']:.2f} ± "
            f"{100 * r['accuracy_std']:.2f} | {r['synaptic_ops']:.3g} | {r['macs']:.3g} | "
            f"{r['energy_j'] * 1e9:.3g} | {r['seconds']:.1f}"
            + (f" (+ {r['jit_seconds']:.2f})" if r.get("jit_seconds") else "")
            + " |"
        )
    if any("neurobench" in r for r in report["rows"]):
        from studies.experiments.neurobench_metrics import markdown_table

        lines += ["", *markdown_table(report["rows"])]
    lines.append("")
    lines.append(
        "Synaptic ops: MACs for ANN rows, spike-driven accumulates for SNN rows. Energy: MACs at 4.6 pJ, "
        "accumulates at 0.9 pJ (45 nm fp32, Horowitz 2014); an SNN's analog input layer is counted "
        "as MACs once per sample."
    )
    return "\n".join(lines) + "\n"


def _plots(rows: list[dict], dataset: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    by_model: dict[str, list[dict]] = {}
    for r in rows:
        by_model.setdefault(r["model"], []).append(r)
    for model, group in by_model.items():
        group = sorted(group, key=lambda r: r["timesteps"])
        t = [r["timesteps"] for r in group]
        acc = [100 * r["accuracy_mean"] for r in group]
        err = [100 * r["accuracy_std"] for r in group]
        energy = [r["energy_j"] * 1e9 for r in group]
        style = "-o" if len(group) > 1 else "s"
        left.errorbar(t, acc, yerr=err, fmt=style, label=model, capsize=3)
        right.errorbar(energy, acc, yerr=err, fmt=style, label=model, capsize=3)
    left.set_xscale("log", base=2)
    left.set_xlabel("timesteps (ANN rows at 1)")
    left.set_ylabel("test accuracy (%)")
    left.set_title(f"{dataset}: accuracy vs latency")
    right.set_xscale("log")
    right.set_xlabel("energy per sample (nJ, estimate)")
    right.set_title("accuracy vs energy")
    right.legend(fontsize="small")
    figure.tight_layout()
    save_figure(path, figure)
    plt.close(figure)
