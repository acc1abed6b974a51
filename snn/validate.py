"""Small checks shared by every model object; each raises ValidationError naming the field."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from snn.errors import ValidationError


def finite(field: str, value: Any) -> float:
    """Return ``value`` as a float, rejecting NaN, infinities and non-numbers."""
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise ValidationError(field, f"must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(field, f"must be a number, got {shorten(value)}") from None
    except OverflowError:  # an integer of hundreds of digits
        raise ValidationError(
            field, f"must be a finite number, got an integer of {len(str(value))} digits"
        ) from None
    if not math.isfinite(number):
        raise ValidationError(field, f"must be finite, got {number}")
    return number


def positive(field: str, value: Any) -> float:
    """A finite number > 0 (time constants, durations, rates of change)."""
    number = finite(field, value)
    if number <= 0:
        raise ValidationError(field, f"must be > 0, got {number}")
    return number


def non_negative(field: str, value: Any) -> float:
    """A finite number >= 0 (refractory periods, delays, rates)."""
    number = finite(field, value)
    if number < 0:
        raise ValidationError(field, f"must be >= 0, got {number}")
    return number


def probability(field: str, value: Any) -> float:
    """A number in [0, 1]."""
    number = finite(field, value)
    if not 0.0 <= number <= 1.0:
        raise ValidationError(field, f"must be in [0, 1], got {number}")
    return number


#: Largest count any field takes: counts become int64 indices inside the kernels
COUNT_MAX = 2**62


def count(field: str, value: Any, low: int = 1, high: int = COUNT_MAX) -> int:
    """An integer in ``[low, high]`` (sizes, in-degrees, probe intervals)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        else:
            raise ValidationError(field, f"must be an integer >= {low}, got {shorten(value)}")
    if not low <= value <= high:
        raise ValidationError(field, f"must be an integer in [{low}, {high}], got {shorten(value)}")
    return int(value)


def flag(field: str, value: Any) -> bool:
    """A real boolean: ``"no"`` or ``0`` are not flags (``bool("no")`` is True)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(field, f"must be true or false, got {shorten(value)}")
    return bool(value)


def choice(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    """One of the strings ``allowed`` (an array, a number or another string is refused)."""
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(field, f"must be one of {allowed}, got {shorten(value)}")
    return value


def shorten(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, so a 100 000-character value gives one line."""
    text = (
        repr(value)
        if not isinstance(value, int) or value.bit_length() < 200
        else f"<{len(str(value))}-digit integer>"
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_array(field: str, value: Any) -> np.ndarray:
    """``np.asarray(value)``, with ragged lists and unconvertible objects as ValidationError."""
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except (ValueError, TypeError, OverflowError) as error:
        raise ValidationError(
            field, f"must be a scalar or a rectangular array of numbers ({error})"
        ) from None


def finite_array(field: str, value: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A float64 array with no NaN or infinity, of the given shape when one is given."""
    raw = as_array(field, value)
    if raw.dtype.kind not in "iuf":  # not "b": true is not a weight of 1
        raise ValidationError(field, f"must be an array of numbers, got {raw.dtype} values")
    array = raw.astype(np.float64, copy=False)
    if shape is not None and array.shape != shape:
        raise ValidationError(field, f"must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise ValidationError(field, f"must be finite; {bad} NaN or infinite entries")
    return array


def indices(field: str, value: Any, size: int) -> np.ndarray:
    """A non-empty 1-D array of integer indices in ``[0, size)``."""
    raw = as_array(field, value).ravel()
    if raw.size == 0 or raw.dtype.kind not in "iu":
        raise ValidationError(field, "must be a non-empty list of integer indices")
    if raw.min() < 0 or raw.max() >= size:
        raise ValidationError(field, f"must be in [0, {size - 1}]")
    return raw.astype(np.int64)


#: Longest name: names become file names (``<name>.nir``) and HDF5 keys
NAME_MAX = 100


def name(field: str, value: Any) -> str:
    """A non-empty identifier-like name of at most :data:`NAME_MAX` characters."""
    if not isinstance(value, str) or not value or not value.replace("_", "a").replace("-", "a").isalnum():
        raise ValidationError(
            field, f"must be a non-empty name of letters, digits, '_' or '-', got {shorten(value)}"
        )
    if len(value) > NAME_MAX:
        raise ValidationError(field, f"must be at most {NAME_MAX} characters, got {len(value)}")
    return value


def steps(duration: Any, dt: Any) -> int:
    """``duration`` (s) as a whole number (>= 1) of steps of ``dt`` (s), rounded to nearest."""
    duration = positive("duration", duration)
    dt = positive("dt", dt)
    ratio = duration / dt
    if not ratio <= COUNT_MAX:
        raise ValidationError(
            "duration",
            f"duration / dt must be at most {COUNT_MAX} steps, got {duration} s / {dt} s = {ratio:.3g}",
        )
    n_steps = int(round(ratio))
    if n_steps < 1:
        raise ValidationError("duration", f"must be at least one step (dt={dt} s), got {duration}")
    return n_steps
