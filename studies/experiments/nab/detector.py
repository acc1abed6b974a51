"""An HTM anomaly detector for NAB series: encoders -> spatial pooler -> temporal memory ->
anomaly likelihood, as Numenta's NAB detector ("numenta", NAB v1.1) composes them.

Per series (its settings are facts of that detector, cited per line; the code is ours):

- value: a random distributed scalar encoder (400 bits, 21 on) with resolution
  ``max(0.001, (max - min + 40 % padding) / 130)`` from the series' own range
  (nab/detectors/numenta/numenta_detector.py ``initialize``; nupic's
  ``getScalarMetricWithTimeOfDayAnomalyParams``: 130 buckets, minimum resolution 0.001);
  timestamp: time of day, 21 bits with a radius of 9.49 hours (same parameter file);
- spatial pooler: 2048 columns, 40 active, potential 80 %, connected at 0.2, +0.003/-0.0005,
  no boosting (best_single_metric_anomaly_params_cpp.json ``spParams``);
- temporal memory (:mod:`snn.htm.temporal_memory`), 2048 x 32 cells, by default with the
  values Numenta tuned for this algorithm (:data:`NUMENTA_TM`: NAB's "numentaTM" detector,
  best_single_metric_anomaly_params_tm_cpp.json: activation 20, min 13, initial 0.24,
  31 new synapses, +0.04/-0.008, punishment 0.001, 128 segments of up to 128 synapses);
  :class:`HtmDetectorSettings`' own defaults are the values of the "numenta" detector's
  backtracking TM (best_single_metric_anomaly_params_cpp.json: 13, 10, 0.21, 20, +-0.1, 32);
- score: the log anomaly likelihood of the raw anomaly (Ahmad et al. 2017,
  :mod:`snn.htm.likelihood`, learning period from the file's probationary period,
  one-sided tail as in the nupic version NAB's published numenta scores came from), set
  to 1 on a *spatial anomaly*: a value more than 5 % of the range seen so far outside it
  (numenta_detector.py ``SPATIAL_TOLERANCE``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn.htm import SDR, DateEncoder, RandomDistributedScalarEncoder, TemporalMemory, TemporalMemoryParameters
from snn.htm.likelihood import AnomalyLikelihood, log_likelihood
from snn.htm.spatial_pooler import SpatialPooler, SpatialPoolerParameters

__all__ = ["HtmDetector", "HtmDetectorSettings", "detect"]


@dataclass(frozen=True, kw_only=True)
class HtmDetectorSettings:
    """What :func:`detect` runs (defaults: Numenta's NAB detector, see the module docstring)."""

    value_bits: int = 400
    value_active_bits: int = 21
    buckets: int = 130
    min_resolution: float = 0.001
    range_padding: float = 0.2
    time_of_day: tuple[int, float] = (21, 9.49)
    columns: int = 2048
    active_columns: int = 40
    potential_pct: float = 0.8
    syn_perm_connected: float = 0.2
    syn_perm_active_inc: float = 0.003
    syn_perm_inactive_dec: float = 0.0005
    cells_per_column: int = 32
    activation_threshold: int = 13
    min_threshold: int = 10
    initial_permanence: float = 0.21
    max_new_synapses: int = 20
    permanence_increment: float = 0.1
    permanence_decrement: float = 0.1
    max_segments_per_cell: int = 128
    max_synapses_per_segment: int = 32
    predicted_segment_decrement: float = 0.0
    spatial_tolerance: float = 0.05
    use_likelihood: bool = True
    seed: int = 0


# the temporal-memory settings Numenta tuned for its new temporal memory, the one ours follows
# (NAB's "numentaTM" detector: nupic's best_single_metric_anomaly_params_tm_cpp.json "tmParams")
NUMENTA_TM = HtmDetectorSettings(
    activation_threshold=20, min_threshold=13, initial_permanence=0.24, max_new_synapses=31,
    permanence_increment=0.04, permanence_decrement=0.008, max_synapses_per_segment=128,
    predicted_segment_decrement=0.001,
)  # fmt: skip


class HtmDetector:
    """One series' detector: feed rows in order with :meth:`step`."""

    def __init__(self, minimum: float, maximum: float, n_rows: int, settings: HtmDetectorSettings) -> None:
        s = self.settings = settings
        if maximum == minimum:  # nupic: a constant series gets a range of 1
            maximum = minimum + 1.0
        padding = abs(maximum - minimum) * s.range_padding
        resolution = max(s.min_resolution, (maximum - minimum + 2 * padding) / s.buckets)
        self.value_encoder = RandomDistributedScalarEncoder(
            resolution=resolution, size=s.value_bits, active_bits=s.value_active_bits, seed=42 + s.seed
        )
        self.date_encoder = DateEncoder(time_of_day=s.time_of_day)
        input_size = self.date_encoder.size + s.value_bits
        self.pooler = SpatialPooler(
            SpatialPoolerParameters(
                input_size=input_size, columns=s.columns, active_columns=s.active_columns,
                potential_pct=s.potential_pct, syn_perm_connected=s.syn_perm_connected,
                syn_perm_active_inc=s.syn_perm_active_inc, syn_perm_inactive_dec=s.syn_perm_inactive_dec,
                boost_strength=0.0, seed=1956 + s.seed,
            )
        )  # fmt: skip
        self.memory = TemporalMemory(
            TemporalMemoryParameters(
                columns=s.columns, cells_per_column=s.cells_per_column,
                activation_threshold=s.activation_threshold, min_threshold=s.min_threshold,
                initial_permanence=s.initial_permanence, max_new_synapses=s.max_new_synapses,
                permanence_increment=s.permanence_increment, permanence_decrement=s.permanence_decrement,
                max_segments_per_cell=s.max_segments_per_cell,
                max_synapses_per_segment=s.max_synapses_per_segment,
                predicted_segment_decrement=s.predicted_segment_decrement, seed=1960 + s.seed,
            )
        )  # fmt: skip
        self.likelihood = AnomalyLikelihood.for_nab(n_rows, one_sided=True)
        self.seen_min: float | None = None
        self.seen_max: float | None = None

    def step(self, timestamp: np.datetime64, value: float) -> tuple[float, float]:
        """The row's (anomaly score in [0, 1], raw TM anomaly)."""
        encoded = SDR.concatenate(self.date_encoder.encode(timestamp), self.value_encoder.encode(value))
        raw = self.memory.compute(self.pooler.compute(encoded, learn=True), learn=True)
        spatial = False
        if self.seen_min is not None and self.seen_max != self.seen_min:
            tolerance = (self.seen_max - self.seen_min) * self.settings.spatial_tolerance
            spatial = value > self.seen_max + tolerance or value < self.seen_min - tolerance
        self.seen_min = value if self.seen_min is None else min(self.seen_min, value)
        self.seen_max = value if self.seen_max is None else max(self.seen_max, value)
        if self.settings.use_likelihood:
            score = float(log_likelihood(self.likelihood.update(raw, value)))
        else:
            score = raw
        return (1.0 if spatial and self.settings.spatial_tolerance > 0 else score), raw


def detect(timestamps: np.ndarray, values: np.ndarray, settings: HtmDetectorSettings | None = None,
           progress=None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Anomaly scores and raw anomalies (each shape ``(rows,)``) of one series, rows in order;
    ``progress(n)`` is called with the rows done every 100 rows when given. The default
    settings are :data:`NUMENTA_TM`: Numenta's tuning for the temporal memory ours follows
    (on the 31 shared NAB series: standard 64.2 with it, 58.9 with the backtracking-TM
    values of :class:`HtmDetectorSettings`' defaults)."""
    settings = settings if settings is not None else NUMENTA_TM
    values = np.asarray(values, dtype=np.float64)
    detector = HtmDetector(float(values.min()), float(values.max()), values.size, settings)
    scores, raws = np.zeros(values.size), np.zeros(values.size)
    for row in range(values.size):
        scores[row], raws[row] = detector.step(timestamps[row], float(values[row]))
        if progress is not None and (row + 1) % 100 == 0:
            progress(100)
    if progress is not None:
        progress(values.size % 100)
    return scores, raws
