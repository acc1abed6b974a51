"""`snn sequence`: the temporal memory (HTM) on sequence tasks and NAB anomaly detection.

Tasks (see :mod:`studies.experiments.sequences`): ``high-order`` (shared sub-sequences,
context decides the successor; tested clean and with ``--noise``), ``noisy`` (the same,
reported for the noisy test), ``branching`` (a prefix with several successors), ``anomaly``
(a synthetic daily series with injected anomalies), ``nab`` (every NAB-format CSV under
``--data``, scored with NAB v1.1's definition when windows are given), ``continual``
(permuted digits learned task after task by an MLP, an MLP with replay and an active-dendrites
network, and sets of sequences by the temporal memory; accuracy on every earlier task after
the last, and forgetting, over ``--seeds``). Each writes
``results.json`` and a plot into ``--out``; ``nab`` also writes NAB's results layout,
``OUT/htm/<category>/htm_<file>.csv``, which NAB's own scorer reads. ``--engine spiking``
runs high-order / noisy on dendritic-segment cells in :class:`snn.Simulator`
(:mod:`snn.htm.spiking`) instead of the array temporal memory: the same predictions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from snn.atomic import write_atomic
from studies.cli.output import add_output_arguments, path_argument, save_figure, staged, table, write_json

TASKS = ("high-order", "noisy", "branching", "anomaly", "nab", "continual")
ENGINES = ("array", "spiking")
DETECTOR = "htm"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--task", default="high-order", help=f"one of {', '.join(TASKS)} (default high-order)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        help="training passes (high-order/noisy 30, branching 40, continual: epochs per task 5)",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=0.1,
        help="high-order/noisy: share of each input's columns moved, in [0, 1)",
    )
    parser.add_argument(
        "--engine",
        default="array",
        help="high-order/noisy: array (snn.htm.TemporalMemory, default) or spiking (the same memory as "
        "dendritic-segment LIF cells on snn.Simulator, 5 steps per element: snn.htm.spiking)",
    )
    parser.add_argument(
        "--data", type=path_argument, help="nab: a folder of NAB-format CSVs (timestamp,value)"
    )
    parser.add_argument(
        "--windows",
        type=path_argument,
        help="nab: NAB's combined_windows.json (default: DATA/../combined_windows.json when present); "
        "without windows the series are detected but not scored",
    )
    parser.add_argument(
        "--profiles", type=path_argument, help="nab: NAB's profiles.json (default NAB's three)"
    )
    parser.add_argument(
        "--timestamps",
        default="strict",
        help="nab: strict (a repeated or earlier timestamp is an error) or file (keep rows in file "
        "order as NAB does; NAB's own corpus has a few repeats at clock changes)",
    )
    parser.add_argument(
        "--max-rows", type=int, help="nab: use only the first N rows of each series (quick runs)"
    )
    parser.add_argument(
        "--tasks", type=int, default=10, help="continual: tasks learned in sequence (default 10)"
    )
    parser.add_argument("--seeds", type=int, default=3, help="continual: seeds averaged (default 3)")
    parser.add_argument(
        "--hidden", type=int, default=2048, help="continual: hidden width of every network (default 2048)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the memory (default 0)")
    add_output_arguments(parser, "sequence")


def _check(args: argparse.Namespace) -> None:
    from snn import validate
    from snn.errors import ValidationError

    if args.task not in TASKS:
        raise ValidationError("--task", f"must be one of {list(TASKS)}, got {args.task!r}")
    if args.epochs is not None:
        validate.count("--epochs", args.epochs, low=1)
    if not 0.0 <= args.noise < 1.0:
        raise ValidationError("--noise", f"must be in [0, 1), got {args.noise}")
    validate.count("--seed", args.seed, low=0)
    if args.engine not in ENGINES:
        raise ValidationError("--engine", f"must be one of {list(ENGINES)}, got {args.engine!r}")
    if args.engine != "array" and args.task not in ("high-order", "noisy"):
        raise ValidationError("--engine", f"spiking runs the high-order and noisy tasks, not {args.task}")
    if args.timestamps not in ("strict", "file"):
        raise ValidationError("--timestamps", f"must be strict or file, got {args.timestamps!r}")
    validate.count("--tasks", args.tasks, low=2, high=50)
    validate.count("--seeds", args.seeds, low=1, high=20)
    validate.count("--hidden", args.hidden, low=8, high=8192)
    if args.max_rows is not None:
        validate.count("--max-rows", args.max_rows, low=10)
    if args.task == "nab":
        if args.data is None:
            raise ValidationError("--data", "the nab task needs a folder of NAB-format CSVs (--data DIR)")
        if not Path(args.data).is_dir():
            raise ValidationError("--data", f"{args.data} is not a folder")
    elif args.data is not None or args.windows is not None:
        raise ValidationError("--data", f"is for the nab task, not {args.task}")


def run(args: argparse.Namespace) -> int:
    from studies.experiments import sequences

    _check(args)
    if args.task == "nab":
        return _run_nab(args)
    if args.task == "continual":
        return _run_continual(args)
    if args.task in ("high-order", "noisy"):
        report = sequences.high_order(
            seed=args.seed, epochs=args.epochs or 30, noise=args.noise, engine=args.engine
        )
        report["task"] = args.task
    elif args.task == "branching":
        report = sequences.branching(seed=args.seed, epochs=args.epochs or 40)
    else:
        report = sequences.anomaly(seed=args.seed)
    curves = report.pop("curves")
    report["seed"] = args.seed
    with staged(args.out) as staging:
        write_json(staging / "results.json", report)
        _plot(args.task, report, curves, staging / "sequence.png")
    if args.json:
        write_json(args.json, report)
    rows = [("task", args.task)] + ([("engine", report["engine"])] if "engine" in report else [])
    for key in ("accuracy", "after_shared_accuracy", "noisy_accuracy", "noisy_overlap", "windows_detected",
                "false_alarm_rows", "extra_columns_predicted", "segments"):  # fmt: skip
        if report.get(key) is not None:
            rows.append((key.replace("_", " "), report[key]))
    rows.append(("written", f"{args.out}/ (results.json, sequence.png)"))
    print(table(rows))
    return 0


def _run_nab(args: argparse.Namespace) -> int:
    import dataclasses
    import sys

    from studies.experiments.nab import read_corpus, read_profiles, read_windows, score_corpus, write_results
    from studies.experiments.nab.detector import NUMENTA_TM, detect

    data = Path(args.data)
    corpus = read_corpus(data, strict_order=args.timestamps == "strict")
    windows_path = args.windows
    if windows_path is None and (data.parent / "combined_windows.json").is_file():
        windows_path = data.parent / "combined_windows.json"
    windows = read_windows(windows_path, corpus) if windows_path is not None else {k: [] for k in corpus}
    profiles = read_profiles(args.profiles) if args.profiles is not None else None
    if args.max_rows is not None:
        corpus = {k: _head(s, args.max_rows) for k, s in corpus.items()}
        windows = {k: [w for w in windows[k] if w.end <= corpus[k].timestamps[-1]] for k in corpus}
    total = sum(len(s) for s in corpus.values())
    settings = dataclasses.replace(NUMENTA_TM, seed=args.seed)
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=total, unit="row", desc="snn sequence nab", leave=False)
    results = {}
    for key, series in corpus.items():
        scores, _ = detect(series.timestamps, series.values, settings, progress=bar.update if bar else None)
        results[key] = (series.timestamps, scores)
    if bar is not None:
        bar.close()
    scored = windows_path is not None
    report: dict = {
        "task": "nab",
        "detector": DETECTOR,
        "series": len(corpus),
        "rows": total,
        "seed": args.seed,
    }
    if scored:
        corpus_score = score_corpus(results, windows, profiles)
        report["scores"] = corpus_score.scores
        report["thresholds"] = {name: p.threshold for name, p in corpus_score.profiles.items()}
        report["published_full_corpus_standard"] = {"Numenta HTM": 70.1, "NumentaTM": 64.6, "ARTime": 74.9}
    with staged(args.out) as staging:
        for key, series in corpus.items():
            write_results(
                staging, DETECTOR, key, series.timestamps, series.values, results[key][1], windows[key]
            )
        write_json(staging / "results.json", report)
        _plot_nab(corpus, results, windows, staging / "nab.png")
    if args.json:
        write_json(args.json, report)
    rows = [("task", f"nab: {len(corpus)} series, {total} rows")]
    if scored:
        rows += [(f"score ({name})", value) for name, value in report["scores"].items()]
        rows.append(("published (standard)", "Numenta HTM 70.1, NumentaTM 64.6, ARTime 74.9 (full corpus)"))
    rows.append(
        ("written", f"{args.out}/ ({DETECTOR}/<category>/{DETECTOR}_<file>.csv, results.json, nab.png)")
    )
    print(table(rows))
    return 0


def _run_continual(args: argparse.Namespace) -> int:
    import sys

    from studies.experiments.continual import continual

    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=4 * args.seeds, unit="run", desc="snn sequence continual", leave=False)
    report = continual(seeds=args.seeds, tasks=args.tasks, epochs=args.epochs or 5, hidden=args.hidden,
                       progress=bar.update if bar else None)  # fmt: skip
    if bar is not None:
        bar.close()
    with staged(args.out) as staging:
        write_json(staging / "results.json", report)
        text = _continual_table(report)
        write_atomic(staging / "continual.md", lambda stream: stream.write(text.encode()))
        _plot_continual(report, staging / "continual.png")
    if args.json:
        write_json(args.json, report)
    rows = [("task", f"continual: {args.tasks} tasks, {args.seeds} seeds")]
    for name, s in report["summary"].items():
        rows.append(
            (name, f"final accuracy {s['mean_final_accuracy']:.3f}, forgetting {s['forgetting']:.3f}")
        )
    rows.append(("written", f"{args.out}/ (results.json, continual.md, continual.png)"))
    print(table(rows))
    return 0


def _continual_table(report: dict) -> str:
    """The markdown table: accuracy on each task after the last, mean and forgetting."""
    tasks = report["tasks"]
    head = "| method | " + " | ".join(f"task {t}" for t in range(tasks)) + " | mean | forgetting |"
    lines = [f"Accuracy on each task after the last one ({report['seeds']} seeds, mean)", "", head,
             "|" + "---|" * (tasks + 3)]  # fmt: skip
    for name, s in report["summary"].items():
        cells = " | ".join(f"{a:.2f}" for a in s["final_accuracy_per_task"])
        mean = f"{s['mean_final_accuracy']:.3f} +- {s['mean_final_accuracy_std']:.3f}"
        lines.append(f"| {name} | {cells} | {mean} | {s['forgetting']:.3f} +- {s['forgetting_std']:.3f} |")
    lines += [
        "",
        "Classifiers: permuted digits; temporal-memory: sets of high-order sequences (exact prediction).",
    ]
    return "\n".join(lines) + "\n"


def _plot_continual(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(9, 3.5))
    for name, s in report["summary"].items():
        ax.plot(range(report["tasks"]), s["final_accuracy_per_task"], marker="o", ms=3, label=name)
    ax.set_xlabel("task (learned in this order)")
    ax.set_ylabel("accuracy after the last task")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    ax.set_title("continual learning: what is left of each task")
    figure.tight_layout()
    save_figure(path, figure)
    plt.close(figure)


def _head(series, rows: int):
    from dataclasses import replace

    return replace(series, timestamps=series.timestamps[:rows], values=series.values[:rows])


def _plot(task: str, report: dict, curves: dict, path: Path) -> None:
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(9, 3.5))
    if task == "anomaly":
        values, scores = curves["values"], curves["scores"]
        ax.plot(values, color="black", lw=0.6, label="value")
        twin = ax.twinx()
        twin.plot(scores, color="tab:red", lw=0.7, label="anomaly score")
        twin.set_ylim(0, 1.05)
        twin.set_ylabel("anomaly score")
        for start, stop in curves["spans"]:
            ax.axvspan(start, stop, color="tab:orange", alpha=0.3)
        ax.set_xlabel("row (5 min)")
        ax.set_title(
            f"synthetic series: {report['windows_detected']} of {report['windows']} anomalies detected"
        )
    else:
        accuracy = curves["epoch_accuracy"]
        ax.plot(np.arange(1, len(accuracy) + 1), accuracy, marker="o", ms=3)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("epoch")
        ax.set_ylabel("predicted exactly" if task != "branching" else "share of successors predicted")
        ax.set_title(f"{task}: prediction accuracy while learning")
    figure.tight_layout()
    save_figure(path, figure)
    plt.close(figure)


def _plot_nab(corpus, results, windows, path: Path, shown: int = 6) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(corpus)[:shown]
    figure, axes = plt.subplots(len(keys), 1, figsize=(10, 1.8 * len(keys)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys, strict=True):
        series = corpus[key]
        ax.plot(series.timestamps, series.values, color="black", lw=0.5)
        twin = ax.twinx()
        twin.plot(series.timestamps, results[key][1], color="tab:red", lw=0.6)
        twin.set_ylim(0, 1.05)
        for window in windows.get(key, []):
            ax.axvspan(window.start, window.end, color="tab:orange", alpha=0.3)
        ax.set_title(key, fontsize=8)
        ax.tick_params(labelsize=6)
        twin.tick_params(labelsize=6)
    figure.tight_layout()
    save_figure(path, figure)
    plt.close(figure)
