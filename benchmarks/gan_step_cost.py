"""Cost of one two-player step on the digits GAN: CGD and ACGD against Adam (and the other
gradient methods), same networks (the DCGAN-size pair of studies.experiments.gan_runs), same
batch, the WGAN loss; median wall time per step over ``--steps`` steps after a warm-up, and
the mean CG iterations per step. CPU here (the code is device-agnostic: pass --device cuda).

    python benchmarks/gan_step_cost.py --json benchmarks/results/gan_step_cost.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=30, help="timed steps per optimiser (default 30)")
    parser.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
    parser.add_argument("--device", default=None, help="torch device (default: ann_bridge.device())")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from ann_bridge import device as default_device
    from ann_bridge.games import make
    from ann_bridge.gan import Loss
    from studies.experiments.datasets import load
    from studies.experiments.gan_runs import DEFAULT_LR, _networks

    device = torch.device(args.device) if args.device else default_device()
    digits = torch.from_numpy(load("digits", 0).x_train * 2 - 1).to(device)
    rng = np.random.default_rng(0)
    loss = Loss("wgan")
    figures: dict[str, object] = {
        "batch": args.batch,
        "device": str(device),
        "threads": args.threads,
        "loss": "wgan",
    }
    for name in ("adam", "gda", "ogda", "extragradient", "cgd", "acgd"):
        torch.manual_seed(0)
        generator, discriminator = (net.to(device) for net in _networks("digits", "wgan"))
        opt = make(
            name, list(generator.parameters()), list(discriminator.parameters()), lr_x=DEFAULT_LR[name]
        )
        times, iterations = [], []
        for step in range(args.steps + 5):
            x = digits[torch.from_numpy(rng.integers(len(digits), size=args.batch)).to(device)]
            z = torch.randn(args.batch, generator.latent, device=device)
            started = time.perf_counter()
            zero_sum = opt.zero_sum_only
            info = opt.step(
                lambda x=x, z=z, g=generator, d=discriminator, zs=zero_sum: loss.game(g, d, x, z, zero_sum=zs)
            )
            if step >= 5:  # warm-up excluded
                times.append(time.perf_counter() - started)
                iterations.append(info.cg_iterations)
        figures[f"{name}_seconds_per_step"] = statistics.median(times)
        figures[f"{name}_cg_iterations_per_step"] = float(np.mean(iterations))
        print(f"{name:14s} {statistics.median(times) * 1e3:8.1f} ms/step  CG {np.mean(iterations):5.1f}")
    for name in ("cgd", "acgd", "gda", "ogda", "extragradient"):
        figures[f"{name}_over_adam"] = figures[f"{name}_seconds_per_step"] / figures["adam_seconds_per_step"]
    n_g, n_d = (sum(p.numel() for p in net.parameters()) for net in _networks("digits", "wgan"))
    figures["parameters_generator"], figures["parameters_discriminator"] = n_g, n_d
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
