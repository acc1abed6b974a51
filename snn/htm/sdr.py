"""Sparse distributed representations (SDRs): sparse binary vectors held as sorted index arrays.

An SDR of ``size`` bits with ``a`` of them on is stored as the sorted, unique ``int64``
indices of the on bits (``a`` is a few percent of ``size`` in HTM: 40 of 2048 columns).
Operations work on the index arrays directly (``numpy`` set routines on sorted input), so
their cost follows the number of on bits, not ``size``.

The chance that a random SDR matches a segment by accident is :func:`false_match_probability`
(Ahmad & Hawkins 2016, "How do neurons operate on sparse distributed representations?",
eq. 3): a segment samples ``s`` of a pattern's on bits and fires when at least ``theta`` of
them are on; a random SDR with ``a`` of ``n`` bits on matches it with probability

    P(overlap >= theta) = sum_{b=theta}^{min(s, a)} C(s, b) C(n - s, a - b) / C(n, a),

the upper tail of a hypergeometric distribution, summed here in log space (``gammaln`` and
``logsumexp``) so that n = 100 000 stays exact to rounding.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from snn import validate
from snn.errors import ValidationError

__all__ = ["SDR", "false_match_probability", "log_binomial"]


class SDR:
    """A sparse binary vector of ``size`` bits, the on bits kept as sorted unique indices.

    Parameters
    ----------
    size:
        Number of bits (>= 1).
    indices:
        The on bits, any order, each in ``[0, size)``; duplicates are an error (they would
        hide a bug in an encoder).
    """

    __slots__ = ("size", "indices")

    def __init__(self, size: int, indices: Iterable[int] | np.ndarray = ()) -> None:
        size = _whole(size, "SDR.size", low=1, high=2**40)
        if isinstance(indices, (str, bytes)) or not isinstance(indices, (Iterable, np.ndarray)):
            raise ValidationError(
                "SDR.indices", f"must be a sequence of bit indices, got {type(indices).__name__}"
            )
        try:
            on = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices)
        except (TypeError, ValueError, OverflowError):
            raise ValidationError("SDR.indices", "must be a flat sequence of whole numbers") from None
        if on.size and not np.issubdtype(on.dtype, np.integer):
            raise ValidationError("SDR.indices", f"must be integers, got dtype {on.dtype}")
        on = np.sort(on.astype(np.int64).ravel())
        if on.size and (on[0] < 0 or on[-1] >= size):
            bad = on[0] if on[0] < 0 else on[-1]
            raise ValidationError("SDR.indices", f"index {bad} is outside [0, {size})")
        if on.size > 1 and np.any(on[1:] == on[:-1]):
            dup = on[1:][on[1:] == on[:-1]][0]
            raise ValidationError("SDR.indices", f"index {dup} appears more than once")
        self.size = size
        self.indices = on
        self.indices.setflags(write=False)

    # ---- construction ------------------------------------------------------------
    @classmethod
    def from_dense(cls, bits: np.ndarray) -> SDR:
        """The SDR of a dense 0/1 (or bool) vector."""
        bits = np.asarray(bits)
        if bits.ndim != 1:
            raise ValidationError("SDR.dense", f"must be one-dimensional, got shape {bits.shape}")
        if bits.size and not np.all((bits == 0) | (bits == 1)):
            raise ValidationError("SDR.dense", "must hold only 0 and 1")
        return cls(bits.size, np.flatnonzero(bits))

    @classmethod
    def sample(cls, size: int, active: int, rng: np.random.Generator) -> SDR:
        """A uniformly random SDR with exactly ``active`` of ``size`` bits on."""
        size = _whole(size, "SDR.size", low=1)
        active = _whole(active, "SDR.active", low=1, high=size)
        return cls(size, rng.choice(size, size=active, replace=False))

    # ---- views -------------------------------------------------------------------
    @property
    def active(self) -> int:
        """Number of on bits."""
        return int(self.indices.size)

    @property
    def sparsity(self) -> float:
        """Fraction of bits on."""
        return self.active / self.size

    def dense(self) -> np.ndarray:
        """The bits as a bool vector of length ``size``."""
        bits = np.zeros(self.size, dtype=bool)
        bits[self.indices] = True
        return bits

    def require_active(self, field: str) -> SDR:
        """This SDR, or a :class:`ValidationError` on ``field`` when no bit is on."""
        if self.active == 0:
            raise ValidationError(field, f"the SDR of {self.size} bits is empty (no bit on)")
        return self

    # ---- set operations ----------------------------------------------------------
    def overlap(self, other: SDR) -> int:
        """Number of bits on in both."""
        self._same_size(other)
        return int(np.intersect1d(self.indices, other.indices, assume_unique=True).size)

    def intersection(self, other: SDR) -> SDR:
        """Bits on in both."""
        self._same_size(other)
        return SDR(self.size, np.intersect1d(self.indices, other.indices, assume_unique=True))

    def union(self, *others: SDR) -> SDR:
        """Bits on in any."""
        for other in others:
            self._same_size(other)
        return SDR(self.size, np.unique(np.concatenate([self.indices, *(o.indices for o in others)])))

    def subsample(self, count: int, rng: np.random.Generator) -> SDR:
        """``count`` of this SDR's on bits, chosen uniformly (a segment's synapses)."""
        count = _whole(count, "SDR.subsample.count", low=0, high=self.active)
        return SDR(self.size, rng.choice(self.indices, size=count, replace=False))

    @staticmethod
    def concatenate(*parts: SDR) -> SDR:
        """The parts side by side: part ``k``'s bits shifted by the sizes before it."""
        if not parts:
            raise ValidationError("SDR.concatenate", "needs at least one SDR")
        offsets = np.cumsum([0] + [p.size for p in parts])
        return SDR(
            int(offsets[-1]), np.concatenate([p.indices + o for p, o in zip(parts, offsets, strict=False)])
        )

    def _same_size(self, other: SDR) -> None:
        if not isinstance(other, SDR):
            raise ValidationError("SDR", f"expected an SDR, got {type(other).__name__}")
        if other.size != self.size:
            raise ValidationError("SDR.size", f"sizes differ: {self.size} and {other.size}")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SDR) and other.size == self.size and np.array_equal(other.indices, self.indices)
        )

    def __hash__(self) -> int:
        return hash((self.size, self.indices.tobytes()))

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        shown = ", ".join(str(i) for i in self.indices[:8]) + (", ..." if self.active > 8 else "")
        return f"SDR(size={self.size}, active={self.active}: [{shown}])"


