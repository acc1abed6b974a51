"""The bilinear game f(x, y) = alpha x y for every two-player optimiser: the distance to the
equilibrium after 200 steps from (1, 1) for a range of step sizes, beside the closed forms
(simultaneous GDA: each step multiplies it by sqrt(1 + eta^2 alpha^2); CGD: divides by it;
extragradient: sqrt(1 - (eta alpha)^2 + (eta alpha)^4), below 1 while eta alpha < 1), and
the largest step size at which each still converges (bisection on the simulated distance:
below half the start after 2000 steps).

    python benchmarks/bilinear_game.py --json benchmarks/results/gan/bilinear_game.json
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path


def distance_after(name: str, eta: float, alpha: float = 1.0, steps: int = 200) -> float:
    from ann_bridge.games import bilinear, make

    game = bilinear(alpha)
    optimizer = make(name, [game.x], [game.y], lr_x=eta)
    for _ in range(steps):
        optimizer.step(game.f)
        if not math.isfinite(game.distance()) or game.distance() > 1e12:
            return math.inf
    return game.distance()


def largest_converging(name: str, low: float = 0.05, high: float = 100.0, rounds: int = 25,
                       steps: int = 2000) -> float | None:  # fmt: skip
    """The largest eta in [low, high] (log bisection) with the distance after ``steps`` steps below
    half its start (bounded orbits, as alternating GDA's, do not count); None when even
    ``low`` does not converge, ``high`` when every one does."""
    start = math.sqrt(2) / 2
    if distance_after(name, low, steps=steps) >= start:
        return None
    if distance_after(name, high, steps=steps) < start:
        return high
    for _ in range(rounds):
        middle = math.sqrt(low * high)
        low, high = (middle, high) if distance_after(name, middle, steps=steps) < start else (low, middle)
    return low


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    from ann_bridge.games import OPTIMIZERS

    etas = (0.01, 0.1, 0.5, 1.0, 2.0, 10.0)
    figures: dict = {
        "alpha": 1.0,
        "steps": 200,
        "start_distance": math.sqrt(2),
        "distance": {},
        "closed_form": {},
    }
    for name in OPTIMIZERS:
        figures["distance"][name] = {str(eta): distance_after(name, eta) for eta in etas}

    def after(log_factor: float) -> float:  # sqrt(2) * factor^200, inf past float range
        return math.sqrt(2) * math.exp(200 * log_factor) if 200 * log_factor < 700 else math.inf

    for eta in etas:
        figures["closed_form"][str(eta)] = {
            "gda": after(0.5 * math.log1p(eta**2)),
            "cgd": after(-0.5 * math.log1p(eta**2)),
            "extragradient": after(0.5 * math.log(1 - eta**2 + eta**4)),
        }
    figures["largest_converging_eta"] = {name: largest_converging(name) for name in OPTIMIZERS}
    print(f"{'optimizer':14s} " + " ".join(f"eta={eta:<8g}" for eta in etas) + "  largest converging eta")
    for name in OPTIMIZERS:
        row = " ".join(f"{figures['distance'][name][str(eta)]:<12.3g}" for eta in etas)
        print(f"{name:14s} {row}  {figures['largest_converging_eta'][name]}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
