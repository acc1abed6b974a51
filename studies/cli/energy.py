"""`snn energy`: energy-based models, from a latent-variable EBM to OOD scores of spiking features.

``--task ellipse`` (default): a latent-variable EBM learns an ellipse; its free energy off
the curve against the true distance. ``ring`` / ``moons``: an EBM trained by maximum
likelihood with SGLD negatives and a replay buffer; MMD of its samples to the data beside a
fitted Gaussian's, and the energy landscape. ``digits``: the same on 8x8 digits, scored by
the Frechet distance. ``jem``: a classifier trained as a JEM, its accuracy beside the plain
classifier's (``--seeds`` seeds). ``ood``: classes 8 and 9 held out; AUROC of the energy
score and of the softmax confidence for each ``--features`` set (mlp, jem, the energy head
on mlp-hidden, lsm, lsnn features, and the spiking CNN scnn) over ``--seeds`` seeds.
Writes ``results.json`` and a plot (``energy.png``) into ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from studies.cli.output import add_output_arguments, pyplot, save_figure, staged, table, write_json

DEFAULT_STEPS = {"ellipse": 2000, "ring": 3000, "moons": 3000, "digits": 4000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default="ellipse",
                        help="ellipse, ring, moons, digits, jem or ood (default ellipse)")  # fmt: skip
    parser.add_argument("--dataset", default="digits", help="jem/ood: digits or mnist1d (default digits)")
    parser.add_argument(
        "--features",
        default="mlp,jem,mlp-hidden,lsm,scnn",
        help="ood: comma-separated feature sets among mlp, jem, mlp-hidden, lsm, lsnn, scnn "
        "(default mlp,jem,mlp-hidden,lsm,scnn; lsnn trains an LSNN by e-prop, minutes)",
    )
    parser.add_argument(
        "--steps", type=int, help="training steps (default: ellipse 2000, ring/moons 3000, digits 4000)"
    )
    parser.add_argument("--epochs", type=int, default=60, help="jem/ood: training epochs (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--seeds", type=int, default=3, help="jem/ood: seeds, from --seed (default 3)")
    add_output_arguments(parser, "energy")


def _check(args: argparse.Namespace) -> list[str]:
    from snn import validate
    from snn.errors import ValidationError
    from studies.experiments.energy_runs import FEATURES, check_task

    check_task(args.task)
    if args.dataset not in ("digits", "mnist1d"):
        raise ValidationError("--dataset", f"must be digits or mnist1d, got {args.dataset!r}")
    features = [name.strip() for name in args.features.split(",") if name.strip()]
    unknown = [name for name in features if name not in FEATURES]
    if not features or unknown:
        raise ValidationError("--features", f"must be among {list(FEATURES)}, got {args.features!r}")
    if args.steps is not None:
        validate.count("--steps", args.steps, low=1, high=1_000_000)
    validate.count("--epochs", args.epochs, low=1, high=10_000)
    validate.count("--seed", args.seed, low=0)
    validate.count("--seeds", args.seeds, low=1, high=20)
    return features


def run(args: argparse.Namespace) -> int:
    from studies.experiments import energy_runs

    features = _check(args)
    steps = args.steps or DEFAULT_STEPS.get(args.task)
    seeds = list(range(args.seed, args.seed + args.seeds))
    if args.task == "ellipse":
        report = energy_runs.ellipse(seed=args.seed, steps=steps)
    elif args.task in energy_runs.TOYS:
        report = energy_runs.toy(args.task, seed=args.seed, steps=steps)
    elif args.task == "digits":
        report = energy_runs.digits(seed=args.seed, steps=steps)
    elif args.task == "jem":
        report = {"task": "jem", "dataset": args.dataset,
                  "runs": [energy_runs.jem(seed, args.epochs, args.dataset) for seed in seeds]}  # fmt: skip
    else:
        report = {
            "task": "ood",
            "dataset": args.dataset,
            "held_out": list(energy_runs.HELD_OUT),
            "runs": [
                row for seed in seeds for row in energy_runs.ood(seed, args.dataset, features, args.epochs)
            ],
        }
    curves = report.pop("curves", None)
    with staged(args.out) as staging:
        write_json(staging / "results.json", report)
        _plot(args.task, report, curves, staging / "energy.png")
    if args.json:
        write_json(args.json, report)
    print(table(_rows(args.task, report, features)))
    print(f"  written  {args.out}/ (results.json, energy.png)")
    return 0


def _rows(task: str, report: dict, features: list[str]) -> list[tuple]:
    import numpy as np

    if task == "jem":
        return [
            (
                f"seed {r['seed']}: accuracy JEM / plain MLP",
                f"{r['jem_accuracy']:.4f} / {r['mlp_accuracy']:.4f}",
            )
            for r in report["runs"]
        ]
    if task == "ood":
        rows = []
        for name in features:
            mine = [r for r in report["runs"] if r["features"] == name]
            energy = np.mean([r["auroc_energy"] for r in mine])
            softmax = np.mean([r["auroc_softmax"] for r in mine])
            accuracy = np.mean([r["accuracy"] for r in mine])
            rows.append((f"{name}: AUROC energy / softmax (acc), {len(mine)} seeds",
                         f"{energy:.3f} / {softmax:.3f} ({accuracy:.3f})"))  # fmt: skip
        return rows
    skip = {"task", "seed"}
    return [(key.replace("_", " "), value) for key, value in report.items() if key not in skip]


def _plot(task: str, report: dict, curves: dict | None, path: Path) -> None:
    import numpy as np

    plt = pyplot()

    if task == "ellipse":
        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        left.plot(*curves["curve"].T, "k-", lw=1, label="learned curve g(z)")
        left.scatter(*curves["train"][:300].T, s=3, label="training points")
        shown = left.scatter(*curves["held_out"].T, c=curves["inferred"], s=8, cmap="viridis")
        figure.colorbar(shown, ax=left, label="F(y)")
        left.set_aspect("equal")
        left.legend(loc="upper right", fontsize=7)
        right.scatter(curves["truth"], curves["inferred"], s=5)
        right.plot([0, 0.55], [0, 0.55], "k:", lw=0.8)
        right.set_xlabel("true distance to the ellipse")
        right.set_ylabel("free energy F(y)")
    elif task in ("ring", "moons"):
        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
        grid = curves["grid"]
        landscape = np.asarray(curves["landscape"])
        left.contourf(grid, grid, np.exp(landscape.min() - landscape), levels=30, cmap="magma")
        left.set_title("exp(-F(x)), unnormalised density")
        right.scatter(*curves["data"][:1000].T, s=2, alpha=0.4, label="data")
        right.scatter(*curves["samples"][:1000].T, s=2, alpha=0.4, label="SGLD samples (fresh chains)")
        right.legend(loc="upper right", fontsize=7)
        for ax in (left, right):
            ax.set_aspect("equal")
    elif task == "digits":
        figure, axes = plt.subplots(6, 12, figsize=(9, 4.5))
        for k, ax in enumerate(axes.flat):
            source = curves["samples"] if k < 36 else curves["buffer"]
            ax.imshow(source[k % 36].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.axis("off")
        figure.suptitle("SGLD samples: fresh chains (top three rows), replay buffer (bottom three)")
    elif task == "jem":
        figure, ax = plt.subplots(figsize=(5, 3.5))
        seeds = [r["seed"] for r in report["runs"]]
        ax.plot(seeds, [r["jem_accuracy"] for r in report["runs"]], "o-", label="JEM")
        ax.plot(seeds, [r["mlp_accuracy"] for r in report["runs"]], "s--", label="plain MLP")
        ax.set_xlabel("seed")
        ax.set_ylabel("test accuracy")
        ax.legend()
    else:
        names = list(dict.fromkeys(r["features"] for r in report["runs"]))
        figure, ax = plt.subplots(figsize=(7, 4))
        for offset, score in ((-0.2, "auroc_energy"), (0.2, "auroc_softmax")):
            means = [np.mean([r[score] for r in report["runs"] if r["features"] == n]) for n in names]
            spread = [np.std([r[score] for r in report["runs"] if r["features"] == n]) for n in names]
            ax.bar(np.arange(len(names)) + offset, means, 0.4, yerr=spread, label=score.split("_")[1])
        ax.set_xticks(np.arange(len(names)), names)
        ax.set_ylim(0.5, 1.0)
        ax.set_ylabel(f"AUROC, held-out classes {report['held_out']}")
        ax.legend()
    figure.tight_layout()
    save_figure(path, figure)
    plt.close(figure)