def log_binomial(n: np.ndarray | int, k: np.ndarray | int) -> np.ndarray:
    """log C(n, k) through ``gammaln`` (exact to rounding for any n; -inf outside 0 <= k <= n)."""
    from scipy.special import gammaln

    n = np.asarray(n, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    inside = (k >= 0) & (k <= n)
    value = gammaln(n + 1) - gammaln(np.where(inside, k, 0) + 1) - gammaln(np.where(inside, n - k, 0) + 1)
    return np.where(inside, value, -np.inf)


def false_match_probability(n: int, a: int, s: int, theta: int) -> float:
    """P(a random SDR with ``a`` of ``n`` bits on has >= ``theta`` of a segment's ``s`` bits on).

    Parameters
    ----------
    n:
        Bits in the SDR (>= 1).
    a:
        Bits on in the random SDR, ``1 <= a <= n``.
    s:
        Synapses on the segment (bits it samples), ``1 <= s <= n``.
    theta:
        The segment's threshold, ``1 <= theta <= s``.

    Returns the probability (a float in [0, 1]); see the module docstring for the formula.
    Example (Ahmad & Hawkins 2016): ``false_match_probability(100_000, 2000, 6, 6)`` is
    about 6.35e-11.
    """
    from scipy.special import logsumexp

    n = _whole(n, "false_match_probability.n", low=1)
    a = _whole(a, "false_match_probability.a", low=1, high=n)
    s = _whole(s, "false_match_probability.s", low=1, high=n)
    theta = _whole(theta, "false_match_probability.theta", low=1)
    if theta > s:
        raise ValidationError(
            "false_match_probability.theta",
            f"threshold {theta} exceeds the segment's {s} synapses (allowed 1..s)",
        )
    b = np.arange(theta, min(s, a) + 1)
    if b.size == 0:
        return 0.0
    terms = log_binomial(s, b) + log_binomial(n - s, a - b) - log_binomial(n, a)
    return float(min(1.0, np.exp(logsumexp(terms))))


def _whole(value: object, field: str, low: int, high: int = validate.COUNT_MAX) -> int:
    """``value`` as an int in ``[low, high]``: :func:`snn.validate.count`, except that an
    integral float (``2.0``) is refused too, since the HTM records keep what they are given."""
    if isinstance(value, (float, np.floating)):
        raise ValidationError(field, f"must be a whole number, got {validate.shorten(value)}")
    return validate.count(field, value, low=low, high=high)
