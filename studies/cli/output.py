"""Writing results: atomic files (temp + rename), JSON, and the short human table."""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from snn import atomic
from snn.atomic import write_atomic
from snn.errors import ValidationError

NAME_MAX = 255  # bytes in one path component (ext4, xfs, btrfs, tmpfs)
PATH_MAX = 4095


def path_argument(text: str) -> Path:
    """argparse ``type=`` for ``--out`` / ``--json``: an empty path is an error, not ``.``."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must be a path, got an empty string")
    return Path(text)


def check_writable(path: Path, field: str, directory: bool) -> None:
    """Raise ValidationError now if ``path`` could not be written at the end of the run.

    ``directory``: ``path`` is an output folder (replaced whole) rather than a file. Checks
    the name lengths, that what exists has the right kind, and that the nearest existing
    parent is a folder this process can create entries in (by creating and removing one,
    which also catches read-only mounts and ``/proc``).
    """
    path = Path(path)
    if not str(path).strip():
        raise ValidationError(field, "must be a path, got an empty string")
    absolute = Path(os.path.abspath(path))
    for part in absolute.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise ValidationError(
                field, f"a name in {path} is {len(os.fsencode(part))} bytes long; at most {NAME_MAX} allowed"
            )
    if len(os.fsencode(str(absolute))) > PATH_MAX:
        raise ValidationError(field, f"{path} is longer than {PATH_MAX} bytes")
    if directory:
        atomic.check_replaceable(path, field)
    elif path.is_dir():
        raise ValidationError(field, f"{path} is a directory; give a file name")
    parent = absolute.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValidationError(field, f"cannot write {path}: {parent} is not a directory")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".snn-write-check.", dir=parent))
    except OSError as error:
        raise ValidationError(field, f"cannot write {path}: {parent}: {error.strerror}") from None


def check_destinations(args: argparse.Namespace) -> None:
    """Check a command's ``--out`` folder and ``--json`` file before any work is done."""
    out = getattr(args, "out", None)
    if out is not None:
        # `snn deploy --out model.nir` names a file; every other --out is a folder
        check_writable(out, "--out", directory=Path(out).suffix.lower() != ".nir")
    target = getattr(args, "json", None)
    if target is not None:
        check_writable(target, "--json", directory=False)
        if out is not None and Path(os.path.abspath(target)).is_relative_to(os.path.abspath(out)):
            raise ValidationError("--json", f"{target} lies inside --out {out}, which is replaced whole")


def add_output_arguments(parser, command: str, what: str = "results") -> None:
    """The options every command shares: ``--out`` (default ``out/<command>``) and ``--json``
    (the ``what`` object also written to a file)."""
    parser.add_argument(
        "--out",
        type=path_argument,
        default=Path(f"out/{command}"),
        help=f"output directory (default out/{command})",
    )
    parser.add_argument("--json", type=path_argument, help=f"also write the {what} object here")


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


@functools.lru_cache(maxsize=1)
def provenance() -> dict:
    """What made a results file: the command line, the git commit of the code (with
    ``+dirty`` when the tree had changes; ``unknown`` outside a checkout), when, on what Python.
    Computed once per process, so every file of one run carries the same block."""
    import platform
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD") or "unknown"
    if commit != "unknown" and git("status", "--porcelain", "--untracked-files=no"):
        commit += "+dirty"
    program = "snn" if sys.argv[0].endswith("snn") else Path(sys.argv[0]).name
    return {
        "command": " ".join([program, *sys.argv[1:]]),
        "commit": commit,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
    }


def write_json(path: Path, data: dict) -> Path:
    """``data`` as JSON at ``path`` (atomically), with a ``provenance`` entry (:func:`provenance`)."""
    if isinstance(data, dict) and "provenance" not in data:
        data = {**data, "provenance": provenance()}
    text = json.dumps(_clean(data), indent=2, sort_keys=False) + "\n"
    return write_atomic(path, lambda stream: stream.write(text.encode()))


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (commands write figures, never show them)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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
