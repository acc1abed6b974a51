"""`snn simulate`: run a network on the reference simulator (or any backend) and write its results."""

from __future__ import annotations

import argparse
from pathlib import Path

from studies.cli.output import add_output_arguments, save_figure, staged, table, write_json

DEFAULT_DURATION = 1.0
DEFAULT_DT = 1e-4
PRODUCER_NAMES = (
    "snntorch",
    "norse",
    "sinabs",
    "rockpool",
    "neurobridge",
)  # hardware.nir_fields.PRODUCERS (nir stays unimported)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config",
        nargs="?",
        type=Path,
        help="TOML network file (see snn/config.py for the layout); "
        "default: Brian2's CUBA network (4000 LIF neurons, Vogels & Abbott 2005)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        help=f"biological time in s (default {DEFAULT_DURATION}, or the config's [simulation].duration)",
    )
    parser.add_argument("--dt", type=float, help=f"time step in s (default {DEFAULT_DT})")
    parser.add_argument(
        "--seed",
        type=int,
        help="seed for connectivity, initial values and Poisson inputs (default 0); same seed, same spikes",
    )
    parser.add_argument(
        "--backend",
        default="numba",
        help="simulator to run on: numba (the reference, default), brian2 (cython), brian2-numpy, "
        "brian2-standalone (C++), nengo, nengo-dl, nir (round trip through NIR, then numba); "
        "`snn deploy --list` shows which are installed",
    )
    parser.add_argument(
        "--float32", action="store_true", help="single-precision state and weights (numba backend only)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="worker threads (numba backend only; default: one per free core from 16000 neurons, else 1; "
        "the result is the same for any number)",
    )
    add_output_arguments(parser, "simulate", "summary")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    nir_options = parser.add_argument_group("NIR files (config ending in .nir)")
    nir_options.add_argument(
        "--input",
        type=Path,
        metavar="SPIKES.npz",
        help="input spikes: one array per nir.Input node, named after it, shape (steps, size), 0 or 1 "
        "per channel and step of the producer; the run lasts those steps and reports every spike at "
        "the producer's step (numba backend)",
    )
    nir_options.add_argument(
        "--nir-convention",
        choices=PRODUCER_NAMES,
        help="how the graph's producer ran it (discretisation, timing, spike area, reset, input scale): "
        "snntorch and norse (forward Euler, same-step, area dt), sinabs (exact, same-step, a spike adds "
        "its weight, subtract reset; run at --dt 1, Sinabs counts time in steps), rockpool (exact, "
        "same-step, current decays before it adds, subtract reset; run at Rockpool's dt, "
        "tau_mem / (1 + r)), "
        "neurobridge (exact, next step, what we record). Default: what the file records, else snnTorch's "
        "and Norse's with a warning",
    )


def run(args: argparse.Namespace) -> int:
    import numpy as np

    import hardware
    import snn

    nir_file = args.config is not None and Path(args.config).suffix == ".nir"
    for flag, value in (("--input", args.input), ("--nir-convention", args.nir_convention)):
        if value is not None and not nir_file:
            raise snn.ValidationError(flag, "is for NIR files (a config ending in .nir)")
    if args.input is not None and args.backend != "numba":
        raise snn.ValidationError("--input", f"runs on the numba backend only, not {args.backend!r}")
    with _warnings_as_lines():
        network, defaults = load_model(args.config, args.dt, args.nir_convention)
    duration = pick(args.duration, defaults.duration, DEFAULT_DURATION)
    dt = pick(args.dt, defaults.dt, DEFAULT_DT)
    seed = pick(args.seed, defaults.seed, 0)
    frames = None
    if args.input is not None:
        frames = load_input(args.input, network)
        steps = next(iter(frames.values())).shape[0] if frames else 0
        if args.duration is not None and abs(args.duration - steps * dt) > dt / 2:
            raise snn.ValidationError(
                "--duration", f"must be the input's {steps} steps x dt = {steps * dt:g} s"
            )
        duration = steps * dt
    if duration is None or not duration > 0:
        raise snn.ValidationError("--duration", f"must be > 0 s, got {duration}")
    if not np.isfinite(duration):
        raise snn.ValidationError("--duration", f"must be finite, got {duration}")
    if not dt > 0 or dt > duration:
        raise snn.ValidationError("--dt", f"must be in (0, duration={duration}] s, got {dt}")
    if not any(p.variable == "spikes" for p in network.probes):
        for name in network.populations:
            if network.populations[name].model.spiking:
                network.probe(name)

    options = {}
    if args.float32:
        options["dtype"] = "float32"
    if args.threads is not None:
        if args.threads < 1:
            raise snn.ValidationError("--threads", f"must be >= 1, got {args.threads}")
        options["threads"] = args.threads
    for flag, key in (("--float32", "dtype"), ("--threads", "threads")):
        if key in options and args.backend != "numba":
            raise snn.ValidationError(flag, f"is for the numba backend only, not {args.backend!r}")
    backend = hardware.get(args.backend, **options)
    progress = False if args.no_progress else None
    try:
        if frames is not None:
            import warnings

            from hardware.nir import NIRConventionWarning, run_graph

            with warnings.catch_warnings():  # already shown when the file was loaded above
                warnings.simplefilter("ignore", NIRConventionWarning)
                result, _ = run_graph(args.config, frames, dt=dt, conventions=args.nir_convention, seed=seed,
                                      progress=progress)  # fmt: skip
        else:
            result = backend.run(network, duration, dt=dt, seed=seed, progress=progress)
    except snn.ValidationError as error:
        if args.config is None:
            raise
        # an error found while building (a shape, a delay, memory) still names the file
        raise type(error)(f"{Path(args.config).name}: {error.field}", error.message) from None
    meta = result.metadata
    spiking = [n for n in result.spikes if n in network.populations]
    summary = {
        "backend": meta["backend"],
        "network": network.name,
        "neurons": meta["neurons"],
        "synapses": meta["synapses"],
        "duration_s": result.duration,
        "dt_s": dt,
        "seed": seed,
        "dtype": meta.get("dtype", "float64"),
        "threads": meta.get("threads"),  # the numba backend's worker threads (None elsewhere)
        "spikes": int(sum(result.spikes[n][0].size for n in spiking)),
        "mean_rate_hz": result.mean_rate(spiking),
        "cv_isi": result.isi_cv(spiking),
        "rates_hz": {n: result.mean_rate([n]) for n in spiking},
        "build_s": meta["build_s"],
        "compile_s": meta["compile_s"],
        "run_s": meta["run_s"],
        "versions": meta["versions"],
    }
    if result.weights:  # learning projections: where their weights ended
        summary["learned_weights"] = {
            name: {
                "mean": float(w.mean()),
                "min": float(w.min()),
                "max": float(w.max()),
                "synapses": int(w.size),
            }
            for name, w in result.weights.items()
        }
    out: Path = args.out
    names = {"spikes": "spikes.npz", "raster": "raster.png", "summary": "summary.json"}
    summary["files"] = {key: str(out / name) for key, name in names.items()}
    with staged(out) as staging:
        result.save(staging / names["spikes"])
        _raster(result, network.name, staging / names["raster"])
        write_json(staging / names["summary"], summary)
    if args.json:
        write_json(args.json, summary)
    print(
        table(
            [
                ("network", f"{network.name} ({summary['neurons']} neurons, {summary['synapses']} synapses)"),
                (
                    "backend",
                    meta["backend"] + (f" ({summary['threads']} thread(s))" if summary["threads"] else ""),
                ),
                ("simulated", f"{result.duration:g} s at dt = {dt:g} s ({summary['dtype']})"),
                ("mean rate", f"{summary['mean_rate_hz']:.3g} Hz"),
                ("CV of ISI", summary["cv_isi"]),
                *[
                    (
                        f"weights {name}",
                        f"mean {w['mean']:.4g}, range [{w['min']:.4g}, {w['max']:.4g}] after learning",
                    )
                    for name, w in summary.get("learned_weights", {}).items()
                ],
                (
                    "build / compile / run",
                    f"{meta['build_s']:.3f} / {meta['compile_s']:.3f} / {meta['run_s']:.3f} s",
                ),
                ("written", f"{out}/ (summary.json, spikes.npz, raster.png)"),
            ]
        )
    )
    return 0


def load_input(path: Path, network) -> dict:
    """The ``--input`` spikes: an ``.npz`` with one array per input port of ``network``."""
    import numpy as np

    from snn.errors import ValidationError

    try:
        with np.load(path, allow_pickle=False) as stored:
            frames = {name: stored[name] for name in stored.files}
    except FileNotFoundError:
        raise ValidationError("--input", f"{path}: not found") from None
    except (OSError, ValueError) as error:
        raise ValidationError("--input", f"{path}: not a readable .npz file ({error})") from None
    from hardware.nir import input_ports

    ports = input_ports(network)
    missing, extra = sorted(set(ports) - set(frames)), sorted(set(frames) - set(ports))
    if missing or extra:
        raise ValidationError(
            "--input", f"{path.name}: needs one array per input port {sorted(ports)}; "
            f"missing {missing}, unknown {extra}"
        )  # fmt: skip
    return frames


class _warnings_as_lines:
    """Show the warnings raised inside (a NIR graph's conventions) as one line each on stderr."""

    def __enter__(self):
        import warnings

        self._catcher = warnings.catch_warnings(record=True)
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        import sys

        self._catcher.__exit__(*exc)
        for item in self._caught:
            print(f"snn simulate: warning: {item.message}", file=sys.stderr)
        return False


def load_model(path: Path | None, dt: float | None = None, conventions: str | None = None):
    """``(network, defaults)`` from a TOML file, a NIR file (``.nir``; read at ``dt``, else at the
    dt stored in it, under ``conventions``), or the default CUBA network."""
    from snn.config import SimulationDefaults, load_toml
    from snn.examples import cuba

    if path is None:
        return cuba(), SimulationDefaults()
    if Path(path).suffix == ".nir":
        from hardware.nir import from_nir, naming_file, read
        from hardware.nir_import import metadata

        graph = read(path)
        with naming_file(Path(path).name):
            stored = metadata(graph)  # the dt and seed we wrote it with (none from other producers)
            defaults = SimulationDefaults(dt=stored.get("dt"), seed=stored.get("seed"))
            return from_nir(graph, dt=dt or defaults.dt or DEFAULT_DT, conventions=conventions)[0], defaults
    return load_toml(path)


def pick(*choices):
    """The first choice that is not None (a flag, then a file's default, then ours)."""
    for choice in choices:
        if choice is not None:
            return choice
    return None


def _raster(result, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    result.raster(ax=top)
    top.set_title(f"{title}: {result.mean_rate():.3g} Hz mean rate")
    top.set_xlabel("")
    from snn.plotting import population_rate

    for node in result.spikes:
        population_rate(result, node, bin_s=max(1e-3, result.duration / 500), ax=bottom)
    figure.tight_layout()
    save_figure(path, figure)
    plt.close(figure)
