"""Encoders: values to SDRs whose overlap follows the values' similarity.

- :class:`ScalarEncoder`: a block of ``active_bits`` contiguous bits slides over ``size``
  bits as the value goes from ``minimum`` to ``maximum`` (values out of range are clipped,
  or wrap around when ``periodic``). Two values closer than one bucket share
  ``active_bits - 1`` bits.
- :class:`RandomDistributedScalarEncoder` (RDSE): bucket ``k = floor(value / resolution)``
  switches on bit ``hash(k + j) mod size`` for ``j = 0 .. active_bits - 1``, so buckets ``k``
  and ``k + d`` share ``active_bits - d`` bits (fewer on a hash collision) for any range of
  values, with no minimum or maximum to choose (the encoder of Numenta's NAB detector).
- :class:`CategoryEncoder`: one disjoint block of ``active_bits`` bits per category.
- :class:`DateEncoder`: time of day (periodic over 24 h), day of week (periodic over 7 days)
  and a weekend flag, each a block, concatenated in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from snn import validate
from snn.errors import ValidationError
from snn.htm.sdr import SDR, _whole

__all__ = ["CategoryEncoder", "DateEncoder", "RandomDistributedScalarEncoder", "ScalarEncoder", "splitmix64"]

_MASK = (1 << 64) - 1


def splitmix64(x: int) -> int:
    """SplitMix64's output function (Steele, Lea & Flood 2014): a 64-bit integer hash with
    full avalanche, used as the RDSE's bucket-to-bit hash and by the HTM kernels' random
    streams."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _pair(value: object, field: str) -> tuple[int, float]:
    """A (bits, radius) pair, or a ValidationError on ``field``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValidationError(field, f"must be a pair (active bits, radius), got {validate.shorten(value)}")
    bits = _whole(value[0], f"{field}[0]", low=0, high=10**6)
    radius = validate.finite(f"{field}[1]", value[1]) if bits else 1.0
    if bits and not radius > 0:
        raise ValidationError(f"{field}[1]", f"radius must be > 0, got {radius}")
    return bits, radius


@dataclass(frozen=True, kw_only=True)
class ScalarEncoder:
    """Contiguous block encoder.

    minimum, maximum:
        The encoded range (``minimum < maximum``), in the value's unit.
    size:
        Output bits (> ``active_bits``).
    active_bits:
        Bits on per value (>= 1).
    periodic:
        The range wraps (``maximum`` is ``minimum``): angles, time of day.
    """

    minimum: float
    maximum: float
    size: int = 400
    active_bits: int = 21
    periodic: bool = False

    def __post_init__(self) -> None:
        low = validate.finite("ScalarEncoder.minimum", self.minimum)
        high = validate.finite("ScalarEncoder.maximum", self.maximum)
        if not high > low:
            raise ValidationError("ScalarEncoder.maximum", f"must exceed minimum {low}, got {high}")
        active = _whole(self.active_bits, "ScalarEncoder.active_bits", low=1, high=10**8)
        _whole(self.size, "ScalarEncoder.size", low=active + 1, high=10**9)
        if not np.isfinite(high - low):
            raise ValidationError("ScalarEncoder.maximum", f"the range {low}..{high} overflows")

    @property
    def buckets(self) -> int:
        """Distinct codes: ``size`` when periodic, else ``size - active_bits + 1``."""
        return self.size if self.periodic else self.size - self.active_bits + 1

    def encode(self, value: float) -> SDR:
        """The SDR of ``value`` (clipped into the range unless periodic)."""
        x = validate.finite("ScalarEncoder.value", value)
        span = self.maximum - self.minimum
        if self.periodic:
            first = int(np.floor((x - self.minimum) % span / span * self.size)) % self.size
            return SDR(self.size, (first + np.arange(self.active_bits)) % self.size)
        fraction = min(max((x - self.minimum) / span, 0.0), 1.0)
        first = int(round(fraction * (self.buckets - 1)))
        return SDR(self.size, first + np.arange(self.active_bits))


@dataclass(frozen=True, kw_only=True)
class RandomDistributedScalarEncoder:
    """RDSE: hash-placed bits per bucket of width ``resolution`` (see the module docstring).

    resolution:
        Bucket width in the value's unit (> 0); values less than one bucket apart share
        ``active_bits - 1`` bits.
    size:
        Output bits (> ``active_bits``).
    active_bits:
        Bits on per value (>= 1), before hash collisions merge a few.
    seed:
        Selects the hash family; two encoders with the same seed agree bit for bit.
    """

    resolution: float
    size: int = 400
    active_bits: int = 21
    seed: int = 0

    def __post_init__(self) -> None:
        if not validate.finite("RandomDistributedScalarEncoder.resolution", self.resolution) > 0:
            raise ValidationError(
                "RandomDistributedScalarEncoder.resolution", f"must be > 0, got {self.resolution}"
            )
        active = _whole(self.active_bits, "RandomDistributedScalarEncoder.active_bits", low=1, high=10**6)
        _whole(self.size, "RandomDistributedScalarEncoder.size", low=active + 1, high=10**9)
        _whole(self.seed, "RandomDistributedScalarEncoder.seed", low=0)

    def bucket(self, value: float) -> int:
        """The bucket index of ``value``."""
        return int(np.floor(validate.finite("RandomDistributedScalarEncoder.value", value) / self.resolution))

    def encode(self, value: float) -> SDR:
        """The SDR of ``value``."""
        k = self.bucket(value)
        salt = splitmix64(self.seed)
        bits = {splitmix64(((k + j) & _MASK) ^ salt) % self.size for j in range(self.active_bits)}
        return SDR(self.size, np.fromiter(bits, dtype=np.int64, count=len(bits)))


@dataclass(frozen=True, kw_only=True)
class CategoryEncoder:
    """One block of ``active_bits`` bits per category (no overlap between categories).

    categories:
        The distinct category labels, in the order of their blocks.
    active_bits:
        Bits per category (>= 1).
    """

    categories: Sequence[object]
    active_bits: int = 21

    def __post_init__(self) -> None:
        _whole(self.active_bits, "CategoryEncoder.active_bits", low=1, high=10**6)
        if not isinstance(self.categories, (tuple, list)):
            raise ValidationError(
                "CategoryEncoder.categories",
                f"must be a list or tuple, got {validate.shorten(self.categories)}",
            )
        if len(self.categories) == 0:
            raise ValidationError("CategoryEncoder.categories", "needs at least one category")
        try:
            distinct = len(set(self.categories))
        except TypeError:
            raise ValidationError(
                "CategoryEncoder.categories", "each category must be hashable (a str, number, ...)"
            ) from None
        if distinct != len(self.categories):
            raise ValidationError("CategoryEncoder.categories", "holds a category twice")

    @property
    def size(self) -> int:
        """Output bits."""
        return len(self.categories) * self.active_bits

    def encode(self, category: object) -> SDR:
        """The SDR of ``category`` (an unknown category is an error)."""
        try:
            k = list(self.categories).index(category)
        except ValueError:
            raise ValidationError(
                "CategoryEncoder.category", f"{category!r} is not one of {list(self.categories)}"
            ) from None
        return SDR(self.size, k * self.active_bits + np.arange(self.active_bits))


@dataclass(frozen=True, kw_only=True)
class DateEncoder:
    """Time-of-day, day-of-week and weekend blocks (a block with 0 bits is left out).

    time_of_day:
        (active bits, radius in hours): periodic over 24 h with ``round(bits * 24 / radius)``
        output bits, so times one radius apart share no bit (NAB's detector: (21, 9.49)).
    day_of_week:
        (active bits, radius in days), periodic over 7 days.
    weekend:
        Bits of the weekend flag block (on for Saturday and Sunday), 2 x this many bits.
    """

    time_of_day: tuple[int, float] = (21, 9.49)
    day_of_week: tuple[int, float] = (0, 1.0)
    weekend: int = 0

    def __post_init__(self) -> None:
        _pair(self.time_of_day, "DateEncoder.time_of_day")
        _pair(self.day_of_week, "DateEncoder.day_of_week")
        _whole(self.weekend, "DateEncoder.weekend", low=0, high=10**6)
        if not (self.time_of_day[0] or self.day_of_week[0] or self.weekend):
            raise ValidationError("DateEncoder", "every block has 0 bits: nothing to encode")

    def _blocks(self) -> list[tuple[str, ScalarEncoder | CategoryEncoder]]:
        blocks: list[tuple[str, ScalarEncoder | CategoryEncoder]] = []
        bits, radius = _pair(self.time_of_day, "DateEncoder.time_of_day")
        if bits:
            size = max(bits + 1, int(round(bits * 24.0 / radius)))
            blocks.append(
                ("hour", ScalarEncoder(minimum=0.0, maximum=24.0, size=size, active_bits=bits, periodic=True))
            )
        bits, radius = _pair(self.day_of_week, "DateEncoder.day_of_week")
        if bits:
            size = max(bits + 1, int(round(bits * 7.0 / radius)))
            blocks.append(
                ("day", ScalarEncoder(minimum=0.0, maximum=7.0, size=size, active_bits=bits, periodic=True))
            )
        if self.weekend:
            blocks.append(("weekend", CategoryEncoder(categories=(False, True), active_bits=self.weekend)))
        return blocks

    @property
    def size(self) -> int:
        """Output bits."""
        return sum(encoder.size for _, encoder in self._blocks())

    def encode(self, timestamp: np.datetime64 | str) -> SDR:
        """The SDR of ``timestamp`` (a ``numpy.datetime64`` or an ISO string)."""
        try:
            t = np.datetime64(timestamp, "s")
        except (TypeError, ValueError):
            raise ValidationError("DateEncoder.timestamp", f"not a date and time: {timestamp!r}") from None
        if np.isnat(t):
            raise ValidationError("DateEncoder.timestamp", "is missing (NaT)")
        seconds = int((t - t.astype("datetime64[D]")).astype(np.int64))
        day = int(
            (t.astype("datetime64[D]").astype(np.int64) + 3) % 7
        )  # 1970-01-01 was a Thursday: Monday = 0
        values = {"hour": seconds / 3600.0, "day": day + seconds / 86400.0, "weekend": day >= 5}
        return SDR.concatenate(*(encoder.encode(values[name]) for name, encoder in self._blocks()))
