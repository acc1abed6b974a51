"""`snn generate`: train a GAN with a two-player optimiser of ann_bridge.games and score it.

``--data ring|grid`` (2-D mixtures of 8 / 25 Gaussians: modes covered and high-quality share)
or ``digits|mnist1d`` (8x8 scikit-learn digits, MNIST-1D signals: Frechet distance and
classifier two-sample test on a cached classifier's features); ``--model
gan|wgan|wgan-gp|ebgan``; ``--optimizer gda|alt-gda|adam|ogda|extragradient|cgd|acgd``, or
``all`` to run every optimiser over ``--seeds`` seeds with the same networks and budget and
print the table. CGD and ACGD play
the zero-sum form of the loss (``gan``: the original minimax game; gradient methods give the
generator the non-saturating loss) and refuse ``ebgan``. Writes ``results.json``, the samples
(``samples.png``) and the loss curves (``losses.png``) into ``--out``. ``--discriminator snn``
trains against a spiking discriminator (LIF layers with surrogate gradients on rate-coded
samples, :class:`ann_bridge.gan.networks.SpikingDiscriminator`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from studies.cli.output import add_output_arguments, save_figure, staged, table, write_json

OPTIMIZER_CHOICES = ("gda", "alt-gda", "adam", "ogda", "extragradient", "cgd", "acgd", "all")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="gan", help="gan, wgan, wgan-gp or ebgan (default gan)")
    parser.add_argument("--data", default="ring", help="ring, grid, digits or mnist1d (default ring)")
    parser.add_argument(
        "--optimizer",
        default="acgd",
        help=f"one of {', '.join(OPTIMIZER_CHOICES)} (default acgd; all: every optimiser, --seeds each)",
    )
    parser.add_argument(
        "--discriminator",
        default="ann",
        help="ann (MLP, or convolutional for digits) or snn (spiking LIF layers on rate-coded input, "
        "surrogate gradients; default ann)",
    )
    parser.add_argument(
        "--steps", type=int, help="training steps (default: ring/grid 8000, digits/mnist1d 2000)"
    )
    parser.add_argument(
        "--lr",
        type=float,
        help="step size of both players (default per optimiser: adam, acgd 1e-3; others 1e-2)",
    )
    parser.add_argument("--batch", type=int, default=256, help="batch size (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--seeds", type=int, default=3, help="with --optimizer all: seeds per optimiser (default 3)"
    )
    add_output_arguments(parser, "generate")


def _optimizers(args: argparse.Namespace) -> list[str]:
    """The optimisers a run uses: the one asked for, or with ``all`` every one that can play
    the loss (CGD and ACGD play zero-sum games only)."""
    if args.optimizer != "all":
        return [args.optimizer]
    from ann_bridge.games import OPTIMIZERS
    from ann_bridge.gan import Loss

    zero_sum = Loss(args.model).has_zero_sum
    return [name for name in OPTIMIZER_CHOICES[:-1] if zero_sum or not OPTIMIZERS[name].zero_sum_only]


def _check(args: argparse.Namespace) -> None:
    from snn import validate
    from snn.errors import ValidationError
    from studies.experiments import gan_runs

    if args.optimizer not in OPTIMIZER_CHOICES:
        raise ValidationError(
            "--optimizer", f"must be one of {list(OPTIMIZER_CHOICES)}, got {args.optimizer!r}"
        )
    for name in _optimizers(args):
        gan_runs.check(args.data, name, args.model, args.discriminator)
    if args.steps is not None:
        validate.count("--steps", args.steps, low=1, high=1_000_000)
    if args.lr is not None:
        validate.positive("--lr", args.lr)
    validate.count("--batch", args.batch, low=2, high=65536)
    validate.count("--seed", args.seed, low=0)
    validate.count("--seeds", args.seeds, low=1, high=20)


def run(args: argparse.Namespace) -> int:
    from studies.experiments import gan_runs

    _check(args)
    if args.optimizer == "all":
        return _run_all(args)
    report = gan_runs.run(args.data, args.model, args.optimizer, seed=args.seed, steps=args.steps, lr=args.lr,
                          batch=args.batch, discriminator=args.discriminator)  # fmt: skip
    curves = report.pop("curves")
    with staged(args.out) as staging:
        write_json(staging / "results.json", report)
        _plot_samples(
            args.data, curves["samples"], staging / "samples.png", f"{args.model} + {args.optimizer}"
        )
        _plot_losses(curves, staging / "losses.png")
    if args.json:
        write_json(args.json, report)
    keys = ("modes_covered", "high_quality", "frechet_distance", "two_sample_accuracy", "seconds_per_step",
            "cg_iterations_per_step", "diverged")  # fmt: skip
    rows = [("data", args.data), ("model", args.model), ("optimizer", args.optimizer),
            ("discriminator", args.discriminator)]  # fmt: skip
    rows += [(key.replace("_", " "), report[key]) for key in keys if key in report]
    rows.append(("written", f"{args.out}/ (results.json, samples.png, losses.png)"))
    print(table(rows))
    return 0


def _run_all(args: argparse.Namespace) -> int:
    from studies.experiments import gan_runs

    optimizers = _optimizers(args)
    rows = gan_runs.sweep(args.data, args.model, optimizers, list(range(args.seed, args.seed + args.seeds)),
                          steps=args.steps, discriminator=args.discriminator)  # fmt: skip
    report = {"data": args.data, "model": args.model, "runs": rows}
    with staged(args.out) as staging:
        write_json(staging / "results.json", report)
    if args.json:
        write_json(args.json, report)
    classified = args.data in gan_runs.CLASSIFIED
    metric = "frechet_distance" if classified else "modes_covered"
    second = "two_sample_accuracy" if classified else "high_quality"
    print(f"  {'optimizer':<14} {metric:>24} {second:>24}  s/step  CG/step")
    for name in optimizers:
        mine = [r for r in rows if r["optimizer"] == name]
        first = " ".join(f"{r[metric]:.3g}" for r in mine)
        other = " ".join(f"{r[second]:.3g}" for r in mine)
        seconds = sum(r["seconds_per_step"] for r in mine) / len(mine)
        cg = sum(r["cg_iterations_per_step"] for r in mine) / len(mine)
        print(f"  {name:<14} {first:>24} {other:>24}  {seconds:.4f}  {cg:.1f}")
    print(f"  written  {args.out}/results.json")
    return 0


def _plot_samples(data: str, samples, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    if data == "mnist1d":
        figure, axes = plt.subplots(4, 4, figsize=(8, 6), sharex=True, sharey=True)
        for k, ax in enumerate(axes.flat):
            ax.plot(samples[k], lw=1)
            ax.set_xticks([])
    elif data == "digits":
        figure, axes = plt.subplots(8, 8, figsize=(6, 6))
        for k, ax in enumerate(axes.flat):
            ax.imshow(samples[k].reshape(8, 8), cmap="gray_r", vmin=-1, vmax=1)
            ax.axis("off")
    else:
        from ann_bridge.gan.toys import centres

        means, _ = centres(data)
        figure, ax = plt.subplots(figsize=(5, 5))
        shown = samples[np.all(np.isfinite(samples), axis=1)][:2500]
        ax.scatter(shown[:, 0], shown[:, 1], s=2, alpha=0.4, label="generated")
        ax.scatter(means[:, 0], means[:, 1], marker="x", color="red", label="mode centres")
        limit = 1.5 * np.abs(means).max()
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.legend(loc="upper right")
    figure.suptitle(title)
    save_figure(path, figure)
    plt.close(figure)


def _plot_losses(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(curves["loss_g"], label="generator", lw=0.8)
    ax.plot(curves["loss_d"], label="discriminator", lw=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    figure.tight_layout()
    save_figure(path, figure)
    plt.close(figure)
