"""Medians of the old (00f2807) and new trees over the alternating rounds kept in this folder.

Run: ``python benchmarks/results/regression/summarise.py`` (prints the table in README.md).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

HERE = Path(__file__).parent
TABLES = (
    ("cuba", "ours_run_s", "`snn bench cuba --against none --repeats 5`, run s"),
    ("lif", "ours_s", "`benchmarks/lif_layer.py`, ours s (fwd+bwd)"),
    ("lif", "ours_over_floor", "`benchmarks/lif_layer.py`, ours / floor"),
)


def _load(kind: str, tree: str) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(HERE.glob(f"{kind}_{tree}_*.json"))]


def main() -> None:
    lines = ["| benchmark | size | old 00f2807 | new | new / old | rounds |", "|---|---|---:|---:|---:|---:|"]
    for kind, key, label in TABLES:
        old, new = _load(kind, "old"), _load(kind, "new")
        for index, row in enumerate(old[0]["results"]):
            before = statistics.median(run["results"][index][key] for run in old)
            after = statistics.median(run["results"][index][key] for run in new)
            shown = "{:.4f}" if key.endswith("_s") else "{:.3f}"
            lines.append(
                f"| {label} | {row['neurons']} | {shown.format(before)} | {shown.format(after)} "
                f"| {after / before:.3f} | {len(old)} + {len(new)} |"
            )
    for tree in ("old", "new"):
        runs = [json.loads(line) for line in (HERE / f"ours16k_{tree}.jsonl").read_text().splitlines()]
        ours = statistics.median(run["ours_med"] for run in runs)
        ratio = statistics.median(run["ours_med"] / run["floor_med"] for run in runs)
        lines.append(
            f"| focused 16384 ({tree}): ours s, ours / floor | {ours:.4f} | {ratio:.3f} | {len(runs)} |"
        )
    rates = sorted(
        {
            (tree, row["neurons"], row["ours_rate_hz"])
            for tree in ("old", "new")
            for run in _load("cuba", tree)
            for row in run["results"]
        }
    )
    lines.append(f"\nCUBA mean rates, both trees: {rates}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
