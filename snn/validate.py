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
        raise ValidationError(field, f"must be a number, got {value!r}") from None
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


def count(field: str, value: Any, low: int = 1) -> int:
    """An integer >= ``low`` (sizes, in-degrees)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValidationError(field, f"must be an integer >= {low}, got {value!r}")
    if value < low:
        raise ValidationError(field, f"must be an integer >= {low}, got {value}")
    return int(value)


def finite_array(field: str, value: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A float64 array with no NaN or infinity, of the given shape when one is given."""
    raw = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if raw.dtype.kind not in "biuf":
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
    raw = np.asarray(value).ravel()
    if raw.size == 0 or raw.dtype.kind not in "iu":
        raise ValidationError(field, "must be a non-empty list of integer indices")
    if raw.min() < 0 or raw.max() >= size:
        raise ValidationError(field, f"must be in [0, {size - 1}]")
    return raw.astype(np.int64)


def name(field: str, value: Any) -> str:
    """A non-empty identifier-like name."""
    if not isinstance(value, str) or not value or not value.replace("_", "a").replace("-", "a").isalnum():
        raise ValidationError(
            field, f"must be a non-empty name of letters, digits, '_' or '-', got {value!r}"
        )
    return value


def steps(duration: Any, dt: Any) -> int:
    """``duration`` (s) as a whole number (>= 1) of steps of ``dt`` (s), rounded to nearest."""
    duration = positive("duration", duration)
    dt = positive("dt", dt)
    n_steps = int(round(duration / dt))
    if n_steps < 1:
        raise ValidationError("duration", f"must be at least one step (dt={dt} s), got {duration}")
    return n_steps
