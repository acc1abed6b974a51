"""Inputs: spike sources (which project like populations), injected currents and reward
schedules.

Spike sources are nodes of the network with a name and a size; projections start from
them exactly as from populations. Currents are injected into a named population and
add to the neurons' input current ``I`` (amperes). Rewards are delivered to a
reward-modulated learning projection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snn import validate
from snn.errors import ValidationError


def _rates(field_name: str, rate, size: int) -> np.ndarray:
    rates = validate.finite_array(field_name, rate)
    if rates.ndim == 0:
        from snn import resources

        resources.require(8.0 * size, f"one rate per channel of {size} channels", field=field_name)
        rates = np.full(size, float(rates))
    if rates.shape != (size,):
        raise ValidationError(field_name, f"must be a scalar or have shape ({size},), got {rates.shape}")
    if np.any(rates < 0):
        raise ValidationError(field_name, "must be >= 0 Hz")
    return rates


@dataclass(frozen=True, kw_only=True, eq=False)
class SpikeSourceBase:
    """Common fields of spike sources: ``name`` and ``size`` (number of channels)."""

    name: str
    size: int | None = None

    def __post_init__(self) -> None:
        kind = type(self).__name__
        object.__setattr__(self, "name", validate.name(f"{kind}.name", self.name))
        object.__setattr__(self, "size", validate.count(f"{kind}.size", self.size))


@dataclass(frozen=True, kw_only=True, eq=False)
class PoissonSource(SpikeSourceBase):
    """Independent Poisson spike trains, ``rate`` in Hz (scalar or one per channel).

    Simulated as a Bernoulli draw per step with probability ``rate * dt`` (at most one
    spike per step, as Brian2's PoissonGroup), so ``rate * dt`` must stay <= 1.
    """

    rate: object = 10.0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "rate", _rates("PoissonSource.rate", self.rate, self.size))


@dataclass(frozen=True, kw_only=True, eq=False)
class SpikeSource(SpikeSourceBase):
    """Given spike trains: ``times`` (s, >= 0) and channel ``ids`` (0 <= id < size)."""

    times: object = field(default_factory=lambda: np.zeros(0))
    ids: object = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        super().__post_init__()
        times = validate.finite_array("SpikeSource.times", self.times).ravel()
        ids = validate.as_array("SpikeSource.ids", self.ids).ravel()
        if ids.shape != times.shape:
            raise ValidationError(
                "SpikeSource.ids", f"must have the same length as times ({times.size}), got {ids.size}"
            )
        if ids.size and ids.dtype.kind not in "iu":
            raise ValidationError("SpikeSource.ids", f"must be integer channel indices, got {ids.dtype}")
        ids = ids.astype(np.int64)
        if np.any(times < 0):
            raise ValidationError("SpikeSource.times", "must be >= 0 s")
        if np.any((ids < 0) | (ids >= self.size)):
            raise ValidationError("SpikeSource.ids", f"must be in [0, {self.size - 1}]")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "ids", ids)


@dataclass(frozen=True, kw_only=True, eq=False)
class RateEncoder(SpikeSourceBase):
    """Rate coding: values in [0, 1] become Poisson rates ``value * max_rate`` (Hz).

    ``values`` has shape ``(size,)`` (held for the whole run) or ``(n_windows, size)``,
    each row held for ``window`` seconds; the last row is held after the end.
    """

    values: object = None
    max_rate: float = 100.0
    window: float = 0.1

    def __post_init__(self) -> None:
        values = validate.finite_array("RateEncoder.values", self.values)
        if values.ndim == 1:
            values = values[None, :]
        if values.ndim != 2:
            raise ValidationError("RateEncoder.values", f"must be 1-D or 2-D, got {values.ndim}-D")
        if self.size is None:
            object.__setattr__(self, "size", values.shape[1])
        super().__post_init__()
        if values.shape[1] != self.size:
            raise ValidationError(
                "RateEncoder.values", f"must have {self.size} columns, got {values.shape[1]}"
            )
        if np.any((values < 0) | (values > 1)):
            raise ValidationError("RateEncoder.values", "must be in [0, 1]")
        object.__setattr__(self, "max_rate", validate.non_negative("RateEncoder.max_rate", self.max_rate))
        object.__setattr__(self, "window", validate.positive("RateEncoder.window", self.window))
        object.__setattr__(self, "values", values)


@dataclass(frozen=True, kw_only=True, eq=False)
class LatencyEncoder(SpikeSourceBase):
    """Time-to-first-spike coding: value ``x`` in [0, 1] spikes once at ``(1 - x) * t_max``.

    Values at or below ``threshold`` do not spike. ``t_max`` in seconds.
    """

    values: object = None
    t_max: float = 0.05
    threshold: float = 0.0

    def __post_init__(self) -> None:
        values = validate.finite_array("LatencyEncoder.values", self.values).ravel()
        if self.size is None:
            object.__setattr__(self, "size", values.size)
        super().__post_init__()
        if values.shape != (self.size,):
            raise ValidationError(
                "LatencyEncoder.values", f"must have shape ({self.size},), got {values.shape}"
            )
        if np.any((values < 0) | (values > 1)):
            raise ValidationError("LatencyEncoder.values", "must be in [0, 1]")
        object.__setattr__(self, "t_max", validate.positive("LatencyEncoder.t_max", self.t_max))
        object.__setattr__(
            self, "threshold", validate.probability("LatencyEncoder.threshold", self.threshold)
        )
        object.__setattr__(self, "values", values)

    def spike_times(self) -> tuple[np.ndarray, np.ndarray]:
        """The encoded spikes as ``(times in s, channel ids)``."""
        ids = np.flatnonzero(self.values > self.threshold)
        return (1.0 - self.values[ids]) * self.t_max, ids


SPIKE_SOURCES = (PoissonSource, SpikeSource, RateEncoder, LatencyEncoder)


@dataclass(frozen=True, kw_only=True, eq=False)
class Current:
    """A current injected into population ``target`` (amperes).

    Build it with one of the constructors: :meth:`constant`, :meth:`step`, :meth:`array`.
    Internally a piecewise-constant schedule: ``times`` (s, increasing, first 0) and
    ``amplitudes`` of shape ``(len(times), n)`` where ``n`` is 1 (same for every target
    neuron) or the number of target neurons. ``neurons`` selects target indices
    (default: all).
    """

    target: str
    times: object
    amplitudes: object
    neurons: object = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", validate.name("Current.target", self.target))
        times = validate.finite_array("Current.times", self.times).ravel()
        amplitudes = validate.finite_array("Current.amplitudes", self.amplitudes)
        if amplitudes.ndim == 1:
            amplitudes = amplitudes[:, None]
        if times.size == 0 or times[0] != 0.0 or np.any(np.diff(times) <= 0):
            raise ValidationError("Current.times", "must start at 0 and increase strictly")
        if amplitudes.ndim != 2 or amplitudes.shape[0] != times.size:
            raise ValidationError(
                "Current.amplitudes",
                f"must have {times.size} rows (one per time), got shape {amplitudes.shape}",
            )
        if self.neurons is not None:
            neurons = validate.as_array("Current.neurons", self.neurons).ravel()
            if neurons.size == 0 or neurons.dtype.kind not in "iu":
                raise ValidationError("Current.neurons", "must be a non-empty list of integer indices")
            if amplitudes.shape[1] not in (1, neurons.size):
                raise ValidationError(
                    "Current.amplitudes", f"must have 1 or {neurons.size} columns (one per neuron)"
                )
            object.__setattr__(self, "neurons", neurons.astype(np.int64))
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "amplitudes", amplitudes)

    @classmethod
    def constant(cls, target: str, amplitude, neurons=None) -> Current:
        """A constant current (A), scalar or one value per target neuron."""
        return cls(
            target=target,
            times=[0.0],
            amplitudes=np.atleast_1d(validate.as_array("Current.amplitude", amplitude))[None, :],
            neurons=neurons,
        )

    @classmethod
    def step(cls, target: str, times, amplitudes, neurons=None) -> Current:
        """Piecewise constant: ``amplitudes[k]`` (A) from ``times[k]`` (s) on; 0 before ``times[0]``.

        ``amplitudes`` has one row per time: scalars, or one value per target neuron.
        """
        times = validate.finite_array("Current.times", times).ravel()
        amplitudes = validate.finite_array("Current.amplitudes", amplitudes)
        if amplitudes.ndim == 0:
            amplitudes = amplitudes[None]
        if times.size and times[0] > 0:
            times = np.concatenate([[0.0], times])
            zero = np.zeros((1,) + amplitudes.shape[1:])
            amplitudes = np.concatenate([zero, amplitudes])
        return cls(target=target, times=times, amplitudes=amplitudes, neurons=neurons)

    @classmethod
    def array(cls, target: str, values, interval: float, neurons=None) -> Current:
        """Sampled current: row ``k`` of ``values`` (A) holds from ``k * interval`` s on; the last
        row holds until the end of the run."""
        interval = validate.positive("Current.interval", interval)
        values = validate.finite_array("Current.values", values)
        if values.ndim == 0 or values.shape[0] == 0:
            raise ValidationError("Current.values", "must hold at least one row")
        times = np.arange(values.shape[0]) * interval
        return cls(target=target, times=times, amplitudes=values, neurons=neurons)


@dataclass(frozen=True, kw_only=True, eq=False)
class Reward:
    """A schedule of dopamine for a :class:`~snn.plasticity.RewardSTDP` projection: at
    ``times[k]`` (s, >= 0, non-decreasing), ``amounts[k]`` (dimensionless, any sign) is
    added to the projection's dopamine level, as :meth:`snn.Simulator.reward` would add it
    when the simulation reaches that time (rounded to a step ``round(t / dt)``; it acts on
    the weights from that step on). Amounts at one step add up.

    It is an input (open loop), so every backend that runs the rule runs it the same way;
    a reward that depends on the network's answers goes through :meth:`snn.Simulator.reward`
    between runs.
    """

    projection: str
    times: object
    amounts: object

    def __post_init__(self) -> None:
        object.__setattr__(self, "projection", validate.name("Reward.projection", self.projection))
        times = validate.finite_array("Reward.times", self.times).ravel()
        amounts = validate.finite_array("Reward.amounts", self.amounts).ravel()
        if times.size == 0:
            raise ValidationError("Reward.times", "must hold at least one time")
        if np.any(times < 0) or np.any(np.diff(times) < 0):
            raise ValidationError("Reward.times", "must be >= 0 s and non-decreasing")
        if amounts.shape != times.shape:
            raise ValidationError(
                "Reward.amounts", f"must hold one amount per time ({times.size}), got {amounts.size}"
            )
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "amounts", amounts)

    def steps(self, dt: float) -> np.ndarray:
        """The steps at which each amount arrives (``round(t / dt)``)."""
        return np.rint(self.times / dt).astype(np.int64)
