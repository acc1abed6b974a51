"""`snn deploy`: write a network as a backend's artifact, with a mapping report.

The artifact depends on the backend: a NIR file (``nir``), a C++ standalone project
(``brian2``, ``brian2-standalone``), a runnable script (``nengo``, ``nengo-dl``), or the
network as TOML (``numba``). Every backend checks the network first, so a network with a
part the backend cannot express fails (exit 2) before any file is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from studies.cli.output import path_argument, table
from studies.cli.simulate import DEFAULT_DT, DEFAULT_DURATION


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        nargs="?",
        type=Path,
        help="network to deploy: a TOML network (as `snn simulate` reads, or as `snn train` writes), "
        "a .nir file, or nothing for the default CUBA network",
    )
    parser.add_argument(
        "--backend",
        default="brian2",
        help="brian2 | brian2-standalone (C++ standalone project; default brian2), nengo | nengo-dl "
        "(Python script), nir (HDF5 graph; refuses what NIR cannot express, e.g. refractory periods), "
        "numba (TOML)",
    )
    parser.add_argument(
        "--out",
        type=path_argument,
        help="where to write the artifact (default out/deploy/<backend>); "
        "with --backend nir, a name ending in .nir writes just that file",
    )
    parser.add_argument("--dt", type=float, help=f"time step in s (default {DEFAULT_DT})")
    parser.add_argument(
        "--duration",
        type=float,
        help=f"run length baked into projects and scripts, s (default {DEFAULT_DURATION})",
    )
    parser.add_argument("--seed", type=int, help="seed that draws random connectivity (default 0)")
    parser.add_argument("--json", type=path_argument, help="also write the mapping report object here")
    parser.add_argument(
        "--list", action="store_true", help="list the backends, whether each is installed, and exit"
    )


def run(args: argparse.Namespace) -> int:
    import hardware
    from snn import validate
    from studies.cli.output import check_destinations, write_json
    from studies.cli.simulate import load_model, pick

    if args.list:
        installed = set(hardware.available())
        for name in hardware.names():
            print(f"  {name:<18} {'installed' if name in installed else 'not installed'}")
        return 0
    backend = hardware.get(args.backend)
    if args.out is None:  # the default depends on --backend, so the dispatcher could not check it
        args.out = Path("out/deploy") / args.backend
        check_destinations(args)
    network, defaults = load_model(args.model, args.dt)
    dt = validate.positive("--dt", pick(args.dt, defaults.dt, DEFAULT_DT))
    duration = validate.positive("--duration", pick(args.duration, defaults.duration, DEFAULT_DURATION))
    seed = validate.count("--seed", pick(args.seed, defaults.seed, 0), low=0)
    out = args.out
    report = backend.deploy(network, out, dt=dt, duration=duration, seed=seed)
    if args.json:
        write_json(args.json, report.to_dict())
    rows = [
        ("backend", report.backend),
        ("network", f"{network.name} ({report.neurons} neurons, {report.synapses} synapses)"),
        ("converted", f"{len(report.converted)} items"),
        ("approximated", "; ".join(report.approximated) or "nothing"),
        ("refused", "; ".join(report.refused) or "nothing"),
        ("written", f"{out} ({', '.join(report.files)})" if report.files else str(out)),
    ]
    print(table(rows))
    return 0
