"""HTM anomaly likelihood (Ahmad, Lavin, Purdy & Agha 2017, Neurocomputing 262, 134-147).

A stream of raw anomaly scores ``s_t`` in [0, 1] (e.g. the fraction of active columns a
temporal memory did not predict) becomes an anomaly *likelihood* ``L_t`` in [0, 1]:

* short-term average: ``m_t = (s_{t-k+1} + ... + s_t) / k`` with ``k = min(W', n)``, the
  last ``W' = averaging_window`` (default 10) scores, fewer while fewer have been seen;
* a Gaussian fitted to the averages ``m`` of the last ``W = historic_window`` (default
  8640) records, less those still inside the learning period:
  ``mu = max(mean(m), 0.03)``, ``sigma^2 = max(var(m), 0.0003)`` (population variance);
  it is refitted every ``reestimation_period`` (default 100) records;
* ``q_t = Q(|m_t - mu| / sigma)`` with ``Q`` the Gaussian tail. The final reference
  (nupic >= 0.6.0, commit f664d4032) reflects averages below the mean, so unusually *low*
  averages count as much as high ones and ``L_t >= 0.5``; this is the default. With
  ``one_sided=True``, ``q_t = Q((m_t - mu) / sigma)``: the paper's formula and nupic <= 0.5.7,
  which made NAB's published ``results/numenta`` scores; low averages then give ``L_t < 0.5``;
* filtering: two tail probabilities in a row in the red zone (``q <= 1e-5``) report the
  second as the yellow-zone value ``1e-3``, so only the onset of an anomaly reaches red;
* ``L_t = 1 - filtered(q_t)``, and ``L_t = 0.5`` for the first
  ``learning_period + estimation_samples`` records (the probationary period).

An anomaly is flagged when ``L_t >= 1 - epsilon`` (:func:`is_anomaly`, epsilon = 1e-5,
the reference's red zone). NAB's detector reports :func:`log_likelihood` instead, which
spreads ``L`` over [0, 1] on a log scale.

The semantics are those of Numenta's reference implementation, read at
numenta/nupic b9ebedaf54f49a33de22d8d44dff7c765cdb5548,
``src/nupic/algorithms/anomaly_likelihood.py`` (cited below as ``al.py:LINE``) and
``src/nupic/utils.py``, and of NAB's numenta detector at numenta/NAB
ea702d75cc2258d9d7dd35ca8e5e2539d71f3140. The code here is an independent one that
reproduces the reference's results bit for bit (same floating-point operations in the same
order), including its quirks:

* the Q function is ``0.5 * erfc(z / 1.4142)`` (al.py:763), not ``erfc(z / sqrt(2))``: ``Q``
  of ``z`` times ``1.0000151``, a relative error of ``~1.5e-5 z^2`` in the tail;
* at every refit the short-term average is recomputed from scratch over the historic
  window, the first ``W' - 1`` averages of that window covering fewer than ``W'`` scores
  (al.py:460-463, 648-684) and the running sum restarting from zero (utils.py:64-82);
* the records skipped from the fit are those of the learning period still in the window:
  ``min(n, max(0, learning_period - max(0, n - W)))`` after ``n`` records (al.py:240-258);
* if every record in the window carries a metric value and those values (less the skipped
  ones) have a variance below ``1.5e-5``, the fit is replaced by a very broad one (mean 0.5,
  sigma 1000) so that a flat metric is never anomalous (al.py:473-486, 724-738). Pass the
  metric ``value`` to :meth:`AnomalyLikelihood.update` to get this; without one the check
  is skipped, as in the reference when a value is not a number;
* with no record left after skipping, the fit is that broad one too (al.py:468-469);
* the first fit is made at record ``learning_period + estimation_samples`` (counting from 0),
  from the records before it; then at every record index divisible by
  ``reestimation_period`` (al.py:379-389); a record joins the history only after its own
  likelihood (al.py:398-399). Between fits the short-term average carries on record by
  record (al.py:577-582).

Example
-------
>>> import numpy as np
>>> scores = np.r_[np.full(40, 0.1), 1.0, 1.0, 0.1]
>>> out = likelihoods(scores, learning_period=20, estimation_samples=20)
>>> out[:40].tolist() == [0.5] * 40
True
>>> [round(float(x), 7) for x in out[40:]]  # the onset is red, the next record only yellow
[0.9999999, 0.999, 0.999]
>>> is_anomaly(out).nonzero()[0].tolist()
[40]
>>> [round(log_likelihood(x), 4) for x in (0.5, 1 - 1e-5, 1.0)]
[0.0301, 0.5, 1.0]
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from snn import validate
from snn.errors import ValidationError

__all__ = [
    "ANOMALY_EPSILON",
    "ANOMALY_THRESHOLD",
    "AnomalyLikelihood",
    "gaussian_tail",
    "is_anomaly",
    "likelihoods",
    "log_likelihood",
    "nab_periods",
    "tail_probability",
]

# Constants of the reference (numenta/nupic src/nupic/algorithms/anomaly_likelihood.py)
MEAN_FLOOR = 0.03  # al.py:707-708: a fitted mean below this is raised to it
VARIANCE_FLOOR = 0.0003  # al.py:711-712: a fitted variance below this is raised to it
FLAT_METRIC_VARIANCE = 1.5e-5  # al.py:485: metric values this flat get the broad fit
BROAD_MEAN, BROAD_VARIANCE, BROAD_STDEV = 0.5, 1e6, 1e3  # al.py:733-738 ("null distribution")
SQRT2_REFERENCE = 1.4142  # al.py:763: the reference's sqrt(2) in Q(z) = erfc(z / sqrt 2) / 2
RED_ZONE = 1.0 - 0.99999  # al.py:615, 623: tail probabilities at or below this are "red"
YELLOW_ZONE = 1.0 - 0.999  # al.py:615, 624: a red tail right after a red one is reported as this
LOG_OFFSET = 1.0000000001  # al.py:236-237: log(1.0000000001 - L) / log(1.0 - 0.9999999999)
LOG_DENOMINATOR = -23.02585084720009  # al.py:237, equal to math.log(1.0 - 0.9999999999)
NEUTRAL = 0.5  # al.py:375-376: the likelihood reported during the probationary period

#: Anomaly threshold on the likelihood: ``L >= 1 - ANOMALY_EPSILON`` flags an anomaly. It is
#: the paper's ``1 - epsilon`` with the reference's red zone, ``epsilon = 1 - 0.99999``.
ANOMALY_EPSILON = 1e-5
ANOMALY_THRESHOLD = 1.0 - ANOMALY_EPSILON

#: Defaults of the reference's helper class (al.py:150-155) and averaging window (al.py:406)
LEARNING_PERIOD = 288
ESTIMATION_SAMPLES = 100
HISTORIC_WINDOW = 8640
REESTIMATION_PERIOD = 100
AVERAGING_WINDOW = 10
#: NAB's share of each data file that is probationary (numenta/NAB nab/runner.py:71)
NAB_PROBATIONARY_PERCENT = 0.15

STATE_FORMAT = 1  # version of the dict :meth:`AnomalyLikelihood.state` returns
_PARAMETERS = (
    "learning_period",
    "estimation_samples",
    "historic_window",
    "reestimation_period",
    "averaging_window",
)
_STATE_KEYS = (
    "format",
    *_PARAMETERS,
    "one_sided",
    "iteration",
    "history_scores",
    "history_values",
    "has_distribution",
    "distribution",
    "previous_tail",
    "average_window",
    "average_total",
)

_running_average_kernel = None  # the compiled kernel, built on first use (keeps imports light)


def _running_average_python(scores: np.ndarray, window: int) -> tuple[np.ndarray, float]:
    """Averages ``m`` (n,) of the last ``min(k + 1, window)`` scores at each ``k``, and the final
    running sum, accumulated as the reference does: add the new score after subtracting the one
    that leaves (utils.py:77-82), from a sum of zero."""
    n = scores.shape[0]
    averages = np.empty(n)
    total = 0.0
    for k in range(n):
        if k >= window:
            total -= scores[k - window]
        total += scores[k]
        averages[k] = total / min(k + 1, window)
    return averages, total


def _running_average(scores: np.ndarray, window: int) -> tuple[np.ndarray, float]:
    global _running_average_kernel
    if _running_average_kernel is None:
        from numba import njit

        _running_average_kernel = njit(cache=True, nogil=True)(_running_average_python)
    return _running_average_kernel(scores, window)


def gaussian_tail(z: Any) -> Any:
    """The Gaussian tail ``Q(z) = P(X > z) = erfc(z / sqrt(2)) / 2`` for ``X ~ N(0, 1)``.

    ``z``: a number or an array of any shape; the result has its shape (a float for a number).
    This is the exact ``Q``; the likelihood uses the reference's :func:`tail_probability`.
    """
    from scipy.special import erfc

    result = 0.5 * erfc(np.asarray(z, dtype=np.float64) / math.sqrt(2.0))
    return float(result) if np.ndim(result) == 0 else result


def tail_probability(x: float, mean: float, stdev: float, one_sided: bool = False) -> float:
    """Tail of ``N(mean, stdev^2)`` at ``x`` as the reference computes it (al.py:742-763).

    ``x`` below the mean is reflected to ``x' = 2 mean - x``; then ``z = (x' - mean) / stdev``
    and the two-sided tail is ``q = erfc(z / 1.4142) / 2``, i.e. ``Q(|z| sqrt(2) / 1.4142)``,
    ``Q(|z|)`` up to the reference's rounded ``sqrt(2)`` (nupic >= 0.6.0, commit f664d4032).
    ``one_sided``: ``1 - q`` below the mean instead, i.e. ``Q(z)`` for the signed ``z``, the
    paper's formula and nupic <= 0.5.7 (``return 1.0 - normalProbability(xp, ...)`` at
    0.5.7, al.py:746). ``stdev`` must be > 0.
    """
    if x < mean:
        tail = 0.5 * math.erfc((2 * mean - x - mean) / stdev / SQRT2_REFERENCE)
        return 1.0 - tail if one_sided else tail
    return 0.5 * math.erfc((x - mean) / stdev / SQRT2_REFERENCE)


def log_likelihood(likelihood: Any) -> Any:
    """NAB's log scale of a likelihood (al.py:227-237; numenta_detector.py:89-92):

    ``log(1.0000000001 - L) / log(1.0 - 0.9999999999)``, about ``log10(1 - L) / -10``: 0.5
    maps to 0.0301, ``1 - 1e-5`` to 0.5, 1 to 1 (0 to -4.3e-12).

    ``likelihood``: a number or an array of any shape, each in [0, 1]; the result has its
    shape (a float for a number). Computed with :func:`math.log`, as the reference does.
    """
    array = np.asarray(likelihood, dtype=np.float64)
    bad = ~((array >= 0.0) & (array <= 1.0))  # NaN fails both
    if np.any(bad):
        first = float(array.ravel()[int(np.argmax(bad.ravel()))])
        raise ValidationError("likelihood", f"must be in [0, 1], got {first}")
    if array.ndim == 0:
        return math.log(LOG_OFFSET - float(array)) / LOG_DENOMINATOR
    logs = np.array([math.log(LOG_OFFSET - x) for x in array.ravel().tolist()], dtype=np.float64)
    return (logs / LOG_DENOMINATOR).reshape(array.shape)


def is_anomaly(likelihood: Any, epsilon: float = ANOMALY_EPSILON) -> Any:
    """``L >= 1 - epsilon`` (the paper's threshold); a bool, or a bool array of ``L``'s shape."""
    epsilon = validate.probability("epsilon", epsilon)
    result = np.asarray(likelihood, dtype=np.float64) >= 1.0 - epsilon
    return bool(result) if result.ndim == 0 else result


def nab_periods(n_rows: int, probationary_percent: float = NAB_PROBATIONARY_PERCENT) -> tuple[int, int]:
    """``(learning_period, estimation_samples)`` NAB's numenta detector uses for a file of ``n_rows``.

    NAB's probationary period is ``p = min(floor(0.15 n_rows), 0.15 * 5000)`` rows, i.e. at
    most 750 (nab/util.py:25-29, nab/runner.py:71); the detector learns for ``floor(p / 2)``
    rows and estimates on the other ``p - floor(p / 2)`` (numenta_detector.py:122-126), so the
    likelihood is 0.5 for the first ``p`` rows. A fractional cap (a percentage other than
    0.15) counts as the next whole row, as the reference's ``iteration < p`` test does.
    """
    n_rows = validate.count("n_rows", n_rows, low=0)
    percent = validate.probability("probationary_percent", probationary_percent)
    period = min(math.floor(percent * n_rows), percent * 5000)
    learning = int(math.floor(period / 2.0))
    estimation = math.ceil(period) - learning
    if learning + estimation < 1:
        raise ValidationError(
            "n_rows",
            f"gives a probationary period of 0 rows ({n_rows} rows at {percent}); "
            f"needs at least {math.ceil(1 / percent) if percent > 0 else 'more'} rows",
        )
    return learning, estimation


def _count(field: str, value: Any, low: int) -> int:
    return validate.count(f"AnomalyLikelihood.{field}", value, low=low)


class AnomalyLikelihood:
    """Streaming anomaly likelihood of raw anomaly scores (see the module docstring).

    Parameters
    ----------
    (defaults: the reference's, al.py:150-155 and 406)

    learning_period:
        Records (>= 0) whose raw scores are left out of the fit while the model is still
        learning; they stay in the moving average.
    estimation_samples:
        Records (>= 0, <= ``historic_window``) after the learning period before the first
        fit. ``learning_period + estimation_samples`` (>= 1) records report 0.5.
    historic_window:
        Records (>= 1) kept for the fit, ``W``.
    reestimation_period:
        The Gaussian is refitted at every record index divisible by this (>= 1) once past the
        probationary period (al.py:379-389).
    averaging_window:
        Raw scores (>= 1) in the short-term average, ``W'``. The reference's helper class
        always averages 10; other values follow the fork that made it a parameter
        (anomalyHTM 1.0.0, same file, line 392).
    one_sided:
        False (default): the final reference, nupic 1.0.5, whose tail is two-sided, so that
        averages far *below* the fitted mean are as unlikely as those far above and
        ``L >= 0.5``. True: the paper's ``L = 1 - Q((m_t - mu) / sigma)``, as in nupic <= 0.5.7,
        which produced NAB's published ``results/numenta`` scores; low averages give ``L < 0.5``.

    Use :meth:`update` record by record, :meth:`update_many` for a block, :meth:`state` and
    :meth:`from_state` to save and resume a run bit for bit.
    """

    def __init__(
        self,
        learning_period: int = LEARNING_PERIOD,
        estimation_samples: int = ESTIMATION_SAMPLES,
        historic_window: int = HISTORIC_WINDOW,
        reestimation_period: int = REESTIMATION_PERIOD,
        averaging_window: int = AVERAGING_WINDOW,
        one_sided: bool = False,
    ) -> None:
        self._learning_period = _count("learning_period", learning_period, 0)
        self._estimation_samples = _count("estimation_samples", estimation_samples, 0)
        self._historic_window = _count("historic_window", historic_window, 1)
        self._reestimation_period = _count("reestimation_period", reestimation_period, 1)
        self._averaging_window = _count("averaging_window", averaging_window, 1)
        self._one_sided = validate.flag("AnomalyLikelihood.one_sided", one_sided)
        if self._estimation_samples > self._historic_window:  # al.py:187-188
            raise ValidationError(
                "AnomalyLikelihood.estimation_samples",
                f"must be <= historic_window ({self._historic_window}), got {self._estimation_samples}",
            )
        if self._learning_period + self._estimation_samples < 1:  # the reference fails on record 0
            raise ValidationError(
                "AnomalyLikelihood.estimation_samples",
                "learning_period + estimation_samples must be >= 1 (the first fit needs a record)",
            )
        self._iteration = 0
        # History of raw scores and metric values (NaN: none given), the last historic_window
        # of them in buffer[start:end]; the buffer holds 2 W so that appends are amortised O(1)
        size = 2 * self._historic_window
        self._scores = np.empty(size)
        self._values = np.empty(size)
        self._end = 0
        # The fitted Gaussian (None before the first fit) and the filter's previous tail
        self._fit: tuple[float, float, float] | None = None
        self._previous_tail = math.nan
        # Short-term average: the last <= averaging_window raw scores and their running sum
        self._window: collections.deque[float] = collections.deque()
        self._total = 0.0

    learning_period = property(lambda self: self._learning_period, doc="Records left out of the fit.")
    estimation_samples = property(lambda self: self._estimation_samples, doc="Records before the first fit.")
    historic_window = property(lambda self: self._historic_window, doc="Records kept for the fit, W.")
    reestimation_period = property(lambda self: self._reestimation_period, doc="Records between refits.")
    averaging_window = property(lambda self: self._averaging_window, doc="Scores in the short-term average.")
    one_sided = property(lambda self: self._one_sided, doc="Whether the tail is the paper's one-sided one.")

    @property
    def probationary_period(self) -> int:
        """Records reporting 0.5: ``learning_period + estimation_samples`` (al.py:201)."""
        return self._learning_period + self._estimation_samples

    @property
    def iteration(self) -> int:
        """Records seen so far."""
        return self._iteration

    @property
    def distribution(self) -> tuple[float, float, float] | None:
        """``(mean, variance, stdev)`` of the current fit, floors applied; None before the first."""
        return self._fit

    @classmethod
    def for_nab(
        cls, n_rows: int, probationary_percent: float = NAB_PROBATIONARY_PERCENT, one_sided: bool = False
    ) -> AnomalyLikelihood:
        """The likelihood NAB's numenta detector runs on a file of ``n_rows`` (see :func:`nab_periods`);
        the other parameters are the defaults, reestimation every 100 (numenta_detector.py:120-127).
        ``one_sided=True`` reproduces NAB's published scores (made with nupic 0.5.x)."""
        learning, estimation = nab_periods(n_rows, probationary_percent)
        return cls(
            learning_period=learning,
            estimation_samples=estimation,
            reestimation_period=100,
            one_sided=one_sided,
        )

    # -- the algorithm ---------------------------------------------------------------------

    def _history(self) -> tuple[np.ndarray, np.ndarray]:
        start = max(0, self._end - self._historic_window)
        return self._scores[start : self._end], self._values[start : self._end]

    def _append(self, score: float, value: float) -> None:
        if self._end == self._scores.shape[0]:
            keep = self._historic_window - 1
            self._scores[:keep] = self._scores[self._end - keep : self._end]
            self._values[:keep] = self._values[self._end - keep : self._end]
            self._end = keep
        self._scores[self._end] = score
        self._values[self._end] = value
        self._end += 1

    def _refit(self) -> None:
        """Fit the Gaussian to the history (al.py:382-389 calling estimateAnomalyLikelihoods)."""
        i = self._iteration
        scores, values = self._history()
        n = scores.shape[0]
        skip = min(i, max(0, self._learning_period - max(0, i - self._historic_window)))  # al.py:257-258
        averages, total = _running_average(scores, self._averaging_window)
        if n <= skip:  # al.py:468-469
            fit = (BROAD_MEAN, BROAD_VARIANCE, BROAD_STDEV)
        else:
            fitted = averages[skip:]
            mean = float(np.mean(fitted))  # al.py:697-712
            variance = float(np.var(fitted))
            mean = MEAN_FLOOR if mean < MEAN_FLOOR else mean
            variance = VARIANCE_FLOOR if variance < VARIANCE_FLOOR else variance
            fit = (mean, variance, math.sqrt(variance))
            if not np.isnan(values).any() and float(np.var(values[skip:])) < FLAT_METRIC_VARIANCE:
                fit = (BROAD_MEAN, BROAD_VARIANCE, BROAD_STDEV)  # al.py:478-486
        self._fit = fit
        # The filter's memory is the (unfiltered) tail of the window's last average (al.py:504-505)
        self._previous_tail = tail_probability(float(averages[-1]), fit[0], fit[2], self._one_sided)
        # The short-term average continues from the window's last scores (al.py:498-503)
        self._window = collections.deque(scores[max(0, n - self._averaging_window) :].tolist())
        self._total = float(total)

    def _step(self, score: float, value: float) -> float:
        """One record (al.py:357-401); ``score`` and ``value`` already validated."""
        i = self._iteration
        if i < self._learning_period + self._estimation_samples:
            likelihood = NEUTRAL
        else:
            if self._fit is None or i % self._reestimation_period == 0:
                self._refit()
            window = self._window  # moving average (al.py:577-582, utils.py:77-82)
            total = self._total
            if len(window) == self._averaging_window:
                total -= window.popleft()
            window.append(score)
            total += score
            self._total = total
            mean, _, stdev = self._fit
            tail = tail_probability(total / len(window), mean, stdev, self._one_sided)
            # al.py:587-589 and 614-644: a red tail after a red (unfiltered) tail becomes yellow
            filtered = YELLOW_ZONE if tail <= RED_ZONE and self._previous_tail <= RED_ZONE else tail
            self._previous_tail = tail
            likelihood = 1.0 - filtered  # al.py:395
        self._append(score, value)  # al.py:398-399: the record joins the history afterwards
        self._iteration = i + 1
        return likelihood

    # -- public stepping ---------------------------------------------------------------------

    def update(self, raw_score: float, value: float | None = None) -> float:
        """Feed one raw anomaly score in [0, 1]; return its likelihood ``L_t`` in [0.5, 1].

        ``value``: the record's metric value (finite), optional. Only the flat-metric check
        uses it (module docstring); NAB's detector passes it.
        """
        score = validate.probability("AnomalyLikelihood.raw_score", raw_score)
        metric = math.nan if value is None else validate.finite("AnomalyLikelihood.value", value)
        return self._step(score, metric)

    def update_many(self, raw_scores: Any, values: Any = None) -> np.ndarray:
        """Feed a block of raw scores (T,) in [0, 1], with optional metric values (T,); return the
        likelihoods (T,). The same as calling :meth:`update` on each record in turn."""
        scores, metrics = _series(raw_scores, values)
        step = self._step
        return np.array([step(s, v) for s, v in zip(scores.tolist(), metrics.tolist(), strict=True)])

    # -- saving and resuming -----------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything needed to resume, as ints and float64 arrays (copies), e.g. for ``np.savez``:

        ``format``, the five integer parameters, ``one_sided`` (0 or 1), ``iteration``; ``history_scores`` and
        ``history_values`` (n,), the last ``n = min(iteration, historic_window)`` records, oldest
        first (NaN: no metric value); ``has_distribution`` (0 or 1) and ``distribution`` (3,),
        ``(mean, variance, stdev)``; ``previous_tail`` (), the filter's memory;
        ``average_window`` (k,), the scores in the short-term average, oldest first, and
        ``average_total`` (), their running sum.
        """
        scores, values = self._history()
        fit = self._fit if self._fit is not None else (math.nan, math.nan, math.nan)
        return {
            "format": STATE_FORMAT,
            "learning_period": self._learning_period,
            "estimation_samples": self._estimation_samples,
            "historic_window": self._historic_window,
            "reestimation_period": self._reestimation_period,
            "averaging_window": self._averaging_window,
            "one_sided": int(self._one_sided),
            "iteration": self._iteration,
            "history_scores": scores.copy(),
            "history_values": values.copy(),
            "has_distribution": int(self._fit is not None),
            "distribution": np.array(fit, dtype=np.float64),
            "previous_tail": np.array(self._previous_tail, dtype=np.float64),
            "average_window": np.array(self._window, dtype=np.float64),
            "average_total": np.array(self._total, dtype=np.float64),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> AnomalyLikelihood:
        """Rebuild a detector from :meth:`state` (also after ``np.savez`` / ``np.load``)."""
        if not hasattr(state, "keys"):
            raise ValidationError(
                "state", f"must be a dict from AnomalyLikelihood.state(), got {type(state)}"
            )
        missing = sorted(set(_STATE_KEYS) - set(state.keys()))
        if missing:
            raise ValidationError("state", f"misses {', '.join(missing)}")

        def integer(key: str, low: int) -> int:
            raw = state[key]
            raw = raw.item() if isinstance(raw, np.ndarray) and raw.shape == () else raw
            return validate.count(f"state.{key}", raw, low=low)

        def floats(key: str, shape: tuple[int, ...] | None, allow_nan: bool = False) -> np.ndarray:
            array = validate.as_array(f"state.{key}", state[key])
            if array.dtype.kind not in "iuf":
                raise ValidationError(f"state.{key}", f"must hold numbers, got {array.dtype}")
            array = np.array(array, dtype=np.float64)
            if shape is not None and array.shape != shape:
                raise ValidationError(f"state.{key}", f"must have shape {shape}, got {array.shape}")
            if array.ndim > 1:
                raise ValidationError(f"state.{key}", f"must be 1-D, got shape {array.shape}")
            ok = np.isfinite(array) | (np.isnan(array) if allow_nan else False)
            if not np.all(ok):
                raise ValidationError(f"state.{key}", "must be finite")
            return array

        if integer("format", 1) != STATE_FORMAT:
            raise ValidationError("state.format", f"must be {STATE_FORMAT}, got {state['format']}")
        one_sided = integer("one_sided", 0)
        if one_sided > 1:
            raise ValidationError("state.one_sided", f"must be 0 or 1, got {one_sided}")
        try:
            self = cls(**{key: integer(key, 0) for key in _PARAMETERS}, one_sided=bool(one_sided))
        except ValidationError as error:  # name the state's entry, not the constructor's
            raise error.located("state") from None
        iteration = integer("iteration", 0)
        n = min(iteration, self._historic_window)
        scores = floats("history_scores", (n,))
        values = floats("history_values", (n,), allow_nan=True)
        if np.any((scores < 0.0) | (scores > 1.0)):
            raise ValidationError("state.history_scores", "must be in [0, 1]")
        has_fit = integer("has_distribution", 0)
        if has_fit > 1:
            raise ValidationError("state.has_distribution", f"must be 0 or 1, got {has_fit}")
        window = floats("average_window", None)
        if window.ndim != 1 or window.shape[0] > self._averaging_window:
            raise ValidationError(
                "state.average_window", f"must hold at most {self._averaging_window} scores"
            )
        total = floats("average_total", ())
        if has_fit:
            fit = floats("distribution", (3,))
            if fit[2] <= 0.0 or not window.shape[0]:
                raise ValidationError("state.distribution", "must have stdev > 0 and a short-term average")
            self._fit = (float(fit[0]), float(fit[1]), float(fit[2]))
            self._previous_tail = float(floats("previous_tail", ()))
        self._iteration = iteration
        self._scores[:n] = scores
        self._values[:n] = values
        self._end = n
        self._window = collections.deque(window.tolist())
        self._total = float(total)
        return self

    def __repr__(self) -> str:
        return (
            f"AnomalyLikelihood(learning_period={self._learning_period}, "
            f"estimation_samples={self._estimation_samples}, historic_window={self._historic_window}, "
            f"reestimation_period={self._reestimation_period}, averaging_window={self._averaging_window}, "
            f"one_sided={self._one_sided}); "
            f"{self._iteration} records seen"
        )


def _series(raw_scores: Any, values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``raw_scores`` (T,) in [0, 1] and ``values`` (T,) finite, NaN when not given."""
    scores = validate.finite_array("raw_scores", raw_scores)
    if scores.ndim != 1:
        raise ValidationError("raw_scores", f"must be 1-D (T,), got shape {scores.shape}")
    outside = (scores < 0.0) | (scores > 1.0)
    if np.any(outside):
        first = int(np.argmax(outside))
        raise ValidationError(f"raw_scores[{first}]", f"must be in [0, 1], got {scores[first]}")
    if values is None:
        return scores, np.full(scores.shape, math.nan)
    metrics = validate.finite_array("values", values, shape=scores.shape)
    return scores, metrics


def likelihoods(
    raw_scores: Iterable[float] | np.ndarray,
    values: Iterable[float] | np.ndarray | None = None,
    **settings: Any,
) -> np.ndarray:
    """Likelihoods (T,) of a whole series of raw scores (T,) in [0, 1] from a fresh
    :class:`AnomalyLikelihood` built with the keyword arguments ``settings`` (its parameters,
    same names and defaults); ``values`` (T,) as in its ``update``."""
    return AnomalyLikelihood(**settings).update_many(raw_scores, values)
