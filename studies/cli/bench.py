"""`snn bench cuba`: the reference simulator against Brian2 on the same CUBA network;
`snn bench plasticity`: the same with pair STDP on its E->E synapses
(:mod:`studies.cli.bench_plasticity`).

Both simulators build the network from the same :class:`snn.examples.CubaParameters`
in this one process. Simulation time excludes building and compiling, which are reported
separately; Brian2's ``cpp_standalone`` time is the device's own record of its run.
Each figure is the median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys

from studies.cli.output import path_argument, table, write_json

TARGETS = ("numpy", "cython", "cpp_standalone")
DEFAULT_NEURONS = {"cuba": [4000, 8000, 16000, 32000], "plasticity": [4000]}
FRESH_PROCESS = """
import json, snn
from snn.kernels import connect, simulate
net = snn.Network()
net.add(snn.Population(name="n", size=10, model=snn.LIF(i_bias=0.03)))
net.connect("n", "n", snn.FixedProbability(p=0.5, weight=1e-4))
net.probe("n")
result = snn.Simulator(net, dt=1e-4, progress=False).run(0.01)
kernels = [simulate.run_block, connect.fixed_probability, connect.merge_rows, connect.partition_rows]
print(json.dumps({"compile_s": result.metadata["compile_s"],
                  "cache_misses": sum(sum(k.stats.cache_misses.values()) for k in kernels)}))
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        choices=["cuba", "plasticity"],
        help="the benchmark: cuba (static), plasticity (CUBA with pair STDP on E->E, ours with and "
        "without STDP against Brian2 cython and cpp_standalone with the same rule)",
    )
    parser.add_argument(
        "--neurons",
        type=int,
        nargs="+",
        help=f"network sizes (default {DEFAULT_NEURONS['cuba']} for cuba, "
        f"{DEFAULT_NEURONS['plasticity']} for plasticity)",
    )
    parser.add_argument(
        "--duration", type=float, default=1.0, help="biological time per run in s (default %(default)s)"
    )
    parser.add_argument("--dt", type=float, default=1e-4, help="time step in s (default %(default)s)")
    parser.add_argument(
        "--in-degree",
        type=float,
        default=80.0,
        help="expected synapses per neuron: p = in_degree / neurons, so activity "
        "stays that of Brian2's example (p = 0.02 at 4000 neurons) at every size (default %(default)s)",
    )
    parser.add_argument("--p", type=float, help="fixed connection probability instead of --in-degree")
    parser.add_argument(
        "--against", choices=["brian2", "none"], default="brian2", help="peer to run (default %(default)s)"
    )
    parser.add_argument(
        "--targets",
        nargs="+",
        choices=TARGETS,
        default=list(TARGETS),
        help="Brian2 code-generation targets (default: all three)",
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        default=[],
        metavar="NAME",
        help="also run the same network through these hardware adapters (e.g. brian2 brian2-standalone "
        "nengo nengo-dl; see `snn deploy --list`): the network our adapters translate, timed by the "
        "adapter's own build/compile/run split",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per figure, median reported (default %(default)s)"
    )
    parser.add_argument("--float32", action="store_true", help="run ours in single precision")
    parser.add_argument(
        "--threads",
        type=int,
        help="worker threads for ours (default: one per free core from 2 x "
        "snn.simulator.NEURONS_PER_THREAD neurons); with more than one, ours also runs on one thread "
        "and reports it as ours_single_thread_run_s",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for both simulators (default %(default)s)")
    parser.add_argument("--json", type=path_argument, help="write the results object to this file")


def _check(args) -> None:
    from snn.errors import ValidationError

    if args.neurons is None:
        args.neurons = DEFAULT_NEURONS[args.model]
    if any(n < 2 for n in args.neurons):
        raise ValidationError("--neurons", "every size must be >= 2")
    if not args.duration > 0:
        raise ValidationError("--duration", f"must be > 0 s, got {args.duration}")
    if not 0 < args.dt <= args.duration:
        raise ValidationError("--dt", f"must be in (0, duration] s, got {args.dt}")
    if args.threads is not None and args.threads < 1:
        raise ValidationError("--threads", f"must be >= 1, got {args.threads}")
    if args.repeats < 1:
        raise ValidationError("--repeats", f"must be >= 1, got {args.repeats}")
    if args.p is not None and not 0 <= args.p <= 1:
        raise ValidationError("--p", f"must be in [0, 1], got {args.p}")
    if args.p is None and not args.in_degree > 0:
        raise ValidationError("--in-degree", f"must be > 0, got {args.in_degree}")
    if args.p is None and any(args.in_degree > n for n in args.neurons):
        raise ValidationError("--in-degree", "must be <= every size in --neurons")
    import numpy as np

    from snn.build import estimate_memory
    from snn.examples import CubaParameters, cuba

    dtype = np.float32 if args.float32 else np.float64
    for n in args.neurons:  # before building or importing any simulator: one line, exit 2
        p = args.p if args.p is not None else args.in_degree / n
        try:
            estimate_memory(cuba(CubaParameters(n_neurons=n, p=p)), args.dt, dtype)
        except ValidationError as exc:
            raise type(exc)("--neurons", f"{n} neurons: {exc}") from None


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def fresh_process() -> dict:
    """Time to first step in a new Python process and how many kernels it had to compile
    (numba's cache misses): with the on-disk JIT cache warm both are small."""
    output = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def run_ours(
    params, duration: float, dt: float, seed: int, dtype: str, threads: int | None, plasticity=None
) -> dict:
    """The CUBA network of ``params`` (``plasticity``: a rule on its E->E synapses) on ours."""
    import snn
    from snn.examples import cuba

    network = cuba(params, plasticity=plasticity)
    simulator = snn.Simulator(network, dt=dt, seed=seed, dtype=dtype, progress=False, threads=threads)
    result = simulator.run(duration)
    model = simulator.model
    synapses = max(int(model.connectivity.targets.size), 1)
    return {
        "build_s": simulator.build_s,
        "compile_s": result.metadata["compile_s"],
        "run_s": result.metadata["run_s"],
        "synapses": int(model.connectivity.targets.size),
        "bytes_per_synapse": simulator.nbytes_connectivity / synapses,
        "threads": simulator.threads,
        "fell_back": result.metadata["threads"] < simulator.threads,  # ended on one: WorkerChoice
        "rate_hz": result.mean_rate(),
        "cv_isi": result.isi_cv(),
    }


def run_backend(name: str, params, duration: float, dt: float, seed: int, plasticity=None) -> dict:
    """The CUBA network of ``params`` (``plasticity`` as :func:`run_ours`) through the
    ``hardware`` adapter ``name``."""
    import hardware
    from snn.examples import cuba

    network = cuba(params, plasticity=plasticity)
    result = hardware.get(name).run(network, duration, dt=dt, seed=seed, progress=False)
    meta = result.metadata
    return {key: meta[key] for key in ("build_s", "compile_s", "run_s")} | {"rate_hz": result.mean_rate()}


def run(args: argparse.Namespace) -> int:
    _check(args)
    if args.model == "plasticity":
        from studies.cli.bench_plasticity import run_plasticity

        return run_plasticity(args)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return _run(args)
    # An OpenBLAS pool keeps spinning for ~0.1 s after each call (numpy in a peer's run, a
    # statistic) and takes the cores of whichever multi-threaded run comes next; neither
    # simulator's time loop uses BLAS, so it runs on one thread throughout.
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    import hardware
    from snn.examples import cuba

    for name in args.backends:
        hardware.get(name).check(cuba())
    from tqdm import tqdm

    from snn.examples import CubaParameters

    targets = args.targets if args.against == "brian2" else []
    dtype = "float32" if args.float32 else "float64"
    results = []
    runs = len(args.neurons) * args.repeats * (1 + len(targets) + len(args.backends))
    bar = tqdm(total=runs, desc="bench cuba", unit="run", disable=None)
    for n in args.neurons:
        p = args.p if args.p is not None else args.in_degree / n
        params = CubaParameters(n_neurons=n, p=p)
        ours, single = [], []
        for repeat in range(args.repeats):
            ours.append(run_ours(params, args.duration, args.dt, args.seed + repeat, dtype, args.threads))
            if ours[-1]["threads"] > 1:
                single.append(run_ours(params, args.duration, args.dt, args.seed + repeat, dtype, 1))
            bar.update()
        row = {
            "neurons": n,
            "p": p,
            "synapses": ours[0]["synapses"],
            "duration_s": args.duration,
            "dtype": dtype,
            "ours_threads": ours[0]["threads"],
            "ours_runs_fell_back": sum(r["fell_back"] for r in ours),
            "ours_run_s": statistics.median(r["run_s"] for r in ours),
            "ours_compile_s": statistics.median(r["compile_s"] for r in ours),
            "ours_build_s": statistics.median(r["build_s"] for r in ours),
            "ours_bytes_per_synapse": ours[0]["bytes_per_synapse"],
            "ours_rate_hz": statistics.median(r["rate_hz"] for r in ours),
            "ours_cv_isi": statistics.median(r["cv_isi"] for r in ours),
        }
        if single:
            row["ours_single_thread_run_s"] = statistics.median(r["run_s"] for r in single)
        if targets:
            from studies.experiments.peers.brian2_cuba import run_cuba

            for target in targets:
                peer = []
                for repeat in range(args.repeats):
                    peer.append(run_cuba(params, args.duration, args.dt, target, args.seed + repeat))
                    bar.update()
                row[f"brian2_{target}_run_s"] = statistics.median(r.run_s for r in peer)
                row[f"brian2_{target}_build_s"] = statistics.median(r.build_s for r in peer)
                row[f"brian2_{target}_rate_hz"] = statistics.median(r.mean_rate(args.duration) for r in peer)
                row[f"ratio_ours_to_{target}"] = row["ours_run_s"] / row[f"brian2_{target}_run_s"]
                if single:
                    row[f"ratio_single_thread_to_{target}"] = (
                        row["ours_single_thread_run_s"] / row[f"brian2_{target}_run_s"]
                    )
        for name in args.backends:
            runs_of = []
            for repeat in range(args.repeats):
                runs_of.append(run_backend(name, params, args.duration, args.dt, args.seed + repeat))
                bar.update()
            for key in ("run_s", "compile_s", "build_s", "rate_hz"):
                row[f"backend_{name}_{key}"] = statistics.median(r[key] for r in runs_of)
            row[f"ratio_ours_to_{name}"] = row["ours_run_s"] / row[f"backend_{name}_run_s"]
        row["peak_rss_mb"] = peak_rss_mb()
        results.append(row)
    bar.close()
    report = {
        "benchmark": "cuba",
        "repeats": args.repeats,
        "dt_s": args.dt,
        "fresh_process": fresh_process(),
        "results": results,
    }
    for row in results:
        lines = [
            ("neurons / synapses", f"{row['neurons']} / {row['synapses']}"),
            (
                "ours run (median)",
                f"{row['ours_run_s']:.4f} s on {row['ours_threads']} thread(s)  "
                f"({row['ours_rate_hz']:.3g} Hz)",
            ),
            ("ours bytes/synapse", f"{row['ours_bytes_per_synapse']:.2f}"),
        ]
        if "ours_single_thread_run_s" in row:
            lines.insert(2, ("ours on 1 thread", f"{row['ours_single_thread_run_s']:.4f} s"))
        for target in targets:
            lines.append(
                (
                    f"brian2 {target} run",
                    f"{row[f'brian2_{target}_run_s']:.4f} s  "
                    f"(ours/brian2 = {row[f'ratio_ours_to_{target}']:.3f})",
                )
            )
        for name in args.backends:
            lines.append(
                (
                    f"{name} adapter run",
                    f"{row[f'backend_{name}_run_s']:.4f} s  ({row[f'backend_{name}_rate_hz']:.3g} Hz, "
                    f"ours/{name} = {row[f'ratio_ours_to_{name}']:.3f})",
                )
            )
        print(table(lines))
        print()
    fresh = report["fresh_process"]
    print(
        f"  new process: {fresh['compile_s']:.3f} s to first step, {fresh['cache_misses']} kernels compiled"
    )
    if args.json:
        write_json(args.json, report)
        print(f"  written: {args.json}")
    return 0
