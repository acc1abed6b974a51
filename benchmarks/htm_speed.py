"""Temporal memory and spatial pooler speed: steps per second on a sequence stream.

No peer is installable here (htm.core is not on the package index, nupic needs Python 2), so
the reference is the published htm.core figure the issue quotes: about 5000 temporal-memory
steps per second at 2048 columns x 10 cells (C++). We run 2048 columns x 32 cells (3.2 x the
cells) with 2 % (40) active columns, learning on, on a stream of 30 elements repeated in
sequence, clean and with 10 % noise steps (segments keep growing), at 255 (htm.core's
default) and 32 (NAB's) synapses per segment; each figure is the median over blocks of
steps after a warm-up (compile excluded). The dendritic-segment spiking population
(:mod:`snn.htm.spiking`, 5 simulator steps of 65 536 LIF somata per temporal-memory step)
is timed on the clean stream, with and without its segments.

    python benchmarks/htm_speed.py --json benchmarks/results/htm_speed.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np


def _stream(
    rng: np.random.Generator, steps: int, columns: int, active: int, noise: float = 0.1
) -> list[np.ndarray]:
    elements = [np.sort(rng.choice(columns, size=active, replace=False)) for _ in range(30)]
    order = rng.permutation(30)
    out = []
    for t in range(steps):
        if rng.random() < noise:
            out.append(np.sort(rng.choice(columns, size=active, replace=False)))
        else:
            out.append(elements[order[t % 30]])
    return out


def _rate(step, items: list, block: int) -> float:
    """Median steps per second of ``step`` over blocks of ``block`` items."""
    rates = []
    for begin in range(0, len(items) - block + 1, block):
        start = time.perf_counter()
        step(items[begin : begin + block])
        rates.append(block / (time.perf_counter() - start))
    return statistics.median(rates)


def _spiking(rng: np.random.Generator, steps: int, block: int) -> dict:
    """The temporal memory as dendritic-segment cells on snn.Simulator (:mod:`snn.htm.spiking`):
    2048 x 32 LIF somata, 5 simulator steps per temporal-memory step, on the clean stream;
    and the same somata and synapses without the segments (the clock-driven integration of
    65 536 cells, which bounds the population's speed)."""
    import dataclasses

    import snn
    from snn.htm import TemporalMemoryParameters
    from snn.htm.spiking import CYCLE_STEPS, add_temporal_memory, column_input

    dt, warm = 1e-3, 500
    stream = _stream(rng, warm + steps, 2048, 40, 0.0)
    net = snn.Network()
    net.add(column_input("columns", stream, 2048, dt))
    add_temporal_memory(net, "tm", "columns", TemporalMemoryParameters(), dt=dt)
    somata = snn.Network()
    somata.add(net.sources["columns"])
    somata.add(dataclasses.replace(net.populations["tm"], dendrites=None))
    for projection in net.projections:
        somata.add_projection(projection)
    figures = {}
    for name, network in (("spiking_tm", net), ("spiking_somata_only", somata)):
        sim = snn.Simulator(network, dt=dt, progress=False)
        sim.run(warm * CYCLE_STEPS * dt)  # compile, and grow the first segments
        figures[f"{name}_steps_per_s"] = _rate(
            lambda items, sim=sim: sim.run(len(items) * CYCLE_STEPS * dt), list(range(steps)), block
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=6000, help="measured steps (default 6000)")
    parser.add_argument("--block", type=int, default=500, help="steps per timed block (default 500)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from snn.htm import SDR, TemporalMemory, TemporalMemoryParameters
    from snn.htm.spatial_pooler import SpatialPooler, SpatialPoolerParameters

    rng = np.random.default_rng(0)
    figures: dict[str, object] = {
        "published_htm_core_tm_steps_per_s": 5000,
        "published_setup": "2048 x 10 cells, C++",
    }

    # the temporal memory alone: a clean repeating sequence (mostly predicted steps) and the same
    # with 10 % random steps (each bursts, and so does the step after), at htm.core's default
    # of 255 synapses per segment and at NAB's 32
    for noise in (0.0, 0.1):
        for synapses in (255, 32):
            tm = TemporalMemory(TemporalMemoryParameters(max_synapses_per_segment=synapses))
            tm.run(_stream(rng, 2000, 2048, 40, noise))  # compile + grow the first segments
            stream = _stream(rng, args.steps, 2048, 40, noise)
            name = f"tm_noise{noise:g}_syn{synapses}"
            figures[f"{name}_steps_per_s"] = _rate(lambda block, tm=tm: tm.run(block), stream, args.block)
            figures[f"{name}_segments"] = tm.n_segments

    # spatial pooler + temporal memory: 30 input patterns of 21 of 400 bits in the same stream
    sp = SpatialPooler(SpatialPoolerParameters(input_size=400, columns=2048, active_columns=40))
    tm2 = TemporalMemory(TemporalMemoryParameters(columns=2048, cells_per_column=32))
    patterns = [SDR.sample(400, 21, rng) for _ in range(30)]
    inputs = [patterns[int(s[0]) % 30] for s in _stream(rng, 1000 + args.steps, 2048, 40)]

    def both(block: list) -> None:
        for x in block:
            tm2.compute(sp.compute(x))

    both(inputs[:1000])
    figures["sp_tm_steps_per_s"] = _rate(both, inputs[1000:], args.block)
    figures["sp_steps_per_s"] = _rate(lambda block: [sp.compute(x) for x in block], inputs[1000:], args.block)
    figures.update(_spiking(rng, args.steps, args.block))
    for key in [k for k in figures if k.startswith(("tm_noise", "spiking")) and k.endswith("_steps_per_s")]:
        figures[key.replace("_steps_per_s", "_ratio_to_published")] = figures[key] / 5000
    for key, value in figures.items():
        print(f"{key:34s} {value:.1f}" if isinstance(value, float) else f"{key:34s} {value}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
