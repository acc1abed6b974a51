"""Firing-pattern classes from spike times (the test's reference for "same pattern").

Rules on the interspike intervals (ISIs), after Naud et al. (2008, Fig. 2-4) and Izhikevich
(2003, Fig. 2): a steady state whose ISIs still alternate short/long is bursting; a first
ISI much shorter than the steady one, reached by a jump, is an initial burst; ISIs that
shrink are accelerating, that grow are adapting; otherwise tonic.
"""

from __future__ import annotations

import numpy as np


def firing_pattern(spike_times: np.ndarray) -> str:
    times = np.sort(np.asarray(spike_times, dtype=np.float64))
    if times.size == 0:
        return "silent"
    if times.size <= 3:
        return "transient"
    isi = np.diff(times)
    tail = isi[isi.size // 2 :]
    if tail.max() > 3 * tail.min():
        return "bursting"
    steady = float(np.median(tail))
    jumps = isi[1:6] / isi[:5]
    if isi[0] < steady / 3 and jumps.max() > 3:
        return "initial burst"
    ratio = steady / isi[0]
    if ratio < 1 / 1.5:
        return "accelerating"
    if ratio > 1.75:  # Izhikevich's RS: 1.9; his FS, "practically without adaptation": 1.67
        return "adapting"
    return "tonic"


def matched_fraction(ours: np.ndarray, theirs: np.ndarray, tolerance: float) -> float:
    """The smaller of: the share of ``ours`` with a spike of ``theirs`` within ``tolerance``
    (s), and the reverse."""

    def share(a: np.ndarray, b: np.ndarray) -> float:
        if a.size == 0:
            return 1.0 if b.size == 0 else 0.0
        if b.size == 0:
            return 0.0
        where = np.clip(np.searchsorted(b, a), 1, b.size - 1) if b.size > 1 else np.zeros(a.size, dtype=int)
        nearest = np.minimum(np.abs(b[where] - a), np.abs(b[np.maximum(where - 1, 0)] - a))
        return float(np.mean(nearest <= tolerance))

    return min(share(ours, theirs), share(theirs, ours))
