"""Atomic file writing: a reader never sees a half-written file, a failure leaves none."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from snn.errors import ValidationError

#: Staging folders and temp files this process is writing now, so that an interrupt that
#: ends the process at once (the ``snn`` executable's, see :func:`abandon_and_exit`) can
#: remove them without unwinding the stack.
_being_written: dict[str, None] = {}
_swapping = 0  # > 0 while an output is being renamed into place (see _swap)
_exit_after_swap: list[tuple[int, str]] = []  # an exit asked for during a swap, made after it


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(stream)`` on a temp file beside ``path``, sync it, then rename it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    _being_written[temp] = None
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o666 & ~current_umask())  # mkstemp makes 0600; give the usual mode
        with _swap():  # an exit asked for now waits until the file is in place
            os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    finally:
        _being_written.pop(temp, None)
    return path


@contextlib.contextmanager
def _swap() -> Iterator[None]:
    """Renames that put an output in place: an exit asked for meanwhile waits for them."""
    global _swapping
    _swapping += 1
    try:
        yield
    finally:
        _swapping -= 1
        if not _swapping and _exit_after_swap:
            abandon_and_exit(*_exit_after_swap[0])


def abandon_and_exit(code: int, message: str = "") -> None:
    """End the process now with ``code``: delete every staging folder and temp file it was
    writing, print ``message`` to stderr, and ``os._exit`` without unwinding the stack.

    For a signal handler: an interrupt can land inside a C library's Python callback (llvmlite
    calls Python back while it links numba's cached code), where an exception would be
    swallowed and leave the library in a state that crashes the process (seen in CI:
    SIGTERM 0.6 s into ``snn simulate``, exit -11). Exiting from the handler unwinds nothing.
    If an output is being renamed into place, the exit waits until it is (a few system calls),
    so the destination is either the old output or the new one, never neither.
    """
    if _swapping:
        _exit_after_swap.append((code, message))
        return
    for path in list(_being_written):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            Path(path).unlink(missing_ok=True)
    if message:
        os.write(2, message.encode())
    os._exit(code)


#: A file every output directory written through :func:`staged` holds. An existing
#: directory is replaced whole only when it has one (or is empty), so ``--out .`` or
#: ``--out ~`` can never wipe a folder of the user's.
MARKER = ".snn-output"
_PARTIAL = "partial"  # staging: the new output being written
_OLD = "old"  # the previous output, moved aside for the swap


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _leftovers(out: Path, kind: str) -> list[Path]:
    """Staging folders of ``out`` of the given kind whose writing process has died."""
    prefix = f".{out.name}.{kind}-"  # then "<pid>-<random>"
    found = []
    for item in out.parent.glob(f"{glob.escape(prefix)}*"):
        pid = item.name.removeprefix(prefix).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            found.append(item)
    return found


def clean_leftovers(out: Path) -> None:
    """Remove what a killed run (SIGKILL, power loss) left beside ``out``.

    A half-written new output is deleted. If the run died between moving the old output
    aside and moving the new one in, the old one is put back.
    """
    for partial in _leftovers(out, _PARTIAL):
        shutil.rmtree(partial, ignore_errors=True)
    for aside in _leftovers(out, _OLD):
        previous = aside / out.name
        if previous.is_dir() and not out.exists():
            os.replace(previous, out)
        shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def staged(out: Path, field: str = "out") -> Iterator[Path]:
    """Yield a staging directory beside ``out``; on success it replaces ``out`` whole.

    The staging directory is named ``.<out>.partial-<pid>-<random>``: hidden, and plainly
    not a result. An existing ``out`` (which must be empty or carry :data:`MARKER`) is
    moved aside and the new one renamed in, so ``out`` never mixes files of two runs. If
    anything fails or the run is interrupted, ``out`` is left as it was; what a killed run
    leaves is cleaned by the next run into the same ``out``. ``field`` names ``out`` in errors.
    """
    out = Path(out)
    check_replaceable(out, field)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.{_PARTIAL}-{os.getpid()}-", dir=out.parent))
    _being_written[str(staging)] = None
    try:
        yield staging
        (staging / MARKER).write_text(
            "written by neurobridge; this folder is replaced whole by the next run\n"
        )
        staging.chmod(0o777 & ~current_umask())
        with _swap():
            if out.exists():
                aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.{_OLD}-{os.getpid()}-", dir=out.parent))
                os.replace(out, aside / out.name)
                os.replace(staging, out)
                shutil.rmtree(aside, ignore_errors=True)
            else:
                os.replace(staging, out)
    finally:
        _being_written.pop(str(staging), None)
        shutil.rmtree(staging, ignore_errors=True)


def check_replaceable(out: Path, field: str = "out") -> None:
    """Raise ValidationError unless ``out`` is absent, an empty folder or an earlier output."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError(field, f"{out} exists and is not a directory")
    if out.is_dir() and not (out / MARKER).exists() and any(out.iterdir()):
        raise ValidationError(
            field,
            f"{out} is a folder that neurobridge did not write (no {MARKER} file) and is not empty; "
            "an output folder is replaced whole, so give a new or empty one",
        )
