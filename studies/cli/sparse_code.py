"""`snn sparse-code`: one LASSO on digit patches, solved by ISTA, FISTA, LISTA and a spiking
network (the locally competitive algorithm on the simulator, or on Brian2).

A dictionary is learned on 6x6 patches of the scikit-learn digits first (a few seconds).
``--solver ista|fista``: the objective per iteration against scikit-learn's ``Lasso``
optimum (``rates.png``, with the 1/k and 1/k^2 guides); ``lista``: LISTA for each of
``--steps`` trained on the optimal codes, against the FISTA iterations reaching the same
held-out code error (``lista.png``); ``lca``: the spiking LCA on ``--signals`` patches, its
objective gap, time to solution, spikes, synaptic operations and energy estimates beside
FISTA's (``lca.png``: the spiking code beside scikit-learn's optimum); ``all`` (default) runs every one.
Writes ``results.json`` and ``dictionary.png`` too.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from studies.cli.output import add_output_arguments, pyplot, save_figure, staged, table, write_json


def _steps(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1 or max(values) > 100:
        raise argparse.ArgumentTypeError(f"must be integers in [1, 100], got {text!r}")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--solver", default="all", help="ista, fista, lista, lca or all (default all)")
    parser.add_argument(
        "--atoms", type=int, default=144, help="dictionary atoms (default 144: 4x overcomplete)"
    )
    parser.add_argument(
        "--lambda", dest="lam", type=float, default=0.05, help="L1 weight, >= 0 (default 0.05)"
    )
    parser.add_argument(
        "--patches", type=int, default=8000, help="patches to learn and train on (default 8000)"
    )
    parser.add_argument("--steps", type=_steps, default=[3, 5, 10],
                        help="LISTA depths K, comma-separated (default 3,5,10)")  # fmt: skip
    parser.add_argument("--epochs", type=int, default=100, help="LISTA training epochs (default 100)")
    parser.add_argument("--signals", type=int, default=3, help="patches the LCA codes (default 3)")
    parser.add_argument("--duration", type=float, default=4.0, help="LCA run per patch, s (default 4)")
    parser.add_argument("--backend", default="numba", help="LCA: numba, brian2 or nengo (default numba)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    add_output_arguments(parser, "sparse-code")


def _check(args: argparse.Namespace) -> None:
    from snn import validate
    from snn.errors import ValidationError
    from studies.experiments.sparse_runs import LCA_BACKENDS, check_solver

    check_solver(args.solver)
    validate.count("--atoms", args.atoms, low=2, high=4096)
    validate.non_negative("--lambda", args.lam)
    validate.count("--patches", args.patches, low=1100, high=16000)
    validate.count("--epochs", args.epochs, low=1, high=100_000)
    validate.count("--signals", args.signals, low=1, high=100)
    if not 0.1 <= validate.positive("--duration", args.duration) <= 1000:
        raise ValidationError("--duration", f"must be in [0.1, 1000] s, got {args.duration}")
    if args.backend not in ("numba", *LCA_BACKENDS):
        raise ValidationError("--backend", f"must be one of {['numba', *LCA_BACKENDS]}, got {args.backend!r}")
    validate.count("--seed", args.seed, low=0)


def run(args: argparse.Namespace) -> int:
    from studies.experiments import sparse_runs

    _check(args)
    wanted = sparse_runs.SOLVERS if args.solver == "all" else (args.solver,)
    dictionary, patches = sparse_runs.problem(args.atoms, args.lam, args.seed, args.patches)
    report: dict = {"atoms": args.atoms, "lambda": args.lam, "patches": len(patches), "seed": args.seed}
    probe = patches[-1]
    rows = []
    if {"ista", "fista"} & set(wanted):
        curves = sparse_runs.solver_curves(dictionary, probe, args.lam)
        report["solvers"] = curves
        for name in ("ista", "fista"):
            if name in wanted:
                rows.append(
                    (f"{name}: objective vs sklearn Lasso", f"{curves[f'{name}_relative_to_sklearn']:+.1e}")
                )
                rows.append((f"{name}: iterations to 1e-13 change", curves[f"{name}_iterations"]))
    if "lista" in wanted:
        report["lista"] = sparse_runs.lista_table(dictionary, patches, args.lam, args.steps, args.epochs,
                                                  seed=args.seed)  # fmt: skip
        for row in report["lista"]:
            rows.append((f"lista K={row['steps']}: code error (FISTA at K)",
                         f"{row['lista_error']:.4f} ({row['fista_error']:.4f})"))  # fmt: skip
            rows.append(
                (f"lista K={row['steps']}: FISTA iterations to match", row["fista_iterations_needed"])
            )
    if "lca" in wanted:
        report["lca"] = [sparse_runs.lca_row(dictionary, patches[-1 - k], args.lam, args.duration,
                                             backend=args.backend) for k in range(args.signals)]  # fmt: skip
        for k, row in enumerate(report["lca"]):
            rows.append((f"lca patch {k}: objective gap, time to 1 %",
                         f"{row['objective_gap']:+.2%}, {row['time_to_solution_s']:.2f} s"))  # fmt: skip
            rows.append(
                (
                    f"lca patch {k}: spikes, synaptic ops, Loihi energy",
                    f"{row['spikes']}, {row['synaptic_ops']}, {row['energy_loihi_j'] * 1e6:.2f} uJ",
                )
            )
            rows.append((f"lca patch {k}: wall (FISTA to 1 %)",
                         f"{row['wall_s']:.2f} s ({row['fista_wall_s'] * 1e3:.2f} ms, "
                         f"{row['fista_iterations']} its)"))  # fmt: skip
    with staged(args.out) as staging:
        write_json(staging / "results.json", report)
        _plot_dictionary(dictionary, staging / "dictionary.png")
        if "solvers" in report:
            _plot_rates(report["solvers"], staging / "rates.png")
        if "lista" in report:
            _plot_lista(report["lista"], staging / "lista.png")
        if "lca" in report:
            _plot_lca(dictionary, probe, args.lam, report["lca"][0], staging / "lca.png")
    if args.json:
        write_json(args.json, report)
    rows.append(("written", f"{args.out}/ (results.json and plots)"))
    print(table(rows))
    return 0


def _plot_dictionary(dictionary, path: Path) -> None:
    import numpy as np

    plt = pyplot()
    atoms = dictionary.shape[1]
    columns = int(np.ceil(np.sqrt(atoms)))
    rows = int(np.ceil(atoms / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.6, rows * 0.6))
    for k, ax in enumerate(np.atleast_1d(axes).flat):
        ax.axis("off")
        if k < atoms:
            side = int(round(np.sqrt(dictionary.shape[0])))
            ax.imshow(dictionary[:, k].reshape(side, side), cmap="RdBu_r")
    figure.suptitle("dictionary atoms (6x6 digit patches)")
    save_figure(path, figure)
    plt.close(figure)


def _plot_rates(curves: dict, path: Path) -> None:
    import numpy as np

    plt = pyplot()
    figure, ax = plt.subplots(figsize=(6, 4))
    for name in ("ista", "fista"):
        gap = np.maximum(np.asarray(curves[f"{name}_gap"]), 1e-16)
        ax.loglog(np.arange(1, gap.size + 1), gap, label=name.upper())
    k = np.arange(1, len(curves["ista_gap"]) + 1)
    first = curves["ista_gap"][0]
    ax.loglog(k, first / k, "k:", lw=0.8, label="1/k")
    ax.loglog(k, first / k**2, "k--", lw=0.8, label="1/k^2")
    ax.set_xlabel("iteration k")
    ax.set_ylabel("E(z_k) - E* (sklearn Lasso)")
    ax.legend()
    figure.tight_layout()
    save_figure(path, figure)
    plt.close(figure)


def _plot_lista(rows: list[dict], path: Path) -> None:
    plt = pyplot()
    figure, ax = plt.subplots(figsize=(6, 4))
    steps = [row["steps"] for row in rows]
    ax.semilogy(steps, [row["lista_error"] for row in rows], "o-", label="LISTA (trained)")
    ax.semilogy(steps, [row["fista_error"] for row in rows], "s--", label="FISTA, same iterations")
    ax.semilogy(steps, [row["ista_error"] for row in rows], "^:", label="ISTA (LISTA untrained)")
    ax.set_xlabel("iterations / unrolled steps K")
    ax.set_ylabel("held-out code error |z - z*|^2 / |z*|^2")
    ax.legend()
    figure.tight_layout()
    save_figure(path, figure)
    plt.close(figure)


def _plot_lca(dictionary, signal, lam: float, row: dict, path: Path) -> None:
    import numpy as np

    from studies.experiments.sparse_runs import sklearn_optimum

    plt = pyplot()
    reference, _ = sklearn_optimum(dictionary, signal, lam)
    figure, ax = plt.subplots(figsize=(8, 3.5))
    atoms = np.arange(len(reference))
    ax.bar(atoms - 0.2, reference, width=0.4, label="Lasso optimum (sklearn)")
    ax.bar(atoms + 0.2, row["codes"], width=0.4, label=f"spiking LCA ({row['backend']}, rates)")
    ax.set_xlabel("atom")
    ax.set_ylabel("code")
    ax.legend()
    figure.tight_layout()
    save_figure(path, figure)
    plt.close(figure)
