"""One LIF layer of 16384 neurons, forward + backward, against its dense floor (issue 15).

``benchmarks/lif_layer.py``'s 16384 row was bimodal on this machine; this re-times that row
alone, 7 repeats per process after a warm-up, and prints one JSON line:
``python benchmarks/results/regression/lif_layer_16k.py 16384 >> ours16k_new.jsonl``.
The network is the one in ``benchmarks/lif_layer.py`` (500 steps, batch 16, 128 inputs).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import torch

import snn
from ann_bridge.layers import SpikingLinear


def timed(step, repeats: int = 7) -> list[float]:
    """Wall seconds of ``step()`` after one warm-up call."""
    step()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    return seconds


def main(neurons: int) -> None:
    torch.manual_seed(0)
    spikes_in = (torch.rand(500, 16, 128) < 0.1).float()
    membrane_tau = -1e-3 / torch.log(torch.tensor(0.95)).item()  # decay 0.95 per 1 ms step
    model = snn.LIF(tau_mem=membrane_tau, v_rest=0.0, v_reset=0.0, v_th=1.0, tau_ref=0.0, reset="subtract")
    ours = SpikingLinear(128, neurons, model, snn.Delta(), dt=1e-3)
    floor = torch.nn.Linear(128, neurons, bias=False)
    ours_s = timed(lambda: ours(spikes_in).sum().backward())
    floor_s = timed(lambda: floor(spikes_in).sum().backward())
    record = {"tree": snn.__file__, "ours": ours_s, "floor": floor_s}
    record.update(ours_med=statistics.median(ours_s), floor_med=statistics.median(floor_s))
    print(json.dumps(record))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 16384)
