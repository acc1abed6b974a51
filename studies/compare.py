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
import statistics
import time
from pathlib import Path

from studies.output import path_argument, save_figure, staged, write_json

MODELS = ("mlp", "cnn", "gru", "lstm", "converted", "snn", "scnn", "lsnn", "nengo-dl")
NENGO_DL_SCALE = 100.0  # firing-rate scale of the nengo-dl row: ReLU activation 1 -> 100 Hz at dt 1 ms
DEFAULT_TIMESTEPS = (8, 16, 32, 64, 128)


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
        "--out",
        type=path_argument,
        default=Path("out/compare"),
        help="output directory (default out/compare)",
    )
    parser.add_argument("--json", type=path_argument, help="also write the results object here")


def _check(args) -> list[str]:
    from snn.errors import ValidationError
    from studies.datasets import DATASETS

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
    return models


def run(args: argparse.Namespace) -> int:
    models = _check(args)
    import numpy as np
    import torch

    from ann_bridge import cost
    from ann_bridge.baselines import MLP, CNN1d, RecurrentClassifier
    from ann_bridge.classifier import SpikingClassifier, SpikingCNN
    from ann_bridge.conversion import convert, evaluate
    from ann_bridge.training import TrainConfig, accuracy, train
    from studies.datasets import load

    records: dict[tuple[str, str, int], list[dict]] = {}

    def record(
        model: str,
        kind: str,
        timesteps: int,
        acc: float,
        ops: float,
        macs: float,
        energy: float,
        seconds: float,
    ):
        records.setdefault((model, kind, timesteps), []).append(
            {"accuracy": acc, "synaptic_ops": ops, "macs": macs, "energy_j": energy, "seconds": seconds}
        )

    encoding = "rate" if args.dataset == "digits" else "analog"
    for seed in range(args.seeds):
        data = load(args.dataset, seed=seed, val_fraction=0.1)
        config = TrainConfig(seed=seed, epochs=args.epochs, patience=40, lr=1e-3, weight_decay=1e-3)
        mlp = None
        for name in models:
            torch.manual_seed(seed)
            start = time.perf_counter()
            if name in ("mlp", "converted") and mlp is None:
                mlp = MLP(data.n_features, (256,), data.n_classes)
                train(
                    mlp, data.x_train, data.y_train, data.x_val, data.y_val, config, desc=f"mlp seed {seed}"
                )
                mlp_seconds = time.perf_counter() - start
                mlp.cpu()
            if name == "mlp":
                record(
                    "ANN MLP",
                    "ann",
                    1,
                    accuracy(mlp, data.x_test, data.y_test),
                    mlp.macs(),
                    mlp.macs(),
                    cost.ann_energy(mlp.macs()),
                    mlp_seconds,
                )
            elif name in ("cnn", "gru", "lstm"):
                net = (
                    CNN1d(data.image_shape, data.n_classes)
                    if name == "cnn"
                    else RecurrentClassifier(data.image_shape, data.n_classes, cell=name)
                )
                # the MNIST-1D reference recipe for its CNN: Adam 1e-2, batches of 100
                cnn_config = TrainConfig(seed=seed, epochs=args.epochs, patience=40, lr=1e-2, batch_size=100)
                train(
                    net,
                    data.x_train,
                    data.y_train,
                    data.x_val,
                    data.y_val,
                    cnn_config if name == "cnn" else config,
                    desc=f"{name} seed {seed}",
                )
                net.cpu()
                record(
                    f"ANN {name.upper()}",
                    "ann",
                    1,
                    accuracy(net, data.x_test, data.y_test),
                    net.macs(),
                    net.macs(),
                    cost.ann_energy(net.macs()),
                    time.perf_counter() - start,
                )
            elif name == "converted":
                converted = convert(mlp, data.x_train)
                result = evaluate(converted, data.x_test, data.y_test, args.timesteps, seed=seed)
                seconds = mlp_seconds + time.perf_counter() - start  # the conversion needs the trained MLP
                for t in sorted(result.accuracy):
                    ops = result.synaptic_ops[t]
                    record(
                        "converted SNN (IF)",
                        "snn",
                        t,
                        result.accuracy[t],
                        ops,
                        result.macs,
                        cost.snn_energy(ops, result.macs),
                        seconds,
                    )
            elif name in ("snn", "scnn"):
                if name == "snn":
                    steps = args.snn_timesteps or 25
                    model = SpikingClassifier(
                        data.n_features,
                        (256,),
                        data.n_classes,
                        timesteps=steps,
                        encoding=encoding,
                        spike_fn=args.surrogate,
                    )
                    label = f"direct SNN MLP (LIF, {encoding} input)"
                    snn_config = TrainConfig(seed=seed, epochs=min(args.epochs, 100), patience=15, lr=2e-3)
                else:
                    steps = args.snn_timesteps or 16
                    model = SpikingCNN(
                        data.image_shape,
                        data.n_classes,
                        timesteps=steps,
                        encoding=encoding,
                        spike_fn=args.surrogate,
                    )
                    label = f"direct SNN CNN (LIF, {encoding} input)"
                    snn_config = TrainConfig(
                        seed=seed, epochs=min(args.epochs, 60), patience=15, lr=3e-3, batch_size=100
                    )
                train(
                    model,
                    data.x_train,
                    data.y_train,
                    data.x_val,
                    data.y_val,
                    snn_config,
                    desc=f"{name} seed {seed}",
                )
                model.cpu().eval()
                with torch.no_grad():  # one pass: accuracy and operation counts from the same spikes
                    scores = model(torch.as_tensor(data.x_test, dtype=torch.float32))
                acc = float(np.mean(scores.argmax(1).numpy() == data.y_test))
                record(
                    label,
                    "snn",
                    steps,
                    acc,
                    model.accumulates,
                    model.macs,
                    cost.snn_energy(model.accumulates, model.macs),
                    time.perf_counter() - start,
                )

            elif name == "lsnn":
                from studies import tasks
                from studies.lsnn_training import synaptic_ops
                from studies.lsnn_training import train as train_lsnn

                trained = train_lsnn(tasks.get(args.dataset), "eprop", seed=seed, progress=None)
                ops = synaptic_ops(trained.lsnn, trained.weights, trained.test_batch)
                record(
                    "LSNN e-prop (LIF+ALIF, sequential input)",
                    "snn",
                    int(trained.test_batch.x.shape[1]),
                    trained.test_accuracy,
                    ops,
                    0.0,
                    cost.snn_energy(ops),
                    time.perf_counter() - start,
                )
            elif name == "nengo-dl":
                from hardware.nengo_dl import convert_keras

                conversion = convert_keras(
                    data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test,
                    timesteps=tuple(args.timesteps), scale_firing_rates=NENGO_DL_SCALE,
                    hidden=(256,), epochs=min(args.epochs, 100), seed=seed,
                )  # fmt: skip
                macs = conversion.ann_macs
                record(
                    "Keras ANN MLP (nengo-dl route)",
                    "ann",
                    1,
                    conversion.ann_accuracy,
                    macs,
                    macs,
                    cost.ann_energy(macs),
                    conversion.train_seconds,
                )
                for t in sorted(conversion.snn_accuracy):
                    ops = conversion.synaptic_ops[t]
                    record(
                        f"NengoDL converted SNN (SpikingReLU, rates x{NENGO_DL_SCALE:g})",
                        "snn",
                        t,
                        conversion.snn_accuracy[t],
                        ops,
                        conversion.macs,
                        cost.snn_energy(ops, conversion.macs),
                        conversion.seconds,
                    )

    rows = []
    for (model, kind, timesteps), runs in records.items():
        accs = [r["accuracy"] for r in runs]
        rows.append(
            {
                "model": model,
                "kind": kind,
                "timesteps": timesteps,
                "accuracy_mean": float(np.mean(accs)),
                "accuracy_std": float(np.std(accs)),
                "synaptic_ops": statistics.mean(r["synaptic_ops"] for r in runs),
                "macs": statistics.mean(r["macs"] for r in runs),
                "energy_j": statistics.mean(r["energy_j"] for r in runs),
                "seconds": statistics.mean(r["seconds"] for r in runs),
                "seeds": len(runs),
            }
        )
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
        "| model | kind | T | accuracy (%) | synaptic ops | MACs | energy (nJ, est.) | s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['model']} | {r['kind']} | {r['timesteps']} | {100 * r['accuracy_mean']:.2f} ± "
            f"{100 * r['accuracy_std']:.2f} | {r['synaptic_ops']:.3g} | {r['macs']:.3g} | "
            f"{r['energy_j'] * 1e9:.3g} | {r['seconds']:.1f} |"
        )
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
