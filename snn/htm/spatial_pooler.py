"""Spatial pooler: an input SDR to a fixed-sparsity SDR of columns, learned by Hebbian rules.

Each column samples a *potential pool* of the input (``potential_pct`` of the bits within
``potential_radius`` of its centre; the whole input when ``potential_radius`` covers it) with
a permanence per potential synapse, connected at ``syn_perm_connected``. Per step
(Hawkins, Ahmad & Cui 2017, "The HTM spatial pooler", Front. Comput. Neurosci. 11:111):

1. overlap_c = connected synapses of column c onto active input bits; score_c =
   overlap_c x boost_c + a fixed per-column tie-breaker in [0, 0.01) drawn from the seed, so
   that equal overlaps resolve the same way in every run;
2. **inhibition**: *global* — the ``active_columns`` columns with the highest boosted overlap;
   *local* — a column wins when fewer than ``round(local_density x neighbours)`` of the
   columns within ``inhibition_radius`` score higher; either way only columns with
   overlap >= ``stimulus_threshold`` (and > 0) win;
3. **learning** (when ``learn``): each winner's potential synapses onto active bits gain
   ``syn_perm_active_inc``, the others lose ``syn_perm_inactive_dec`` (clipped to [0, 1]);
   duty cycles are moving averages over ``duty_cycle_period`` steps of "won" and "overlap > 0";
   boost_c = exp(-boost_strength (active_duty_c - target density)); a column whose overlap
   duty cycle falls below ``min_pct_overlap_duty_cycles`` x the highest one has all its
   potential permanences raised by ``syn_perm_connected / 10``.

Initial permanences: half of each pool (at random) starts connected, uniform in
[connected, connected + 0.1), the rest uniform in [connected - 0.1, connected), clipped at 0.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import njit

from snn import validate
from snn.errors import ValidationError
from snn.htm.sdr import SDR, _whole

__all__ = ["SpatialPooler", "SpatialPoolerParameters"]

STATE_FORMAT = "neurobridge.spatial_pooler/2"


@dataclass(frozen=True, kw_only=True)
class SpatialPoolerParameters:
    """Spatial pooler settings (defaults: htm.core's, with NAB's detector sparsity of 40 of 2048).

    input_size, columns:
        Input bits and columns (>= 1), both one-dimensional.
    active_columns:
        Winners per step with global inhibition (1 .. columns).
    global_inhibition:
        Global (True) or local inhibition.
    local_density, inhibition_radius:
        Local inhibition: fraction of winners in a neighbourhood (0, 0.5], its radius in
        columns (>= 1).
    potential_radius, potential_pct:
        Input bits a column may sample: within ``potential_radius`` of its centre (>= 1;
        ``input_size`` for all), ``potential_pct`` of them ((0, 1]).
    stimulus_threshold:
        Minimum overlap to win (>= 0).
    syn_perm_connected, syn_perm_active_inc, syn_perm_inactive_dec:
        Permanence levels and steps ([0, 1]).
    boost_strength:
        0 turns boosting off (>= 0).
    duty_cycle_period, min_pct_overlap_duty_cycles:
        Steps of the duty-cycle averages (>= 1); weak-column threshold ([0, 1]).
    seed:
        Seed of the pools, initial permanences and tie-breakers (>= 0).
    """

    input_size: int
    columns: int = 2048
    active_columns: int = 40
    global_inhibition: bool = True
    local_density: float = 0.02
    inhibition_radius: int = 16
    potential_radius: int | None = None
    potential_pct: float = 0.85
    stimulus_threshold: int = 0
    syn_perm_connected: float = 0.1
    syn_perm_active_inc: float = 0.05
    syn_perm_inactive_dec: float = 0.008
    boost_strength: float = 0.0
    duty_cycle_period: int = 1000
    min_pct_overlap_duty_cycles: float = 0.001
    seed: int = 1

    def __post_init__(self) -> None:
        name = type(self).__name__
        _whole(self.input_size, f"{name}.input_size", low=1)
        _whole(self.columns, f"{name}.columns", low=1)
        _whole(self.active_columns, f"{name}.active_columns", low=1, high=self.columns)
        _whole(self.inhibition_radius, f"{name}.inhibition_radius", low=1)
        if self.potential_radius is not None:
            _whole(self.potential_radius, f"{name}.potential_radius", low=1)
        _whole(self.stimulus_threshold, f"{name}.stimulus_threshold", low=0)
        _whole(self.duty_cycle_period, f"{name}.duty_cycle_period", low=1)
        _whole(self.seed, f"{name}.seed", low=0)
        for field, low, high, open_low in (
            ("local_density", 0.0, 0.5, True), ("potential_pct", 0.0, 1.0, True),
            ("syn_perm_connected", 0.0, 1.0, False), ("syn_perm_active_inc", 0.0, 1.0, False),
            ("syn_perm_inactive_dec", 0.0, 1.0, False), ("min_pct_overlap_duty_cycles", 0.0, 1.0, False),
            ("boost_strength", 0.0, np.inf, False),
        ):  # fmt: skip
            value = validate.finite(f"{name}.{field}", getattr(self, field))
            if not low <= value <= high or (open_low and value == low):
                allowed = f"({low}, {high}]" if open_low else f"[{low}, {high}]"
                raise ValidationError(f"{name}.{field}", f"must be in {allowed}, got {value!r}")
            object.__setattr__(self, field, value)


class _Arrays(NamedTuple):
    potential: np.ndarray  # bool (columns, input_size)
    permanence: np.ndarray  # float32 (columns, input_size); 0 outside the pool
    # (input_size, columns): 1 where the synapse is connected; input-major, so one step's overlap
    # reads one contiguous row per active input bit (kept in step with ``permanence``)
    connected_by_input: np.ndarray  # uint8
    boost: np.ndarray  # float64 (columns,)
    tie_breaker: np.ndarray  # float64 (columns,), in [0, 0.01)
    active_duty: np.ndarray  # float64 (columns,)
    overlap_duty: np.ndarray  # float64 (columns,)
    iteration: np.ndarray  # int64 (1,): learning steps so far


class SpatialPooler:
    """A spatial pooler over :class:`SpatialPoolerParameters` (see the module docstring)."""

    def __init__(self, params: SpatialPoolerParameters) -> None:
        if not isinstance(params, SpatialPoolerParameters):
            raise ValidationError(
                "SpatialPooler.params", f"expected SpatialPoolerParameters, got {type(params).__name__}"
            )
        self.params = p = params
        rng = np.random.default_rng(p.seed)
        radius = p.input_size if p.potential_radius is None else p.potential_radius
        centres = ((np.arange(p.columns) + 0.5) * p.input_size / p.columns).astype(np.int64)
        potential = np.zeros((p.columns, p.input_size), dtype=bool)
        permanence = np.zeros((p.columns, p.input_size), dtype=np.float32)
        for c in range(p.columns):
            if 2 * radius + 1 >= p.input_size:
                window = np.arange(p.input_size)
            else:
                window = np.arange(centres[c] - radius, centres[c] + radius + 1) % p.input_size
            pool = rng.choice(window, size=max(1, int(round(p.potential_pct * window.size))), replace=False)
            potential[c, pool] = True
            connected = rng.random(pool.size) < 0.5
            values = np.where(
                connected,
                p.syn_perm_connected + 0.1 * rng.random(pool.size),
                p.syn_perm_connected - 0.1 * rng.random(pool.size),
            )
            permanence[c, pool] = np.clip(values, 0.0, 1.0)
        connected = _connected(potential, permanence, p.syn_perm_connected).T.astype(np.uint8)
        self._arrays = _Arrays(
            potential, permanence, np.ascontiguousarray(connected),
            np.ones(p.columns), 0.01 * rng.random(p.columns),
            np.zeros(p.columns), np.zeros(p.columns), np.zeros(1, dtype=np.int64),
        )  # fmt: skip

    def _scalars(self) -> tuple:
        p = self.params
        density = p.active_columns / p.columns if p.global_inhibition else p.local_density
        return (
            p.global_inhibition, p.active_columns, p.local_density, p.inhibition_radius,
            p.stimulus_threshold, p.syn_perm_connected, p.syn_perm_active_inc, p.syn_perm_inactive_dec,
            p.boost_strength, density, p.duty_cycle_period, p.min_pct_overlap_duty_cycles,
        )  # fmt: skip

    def compute(self, input_sdr: SDR | np.ndarray, learn: bool = True) -> SDR:
        """The active columns (an SDR of ``columns`` bits) for ``input_sdr`` (an SDR of
        ``input_size`` bits, or its sorted indices)."""
        p = self.params
        if isinstance(input_sdr, SDR):
            if input_sdr.size != p.input_size:
                raise ValidationError(
                    "SpatialPooler.input", f"SDR of {input_sdr.size} bits, expected {p.input_size}"
                )
            on = input_sdr.indices
        else:
            on = SDR(p.input_size, input_sdr).indices
        winners = _compute(self._arrays, self._scalars(), on, bool(learn))
        return SDR(p.columns, winners)

    @property
    def boost(self) -> np.ndarray:
        """Boost factor per column."""
        return self._arrays.boost.copy()

    @property
    def active_duty_cycles(self) -> np.ndarray:
        """Moving average of each column's wins."""
        return self._arrays.active_duty.copy()

    def connected(self) -> np.ndarray:
        """bool (columns, input_size): connected synapses."""
        return _connected(self._arrays.potential, self._arrays.permanence, self.params.syn_perm_connected)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the whole state to ``path`` (.npz; temp file, then rename)."""
        from snn.atomic import write_atomic

        header = json.dumps({"format": STATE_FORMAT, "params": asdict(self.params)})
        return write_atomic(
            Path(path), lambda h: np.savez(h, header=np.array(header), **self._arrays._asdict())
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> SpatialPooler:
        """The spatial pooler :meth:`save` wrote; continues bit for bit."""
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("format") != STATE_FORMAT:
                raise ValidationError("SpatialPooler.load", f"{path} is not a spatial pooler state")
            names = {f.name for f in fields(SpatialPoolerParameters)}
            params = SpatialPoolerParameters(**{k: v for k, v in header["params"].items() if k in names})
            sp = cls.__new__(cls)
            sp.params = params
            sp._arrays = _Arrays(**{name: data[name].copy() for name in _Arrays._fields})
        return sp


def _connected(potential: np.ndarray, permanence: np.ndarray, threshold: float) -> np.ndarray:
    """bool (columns, input_size): potential synapses at or above ``threshold``, compared in
    float64 as :func:`_compute` compares (a float32 threshold such as 0.7 rounds down)."""
    return potential & (permanence.astype(np.float64) >= threshold)


@njit(cache=True)
def _compute(a, scalars, on, learn):
    (global_inhibition, n_winners, local_density, radius, stimulus_threshold, connected, active_inc,
     inactive_dec,
     boost_strength, density, duty_period, min_pct_overlap) = scalars  # fmt: skip
    n_columns, n_inputs = a.permanence.shape
    overlap = np.zeros(n_columns, dtype=np.int64)
    for i in on:
        row = a.connected_by_input[i]
        for c in range(n_columns):
            overlap[c] += row[c]
    score = overlap * a.boost + a.tie_breaker
    eligible = (overlap >= stimulus_threshold) & (overlap > 0)
    winners = np.zeros(n_columns, dtype=np.bool_)
    if global_inhibition:  # the n_winners best eligible scores (all distinct: the tie-breaker)
        candidates = np.flatnonzero(eligible)
        if candidates.size > n_winners:
            best = np.argpartition(-score[candidates], n_winners - 1)[:n_winners]
            candidates = candidates[best]
        for c in candidates:
            winners[c] = True
    else:
        for c in range(n_columns):
            if not eligible[c]:
                continue
            first, last = max(0, c - radius), min(n_columns - 1, c + radius)
            allowed = max(1, int(round(local_density * (last - first + 1))))
            higher = 0
            for other in range(first, last + 1):
                if score[other] > score[c]:
                    higher += 1
            winners[c] = higher < allowed
    if learn:
        input_on = np.zeros(n_inputs, dtype=np.bool_)
        for i in on:
            input_on[i] = True
        for c in range(n_columns):
            if not winners[c]:
                continue
            for i in range(n_inputs):
                if a.potential[c, i]:
                    value = np.float64(a.permanence[c, i]) + (active_inc if input_on[i] else -inactive_dec)
                    a.permanence[c, i] = min(max(value, 0.0), 1.0)
                    a.connected_by_input[i, c] = a.permanence[c, i] >= connected
        a.iteration[0] += 1
        period = min(a.iteration[0], duty_period)
        highest = 0.0
        for c in range(n_columns):
            a.active_duty[c] = (a.active_duty[c] * (period - 1) + (1.0 if winners[c] else 0.0)) / period
            a.overlap_duty[c] = (a.overlap_duty[c] * (period - 1) + (1.0 if overlap[c] > 0 else 0.0)) / period
            highest = max(highest, a.overlap_duty[c])
        for c in range(n_columns):
            if boost_strength > 0.0:
                a.boost[c] = np.exp(-boost_strength * (a.active_duty[c] - density))
            if a.overlap_duty[c] < min_pct_overlap * highest:
                for i in range(n_inputs):
                    if a.potential[c, i]:
                        a.permanence[c, i] = min(np.float64(a.permanence[c, i]) + connected / 10.0, 1.0)
                        a.connected_by_input[i, c] = a.permanence[c, i] >= connected
    return np.flatnonzero(winners)
