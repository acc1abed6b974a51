"""Atomic file writing: a reader never sees a half-written file, a failure leaves none."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from snn.errors import ValidationError


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(stream)`` on a temp file beside ``path``, sync it, then rename it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o666 & ~current_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def staged(out: Path, field: str = "out") -> Iterator[Path]:
    """Yield a staging directory beside ``out``; on success it becomes ``out``.

    A new ``out`` appears in one rename. An existing ``out`` gets each staged file by an
    atomic rename (files of earlier runs that this run does not write stay). If anything
    fails while writing, ``out`` is left as it was. ``field`` names ``out`` in errors.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError(field, f"{out} exists and is not a directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield staging
        if not out.exists():
            staging.chmod(0o777 & ~current_umask())
            os.replace(staging, out)
        else:
            for item in staging.iterdir():
                _replace(item, out / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _replace(item: Path, target: Path) -> None:
    """Move ``item`` onto ``target``; a directory replaces a directory of the same name whole
    (its old version is moved aside first, then removed: a rename cannot overwrite a
    non-empty directory)."""
    if item.is_dir() and target.is_dir():
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, aside / target.name)
        os.replace(item, target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(item, target)
