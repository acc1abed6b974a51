"""`snn bench plasticity`: CUBA with additive pair STDP on its excitatory-to-excitatory
synapses, run by the reference simulator with and without the rule, and by Brian2
(``cython`` and ``cpp_standalone``, through :mod:`hardware.brian2`, whose Synapses carry
the same rule: :mod:`hardware.brian2_rules`), all in this one process, medians of
``--repeats`` runs. Run times exclude building and compiling.
"""

from __future__ import annotations

import argparse
import statistics

from studies.cli.output import table, write_json


def stdp_rule(params):
    """The benchmark's rule: additive pair STDP (Song et al. 2000 amplitudes) between 0 and
    twice CUBA's excitatory weight."""
    from snn.plasticity import PairSTDP

    w_max = 2 * params.w_exc
    return PairSTDP(a_plus=0.01 * w_max, a_minus=0.0105 * w_max, w_min=0.0, w_max=w_max)


#: the Brian2 targets timed, as the hardware registry names them
BRIAN2_BACKENDS = {"cython": "brian2", "cpp_standalone": "brian2-standalone"}


def run_plasticity(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from snn.examples import CubaParameters
    from studies.cli.bench import run_backend, run_ours

    targets = [t for t in args.targets if t != "numpy"] if args.against == "brian2" else []
    runs = len(args.neurons) * args.repeats * (2 + len(targets))
    bar = tqdm(total=runs, desc="bench plasticity", unit="run", disable=None)
    results = []
    for n in args.neurons:
        p = args.p if args.p is not None else args.in_degree / n
        params = CubaParameters(n_neurons=n, p=p)
        rule = stdp_rule(params)
        figures: dict[str, list] = {"static": [], "stdp": [], **{t: [] for t in targets}}
        for repeat in range(args.repeats):
            seed = args.seed + repeat
            # both on one thread, as a learning network runs
            for name, plasticity in (("static", None), ("stdp", rule)):
                figures[name].append(run_ours(params, args.duration, args.dt, seed, "float64", 1, plasticity))
            bar.update(2)
            for target in targets:
                backend = BRIAN2_BACKENDS[target]
                figures[target].append(run_backend(backend, params, args.duration, args.dt, seed, rule))
                bar.update()
        row = {"neurons": n, "p": p, "duration_s": args.duration, "rule": rule.to_dict()}
        for name, runs_of in figures.items():
            row[f"{name}_run_s"] = statistics.median(r["run_s"] for r in runs_of)
            row[f"{name}_rate_hz"] = statistics.median(r["rate_hz"] for r in runs_of)
        row["stdp_overhead"] = row["stdp_run_s"] / row["static_run_s"]
        for target in targets:
            row[f"{target}_to_ours"] = row[f"{target}_run_s"] / row["stdp_run_s"]
        results.append(row)
    bar.close()
    for row in results:
        lines = [
            ("neurons", f"{row['neurons']} (p = {row['p']:.4g}), STDP on E->E"),
            ("ours static", f"{row['static_run_s']:.4f} s ({row['static_rate_hz']:.3g} Hz)"),
            (
                "ours with STDP",
                f"{row['stdp_run_s']:.4f} s ({row['stdp_rate_hz']:.3g} Hz), "
                f"overhead x{row['stdp_overhead']:.2f}",
            ),
        ]
        for target in targets:
            lines.append(
                (
                    f"brian2 {target} with STDP",
                    f"{row[f'{target}_run_s']:.4f} s ({row[f'{target}_rate_hz']:.3g} Hz), "
                    f"{row[f'{target}_to_ours']:.2f} x ours",
                )
            )
        print(table(lines))
    if args.json:
        write_json(
            args.json,
            {"benchmark": "plasticity", "repeats": args.repeats, "dt_s": args.dt, "results": results},
        )
        print(f"  written: {args.json}")
    return 0
