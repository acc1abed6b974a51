"""Writing results: atomic files (temp + rename), JSON, and the short human table."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from snn.atomic import current_umask, write_atomic
from snn.errors import ValidationError


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Yield a staging directory beside ``out``; on success it becomes ``out``.

    A new ``out`` appears in one rename. An existing ``out`` gets each staged file by an
    atomic rename (files of earlier runs that this run does not write stay). If anything
    fails while writing, ``out`` is left as it was.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError("--out", f"{out} exists and is not a directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield staging
        if not out.exists():
            staging.chmod(0o777 & ~current_umask())
            os.replace(staging, out)
        else:
            for item in staging.iterdir():
                os.replace(item, out / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
