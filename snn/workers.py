"""Worker threads for kernels that several threads run at once, meeting at
:func:`snn.kernels.sync.barrier` (see there for why not ``prange``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Result = TypeVar("Result")


def free_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def max_workers() -> int:
    """One worker per free core, capped by Numba's ``NUMBA_NUM_THREADS`` (the usual knob for
    how many threads Numba code may use)."""
    import numba

    return max(1, min(free_cores(), numba.config.NUMBA_NUM_THREADS))


def even_split(total: int, parts: int):
    """``parts + 1`` boundaries (int64) cutting ``range(total)`` into nearly equal contiguous pieces."""
    import numpy as np

    return (np.arange(parts + 1, dtype=np.int64) * total) // parts


class Workers:
    """``count`` workers: worker 0 is the calling thread, the others a thread pool kept for
    repeated :meth:`run` calls. Use as a context manager (the pool closes on exit).

    ``sync`` is the kernels' barrier state (see :func:`snn.kernels.sync.barrier`);
    :attr:`contended_waits` counts the barrier waits so far that had to yield their core.
    """

    def __init__(self, count: int) -> None:
        import numpy as np

        self.count = count
        self.sync = np.zeros(3, dtype=np.int64)
        self._pool = ThreadPoolExecutor(count - 1) if count > 1 else None

    @property
    def contended_waits(self) -> int:
        return int(self.sync[2])

    def run(self, work: Callable[[int], Result]) -> Result:
        """Call ``work(w)`` for every worker at once (the kernels must be ``nogil``); returns
        worker 0's result once all have finished."""
        others = [self._pool.submit(work, w) for w in range(1, self.count)] if self._pool else []
        try:
            return work(0)
        finally:
            for other in others:
                other.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
