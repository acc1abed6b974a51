"""Worker threads for kernels that several threads run at once, meeting at
:func:`snn.kernels.sync.barrier` (see there for why not ``prange``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Result = TypeVar("Result")
# A worker on a core for less than this share of a run's wall time was taking turns with other
# threads (waiting at a barrier does not count against it: it spins on its core).
MIN_BUSY_FRACTION = 0.8


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
    """Up to ``count`` workers: worker 0 is the calling thread, the others a thread pool kept
    for repeated :meth:`run` calls. Use as a context manager (the pool closes on exit).

    ``sync`` is the kernels' barrier state (see :func:`snn.kernels.sync.barrier`).
    :attr:`busy_fraction` is, for the last :meth:`run`, the smallest share of its wall time
    a worker spent on a core: ~1 when every worker had a core (even while waiting, since
    waiters spin), lower when the workers had to take turns on busy cores.
    """

    def __init__(self, count: int) -> None:
        import numpy as np

        self.count = count
        self.sync = np.zeros(3, dtype=np.int64)  # arrivals, sense, abort
        self.busy_fraction = 1.0
        self._short_runs = 0
        self._pool = ThreadPoolExecutor(count - 1) if count > 1 else None

    def run(self, work: Callable[[int], Result], count: int | None = None) -> Result:
        """Call ``work(w)`` for workers ``w < count`` (default all) at once (the kernels must
        be ``nogil``); returns worker 0's result once all have finished. If a worker raises,
        the others are told to abort at their next barrier and the error is re-raised."""
        count = self.count if count is None else count
        shares = [1.0] * count

        def timed(worker: int) -> Result:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return work(worker)
            except BaseException:
                self.sync[2] = 1  # the waiters' spin loop reads it (an atomic load)
                raise
            finally:
                wall = time.perf_counter() - wall
                if wall > 0.0:
                    shares[worker] = (time.thread_time() - cpu) / wall

        others = [self._pool.submit(timed, w) for w in range(1, count)]
        try:
            return timed(0)
        finally:
            for other in others:
                other.result()
            self.busy_fraction = min(shares)

    def short_of_cores(self) -> bool:
        """After a :meth:`run` worth judging (not the first, which pays for starting the
        threads): whether this and the last judged run had a worker short of a core (the cores
        are busy elsewhere: more threads than free cores, parallel processes), so that the
        caller is better off going on with one worker."""
        self._short_runs = self._short_runs + 1 if self.busy_fraction < MIN_BUSY_FRACTION else 0
        return self._short_runs >= 2

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# After a trial block, the choice is tried again after this many judged blocks.
RECHECK_BLOCKS = 50
# A trial wins when it took less than this share of the current choice's time per step: one
# short block on a noisy machine is not enough evidence for a small difference.
WIN_FRACTION = 0.9


class WorkerChoice:
    """Block by block, whether a long run goes on with all of ``workers`` or with one.

    Every kernel run this way gives the same result bit for bit on any number of workers,
    so the choice is only about speed. A run starts on all workers and its first block is
    not judged (it pays for starting the threads); nor is a block cut short by the caller.
    One worker is the better choice

    - when the cores are busy elsewhere: :meth:`Workers.short_of_cores` (a worker on a core
      for less than ``MIN_BUSY_FRACTION`` of two judged blocks in a row);
    - when the machine steps lock-step threads slowly at the time, which shows only in the
      clock: on these VMs, periods minutes long make two workers meeting at a barrier every
      step about twice as slow while one thread is unaffected. So after the first judged
      block, one ``trial`` block runs on the other choice, and the run goes on with the
      trial's choice if that took less than ``WIN_FRACTION`` of the current one's time per
      step. The trial is repeated after ``RECHECK_BLOCKS`` judged blocks, or at once when the
      other's last trial would win against a block on the current choice (conditions changed
      mid-run).

    Use: ``count, steps = choice.plan(remaining)``, run ``steps`` steps (or fewer) on
    ``count`` workers, then ``choice.record(steps_done, seconds)``.
    """

    def __init__(self, workers: Workers, block: int, trial: int) -> None:
        self.workers = workers
        self.block = max(1, block)
        self.trial = max(1, min(trial, self.block))
        self.count = workers.count  # the choice so far
        self._planned = (self.count, self.block, False)  # count, steps, whether a trial
        self._blocks = 0
        self._until_trial = 1  # judged blocks on the current choice before the next trial
        self._seconds_per_step: dict[int, float] = {}  # of the last judged block on each count

    def _other(self, count: int) -> int:
        return 1 if count > 1 else self.workers.count

    def _wins(self, count: int, against: int) -> bool:
        """Whether the last judged block on ``count`` workers beats the one on ``against``."""
        times = self._seconds_per_step
        return times.get(count, float("inf")) < WIN_FRACTION * times.get(against, float("inf"))

    def plan(self, remaining: int) -> tuple[int, int]:
        """Workers and steps (at most ``remaining``) for the next block."""
        other = self._other(self.count)
        if other != self.count and self._until_trial == 0:
            self._planned = (other, min(self.trial, remaining), True)
        else:
            self._planned = (self.count, min(self.block, remaining), False)
        return self._planned[:2]

    def record(self, steps_done: int, seconds: float) -> None:
        """What the planned block did: ``steps_done`` steps in ``seconds`` of wall time."""
        count, planned, trial = self._planned
        judged = self._blocks > 0 and steps_done == planned and steps_done > 0
        self._blocks += 1
        if not judged:
            return
        self._seconds_per_step[count] = seconds / steps_done
        if count > 1 and self.workers.short_of_cores():
            self.count, self._until_trial = 1, RECHECK_BLOCKS
        elif trial:
            if self._wins(count, self.count):
                self.count = count
            self._until_trial = RECHECK_BLOCKS
        elif self._wins(self._other(count), count):
            self._until_trial = 0  # the other's last trial beats this block: try it again
        else:
            self._until_trial = max(0, self._until_trial - 1)
