"""Writing results: atomic files (temp + rename), JSON, and the short human table."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from snn import atomic
from snn.atomic import write_atomic


def staged(out: Path):
    """:func:`snn.atomic.staged` for a command's ``--out`` directory."""
    return atomic.staged(out, field="--out")


def _clean(value: Any) -> Any:
    """JSON has no NaN: write it as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_json(path: Path, data: dict) -> Path:
    text = json.dumps(_clean(data), indent=2, sort_keys=False) + "\n"
    return write_atomic(path, lambda stream: stream.write(text.encode()))


def save_figure(path: Path, figure) -> Path:
    fmt = Path(path).suffix.lstrip(".") or "png"
    return write_atomic(path, lambda stream: figure.savefig(stream, dpi=120, format=fmt))


def table(rows: list[tuple[str, Any]]) -> str:
    """Two aligned columns: name and value (floats to 4 significant digits)."""
    width = max(len(name) for name, _ in rows)
    lines = []
    for name, value in rows:
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        lines.append(f"  {name:<{width}}  {text}")
    return "\n".join(lines)
