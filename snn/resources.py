"""Memory budgets: estimate what a job needs before allocating it, refuse in one line.

A network of 10^12 synapses or a probe over 10^9 steps must not start and grow until the
operating system kills it or numpy raises ``MemoryError`` mid-run. Every allocation that
scales with user input (connectivity, state, ring buffers, probe and spike records,
loaded files) is estimated first and checked here against what this process may still
allocate: the smaller of the free RAM (``MemAvailable``) and the room left under the
address-space limit (``ulimit -v``, ``RLIMIT_AS``).
"""

from __future__ import annotations

from snn.errors import ValidationError

#: Share of the available memory one job may plan to use (numpy temporaries, the
#: interpreter and the JIT need the rest).
USABLE_SHARE = 0.8


class ResourceLimit(ValidationError):
    """A job would need more memory than this process can allocate.

    A :class:`ValidationError`, so the CLI reports it as bad input (exit 2, one line).
    """


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as stream:
            for line in stream:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _address_space_left() -> int | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    used = 0
    try:
        with open("/proc/self/status", encoding="ascii") as stream:
            for line in stream:
                if line.startswith("VmSize:"):
                    used = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    return max(soft - used, 0)


def available_bytes() -> int | None:
    """Bytes this process may still allocate, or None when neither limit can be read."""
    limits = [v for v in (_meminfo_available(), _address_space_left()) if v is not None]
    if not limits:
        return None
    return int(min(limits) * USABLE_SHARE)


def human(nbytes: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def require(nbytes: float, what: str, field: str = "memory") -> None:
    """Raise :class:`ResourceLimit` if ``nbytes`` (an estimate) exceeds what is available.

    Parameters
    ----------
    nbytes:
        Estimated bytes the job will allocate (a float: estimates may exceed 2^63).
    what:
        What needs it, e.g. ``"the synapses of projections[0] (10^12 x 16 B)"``.
    field:
        The field to blame in the error (e.g. ``"--neurons"`` or ``"populations[0].size"``).
    """
    available = available_bytes()
    if available is None or nbytes <= available:
        return
    raise ResourceLimit(
        field,
        f"{what} needs about {human(nbytes)} but only {human(available)} is available "
        f"(free RAM and ulimit -v); make it smaller",
    )
