"""One LIF layer, forward + backward, on the CPU: ours vs snnTorch vs Norse vs the floor.

The floor is the layer's Linear part alone (one batched matmul forward + backward): no
spiking layer can be cheaper. Each figure is the median of ``--repeats`` runs in this
one process; the ratio to the floor is what to compare across machines.

    python benchmarks/lif_layer.py --neurons 4096 16384 --json benchmarks/results/lif_layer.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch


def _timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _scan(cell, current: torch.Tensor) -> torch.Tensor:
    """Run a peer's step function over time dimension 0; the cell returns (spikes, state).

    ``unbind`` rather than ``current[t]``: indexing's backward writes a full-size gradient
    per step, which would charge the peers a harness cost quadratic in T."""
    state, out = None, []
    for step_input in current.unbind(0):
        z, state = cell(step_input, state)
        out.append(z)
    return torch.stack(out)


def bench_size(n: int, args: argparse.Namespace) -> dict:
    """Median seconds for ours, the floor and the peers at ``n`` neurons."""
    import snn
    from ann_bridge.layers import SpikingLinear

    beta = 0.95
    torch.manual_seed(0)
    x = (torch.rand(args.steps, args.batch, args.inputs) < 0.1).float()
    tau_mem = -1e-3 / torch.log(torch.tensor(beta)).item()  # alpha = beta at dt = 1 ms
    model = snn.LIF(tau_mem=tau_mem, v_rest=0.0, v_reset=0.0, v_th=1.0, tau_ref=0.0, reset="subtract")
    ours = SpikingLinear(args.inputs, n, model, snn.Delta(), dt=1e-3)
    linear = torch.nn.Linear(args.inputs, n, bias=False)
    candidates = {
        "ours_s": lambda: ours(x).sum().backward(),
        "floor_s": lambda: linear(x).sum().backward(),
    }
    try:
        import snntorch

        leaky = snntorch.Leaky(beta=beta, threshold=1.0)
        candidates["snntorch_s"] = lambda: (
            _scan(lambda current, mem: leaky(current, leaky.init_leaky() if mem is None else mem), linear(x))
            .sum()
            .backward()
        )
    except ImportError:
        pass
    try:
        from norse.torch import LIFBoxCell

        cell = LIFBoxCell()
        candidates["norse_s"] = lambda: _scan(cell, linear(x)).sum().backward()
    except ImportError:
        pass
    row = {"neurons": n, "inputs": args.inputs, "batch": args.batch, "steps": args.steps}
    for key, fn in candidates.items():
        row[key] = _timed(fn, args.repeats)
    for key in ("ours_s", "snntorch_s", "norse_s"):
        if key in row:
            row[key.replace("_s", "_over_floor")] = row[key] / row["floor_s"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--neurons", type=int, nargs="+", default=[4096, 16384])
    parser.add_argument("--inputs", type=int, default=128, help="presynaptic inputs of the layer")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    for n in args.neurons:
        row = bench_size(n, args)
        results.append(row)
        print(json.dumps(row))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}
        from studies.cli.output import provenance

        args.json.write_text(json.dumps({**report, "provenance": provenance()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
