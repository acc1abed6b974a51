"""Peak memory of one e-prop gradient vs one BPTT gradient as the sequence grows.

Same LSNN, same batch, same inputs; e-prop (snn.learning.eprop, Numba, online: O(synapses)
state) against BPTT (ann_bridge.lsnn.bptt_gradients, torch autograd: every step's state kept
for the backward pass). Each (method, T) runs in a fresh process, which first builds the
network and inputs and runs the method once on a 10-step sequence (compiles, warms torch);
the figure is how far one gradient then raises the process's peak resident memory
(``ru_maxrss``) above that, i.e. what the gradient itself needs beyond its inputs. Both
methods run in float64.

    python benchmarks/eprop_memory.py --json benchmarks/results/eprop_memory.json \
        --plot benchmarks/results/eprop_memory.png
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

STEPS = (100, 300, 1000, 3000, 10000)
SIZES = {"n_in": 20, "n_lif": 50, "n_alif": 50, "n_out": 2}
BATCH = 8


def _inputs(steps: int):
    import numpy as np

    rng = np.random.default_rng(0)
    x = (rng.random((BATCH, steps, SIZES["n_in"])) < 0.05).astype(np.float64)
    target = np.zeros((BATCH, steps, SIZES["n_out"]))
    target[np.arange(BATCH) % 2 == 0, :, 0] = 1.0
    target[np.arange(BATCH) % 2 == 1, :, 1] = 1.0
    mask = np.zeros((BATCH, steps))
    mask[:, -min(steps, 50) :] = 1.0
    return x, target, mask


def measure(method: str, steps: int) -> dict:
    """Run in a child: build, warm up, then one gradient; report the peak-memory increase."""
    import numpy as np

    from snn.learning.eprop import EProp, gradients
    from snn.lsnn import LSNN, initial_weights

    lsnn = LSNN(**SIZES)
    weights = initial_weights(lsnn, np.random.default_rng(1), input_gain=3.0)
    if method == "eprop":
        rule = EProp()

        def gradient(x, target, mask):
            return gradients(rule, lsnn, weights, x, target, mask, "softmax").loss
    else:
        from ann_bridge.lsnn import bptt_gradients

        def gradient(x, target, mask):
            return bptt_gradients(lsnn, weights, x, target, mask, "softmax")[0]

    gradient(*_inputs(10))  # compile / warm up
    data = _inputs(steps)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    loss = gradient(*data)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "method": method,
        "steps": steps,
        "batch": BATCH,
        **SIZES,
        "loss": float(loss),
        "baseline_peak_mb": before / 1024,
        "gradient_extra_peak_mb": (after - before) / 1024,
        "inputs_mb": sum(a.nbytes for a in data) / 2**20,
    }


def _child(method: str, steps: int) -> dict:
    code = (
        "import json; from benchmarks.eprop_memory import measure; "
        f"print(json.dumps(measure({method!r}, {steps})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for method, style in (("eprop", "o-"), ("bptt", "s-")):
        mine = [r for r in rows if r["method"] == method]
        label = {"eprop": "e-prop (Numba, online)", "bptt": "BPTT (torch autograd)"}[method]
        peaks = [max(r["gradient_extra_peak_mb"], 0.05) for r in mine]
        ax.plot([r["steps"] for r in mine], peaks, style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T (steps)")
    ax.set_ylabel("peak memory of one gradient (MB, floor 0.05)")
    ax.set_title(f"LSNN {SIZES['n_lif']}+{SIZES['n_alif']} neurons, batch {BATCH}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", type=int, nargs="+", default=list(STEPS), help=f"sequence lengths (default {STEPS})"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--plot", type=Path, help="write the plot here (PNG)")
    args = parser.parse_args(argv)
    rows = []
    for steps in args.steps:
        for method in ("eprop", "bptt"):
            row = _child(method, steps)
            rows.append(row)
            extra, inputs = row["gradient_extra_peak_mb"], row["inputs_mb"]
            print(f"T = {steps:6d}  {method:5s}  +{extra:8.1f} MB  (inputs {inputs:.1f} MB)")
    if args.json:
        from studies.cli.output import provenance

        report = {"benchmark": "eprop_memory", "results": rows, "provenance": provenance()}
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    if args.plot:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
