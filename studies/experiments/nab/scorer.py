r"""The NAB v1.1 score: weighted detections, a corpus-wide threshold and normalisation.

Definitions (NAB v1.1, ``nab/sweeper.py``, ``nab/optimizer.py``, ``nab/runner.py``). All
positions and lengths are in **rows** of a series (the row index ``i`` counts from 0); scores
are dimensionless.

**Probation.** The first :math:`P = \min(\lfloor p\,n\rfloor, \lceil 5000\,p\rceil)` rows of
a series of ``n`` rows are not scored (``p`` = 0.15: :math:`P = \min(\lfloor 0.15 n\rfloor,
750)`). Only rows ``i >= P`` are *scorable*.

**Scaled sigmoid.** :math:`\sigma_s(y) = 2/(1+e^{5y}) - 1` for :math:`y \le 3`, and
:math:`-1` for :math:`y > 3`. It falls from :math:`\sigma_s(-1) = 0.98661` through
:math:`\sigma_s(0) = 0` to :math:`\sigma_s(1) = -0.98661`.

**Row weight** :math:`w_i` (NAB's per-row ``S(t)``), for a profile with weights
:math:`A_{TP}, A_{FP}, A_{FN}`:

* inside a window of rows ``a..b`` (width :math:`W = b-a+1`): relative position
  :math:`y_i = -(b-i+1)/W \in [-1, -1/W]` and :math:`w_i = A_{TP}\,\sigma_s(y_i)/\sigma_s(-1)`
  (1 at the window's first row, falling towards 0 at its end);
* outside windows, after the most recent window ``a'..b'`` (width :math:`W'`):
  :math:`y_i = (i-b')/(W'-1)` and :math:`w_i = A_{FP}\,\sigma_s(y_i)` (near 0 just after the
  window, -1 times :math:`A_{FP}` more than three window-widths after it);
* outside windows with no window before: :math:`w_i = -A_{FP}`.

**Score at a threshold** :math:`\theta`. A scorable row with anomaly score
:math:`\ge\theta` is a detection. Each window that has a scorable row contributes the
largest weight among its detections, which is its earliest detection (only the first
detection in a window counts), or :math:`-A_{FN}` if it has none; every detection outside
the windows adds its weight (a false positive). True negatives add nothing (NAB's
``tnWeight`` is unused). A series' score is the sum; a corpus' score the sum over series.

**Threshold.** NAB scores the whole corpus at one threshold per profile. The candidates
are 1.1 (no detection) and every distinct anomaly score of a scorable row, in decreasing
order; the best is the one with the largest corpus score, and of equal scores the first
(the highest threshold) wins.

**Normalisation.** :math:`S = 100\,(R - R_{null})/(R_{perfect} - R_{null})`, with
:math:`R` the corpus score at the best threshold, :math:`R_{null}` that of NAB's null
detector (anomaly score 0.5 on every row, its threshold optimised the same way; in
practice it detects nothing and scores :math:`-A_{FN}` per window) and
:math:`R_{perfect} = A_{TP}` times the number of windows. The null detector scores 0 and a
detector that detects exactly each window's first row scores 100.

Scores here are summed exactly rounded (``math.fsum``) where NAB adds in its own order, so
they can differ from NAB's in the last bits (about 1e-15 relative).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from snn.errors import ValidationError
from studies.experiments.nab.corpus import NabResults, Window, check_windows, read_json

DEFAULT_PROBATION = 0.15  #: fraction of each series not scored (NAB's ``probationaryPercent``)
NO_DETECTION_THRESHOLD = 1.1  #: NAB's first sweep threshold, above every anomaly score
NULL_SCORE = 0.5  #: the anomaly score NAB's null detector gives every row
_WEIGHTS = ("tpWeight", "fpWeight", "fnWeight", "tnWeight")


@dataclass(frozen=True)
class CostProfile:
    """A NAB cost profile: the weights :math:`A_{TP}, A_{FP}, A_{FN}` (and ``tn_weight``,
    which NAB reads but never uses). All are dimensionless and >= 0."""

    tp_weight: float
    fp_weight: float
    fn_weight: float
    tn_weight: float = 1.0

    def __post_init__(self) -> None:
        for name, weight in zip(
            _WEIGHTS, (self.tp_weight, self.fp_weight, self.fn_weight, self.tn_weight), strict=True
        ):
            if (
                not isinstance(weight, int | float)
                or isinstance(weight, bool)
                or not math.isfinite(weight)
                or weight < 0
            ):
                raise ValidationError(f"CostProfile.{name}", f"must be a finite number >= 0, got {weight!r}")

    @classmethod
    def from_mapping(cls, weights: Mapping[str, object]) -> CostProfile:
        """From NAB's ``{"tpWeight": .., "fpWeight": .., "fnWeight": .., "tnWeight": ..}``
        (or a profile entry holding it under ``"CostMatrix"``, as NAB's profiles.json does);
        ``tnWeight`` may be left out."""
        if isinstance(weights, Mapping) and "CostMatrix" in weights:
            weights = weights["CostMatrix"]
        if not isinstance(weights, Mapping):
            raise ValidationError("CostProfile", f"must map {list(_WEIGHTS)} to numbers, got {weights!r}")
        missing = [name for name in _WEIGHTS[:3] if name not in weights]
        if missing:
            raise ValidationError(
                f"CostProfile.{missing[0]}", f"is missing; a profile needs {list(_WEIGHTS[:3])}"
            )
        return cls(*(weights[name] for name in _WEIGHTS[:3]), weights.get("tnWeight", 1.0))


#: NAB v1.1's three profiles (``config/profiles.json``).
NAB_PROFILES: dict[str, CostProfile] = {
    "standard": CostProfile(1.0, 0.11, 1.0, 1.0),
    "reward_low_FP_rate": CostProfile(1.0, 0.22, 1.0, 1.0),
    "reward_low_FN_rate": CostProfile(1.0, 0.11, 2.0, 1.0),
}


def read_profiles(path: str | os.PathLike) -> dict[str, CostProfile]:
    """Read a NAB profiles JSON file: ``{name: {"CostMatrix": {"tpWeight": ..}}}`` or
    ``{name: {"tpWeight": ..}}``. Raises ValidationError (field ``<path>.<name>.<weight>``)."""
    path = Path(path)
    raw = read_json(path)
    if not isinstance(raw, dict) or not raw:
        raise ValidationError(str(path), "must map profile names to cost matrices")
    profiles = {}
    for name, entry in raw.items():
        try:
            profiles[name] = CostProfile.from_mapping(entry)
        except ValidationError as error:
            raise error.located(f"{path}.{name}") from None
    return profiles


def probation_length(n_rows: int, probation: float = DEFAULT_PROBATION) -> int:
    """Rows at the start of a series of ``n_rows`` rows that NAB does not score:
    :math:`\\min(\\lfloor p\\,n\\rfloor, \\lceil 5000\\,p\\rceil)` (NAB compares the row index
    with :math:`\\min(\\lfloor p n\\rfloor, 5000 p)`).

    >>> probation_length(4032), probation_length(22695)
    (604, 750)
    """
    _check_probation(probation)
    return int(min(math.floor(probation * n_rows), math.ceil(probation * 5000)))


def _check_probation(probation: float) -> None:
    if isinstance(probation, bool) or not isinstance(probation, int | float) or not 0.0 <= probation <= 1.0:
        raise ValidationError("probation", f"must be a fraction in [0, 1], got {probation!r}")


def scaled_sigmoid(position: float | np.ndarray) -> float | np.ndarray:
    """NAB's scaled sigmoid :math:`2/(1+e^{5y})-1` (:math:`-1` for :math:`y > 3`) of a
    relative position ``y`` (dimensionless; -1 = a window's start, 0 = its end).

    >>> round(scaled_sigmoid(-1.0), 5), scaled_sigmoid(0.0), scaled_sigmoid(4.0)
    (0.98661, 0.0, -1.0)
    """
    y = np.asarray(position, dtype=np.float64)
    # NAB: 2 * sigmoid(-5 y) - 1 with sigmoid(x) = 1 / (1 + exp(-x)); clip so exp cannot overflow
    value = np.where(y > 3.0, -1.0, 2.0 * (1.0 / (1.0 + np.exp(5.0 * np.minimum(y, 3.0)))) - 1.0)
    return float(value) if value.ndim == 0 else value


_MAX_TP = float(scaled_sigmoid(-1.0))  # sigma_s at a window's first row: 0.98661


@dataclass(frozen=True, eq=False)
class _Rows:
    """A series prepared for scoring (independent of the profile)."""

    key: str
    scores: np.ndarray  # anomaly score per row
    window: np.ndarray  # index of the row's window, -1 outside every window
    sigmoid: np.ndarray  # sigma_s of the row's relative position (-1 before the first window)
    n_probation: int
    n_windows: int
    scored_windows: np.ndarray  # indices of the windows that have a scorable row

    def weights(self, profile: CostProfile) -> np.ndarray:
        """Row weights w_i (NAB's S(t)) for ``profile``."""
        inside = self.window >= 0
        return np.where(inside, self.sigmoid * profile.tp_weight / _MAX_TP, self.sigmoid * profile.fp_weight)


def _prepare(
    key: str, timestamps: np.ndarray, scores: np.ndarray | None, windows: Sequence[Window], probation: float
) -> _Rows:
    timestamps = np.asarray(timestamps)
    if timestamps.ndim != 1 or not len(timestamps) or not np.issubdtype(timestamps.dtype, np.datetime64):
        raise ValidationError(f"results[{key}].timestamps", "must be a non-empty 1-D datetime64 array")
    timestamps = timestamps.astype("datetime64[s]")
    n = len(timestamps)
    if scores is None:
        scores = np.full(n, NULL_SCORE)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (n,):
        raise ValidationError(
            f"results[{key}].anomaly_scores", f"must hold one score per row ({n}), got {scores.shape}"
        )
    bad = np.flatnonzero(~((scores >= 0.0) & (scores <= 1.0)))  # also catches NaN
    if bad.size:
        raise ValidationError(
            f"results[{key}].anomaly_scores[{bad[0]}]", f"must be in [0, 1], got {scores[bad[0]]}"
        )
    windows = list(windows)
    try:
        check_windows(windows, timestamps)
    except ValidationError as error:  # field windows[j]...: name the series too
        raise ValidationError(f"windows[{key}]{error.field.removeprefix('windows')}", error.message) from None
    # each limit is the timestamp of exactly one row (checked above): NAB's rows a..b
    starts = np.array([np.flatnonzero(timestamps == w.start)[0] for w in windows], dtype=np.int64)
    ends = np.array([np.flatnonzero(timestamps == w.end)[0] for w in windows], dtype=np.int64)
    for j in range(len(windows)):
        if ends[j] <= starts[j] or (j and starts[j] <= ends[j - 1]):
            raise ValidationError(
                f"windows[{key}][{j}]",
                f"covers rows {starts[j]}..{ends[j]}; a window needs 2+ rows (NAB weighs the rows after "
                "it by its width - 1), after the previous window's rows",
            )
    rows = np.arange(n)
    # the last window starting at or before each row, -1 if none
    last = np.searchsorted(starts, rows, side="right") - 1
    has_last = last >= 0
    a = np.append(starts, 0)[last]  # rows before every window (last = -1) read the padding 0
    b = np.append(ends, 0)[last]
    inside = has_last & (rows <= b)
    width = (b - a + 1).astype(np.float64)
    position = np.where(
        inside,
        -(b - rows + 1) / width,  # NAB: -(right - i + 1) / width
        np.abs(b - rows) / np.maximum(width - 1.0, 1.0),  # NAB: |right - i| / (width - 1)
    )
    sigmoid = np.where(has_last, scaled_sigmoid(position), -1.0)
    n_probation = probation_length(n, probation)
    return _Rows(
        key=key,
        scores=scores,
        window=np.where(inside, last, -1),
        sigmoid=sigmoid,
        n_probation=n_probation,
        n_windows=len(windows),
        scored_windows=np.flatnonzero(ends >= n_probation),
    )


def row_weights(
    timestamps: np.ndarray,
    windows: Sequence[Window],
    profile: CostProfile = NAB_PROFILES["standard"],
    probation: float = DEFAULT_PROBATION,
) -> np.ndarray:
    """The weight :math:`w_i` each row would add as a detection (NAB's ``S(t)_<profile>``
    column; see the module docstring), for every row including the probationary ones."""
    return _prepare("series", timestamps, None, windows, probation).weights(profile)


@dataclass(frozen=True)
class FileScore:
    """One series scored at ``threshold``.

    ``score`` is the raw NAB score (dimensionless). Window counts: ``tp`` windows detected,
    ``fn`` windows missed (windows with a scorable row only). Row counts, NAB's columns in
    ``<detector>_<profile>_scores.csv``: ``tp_rows`` (detections inside windows, NAB's TP),
    ``fp`` (detections outside, NAB's FP), ``tn`` (NAB's TN), ``fn_rows`` (NAB's FN), over
    the ``n_scored`` scorable rows of ``n_rows``.
    """

    key: str
    threshold: float
    score: float
    tp: int
    fn: int
    fp: int
    tn: int
    tp_rows: int
    fn_rows: int
    n_rows: int
    n_scored: int


def _score_rows(rows: _Rows, weights: np.ndarray, profile: CostProfile, threshold: float) -> FileScore:
    scorable = np.arange(len(rows.scores)) >= rows.n_probation
    detected = scorable & (rows.scores >= threshold)
    inside = rows.window >= 0
    false_positive = detected & ~inside
    parts = weights[false_positive].tolist()
    tp = 0
    for j in rows.scored_windows:
        hits = detected & (rows.window == j)
        if hits.any():
            tp += 1
            # the largest weight is the earliest detection's (weights fall through a window)
            parts.append(max(-profile.fn_weight, float(weights[hits].max())))
        else:
            parts.append(-profile.fn_weight)
    n_inside = int(np.count_nonzero(scorable & inside))
    n_scored = int(np.count_nonzero(scorable))
    tp_rows = int(np.count_nonzero(detected & inside))
    fp = int(np.count_nonzero(false_positive))
    return FileScore(
        key=rows.key,
        threshold=float(threshold),
        score=math.fsum(parts),
        tp=tp,
        fn=len(rows.scored_windows) - tp,
        fp=fp,
        tn=n_scored - n_inside - fp,
        tp_rows=tp_rows,
        fn_rows=n_inside - tp_rows,
        n_rows=len(rows.scores),
        n_scored=n_scored,
    )


def _check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or math.isnan(threshold):
        raise ValidationError("threshold", f"must be a number, got {threshold!r}")
    return float(threshold)


def score_file(
    timestamps: np.ndarray,
    anomaly_scores: np.ndarray,
    windows: Sequence[Window],
    profile: CostProfile,
    threshold: float,
    probation: float = DEFAULT_PROBATION,
    key: str = "series",
) -> FileScore:
    """Score one series at ``threshold``: rows with ``anomaly_score >= threshold`` (after
    the probation) are detections (see the module docstring for the weights).

    Raises ValidationError if the scores are not one per row in [0, 1], the timestamps
    are not strictly increasing, or a window limit is not a row's timestamp.
    """
    threshold = _check_threshold(threshold)
    rows = _prepare(key, timestamps, anomaly_scores, windows, probation)
    return _score_rows(rows, rows.weights(profile), profile, threshold)


@dataclass(frozen=True)
class Sweep:
    """Corpus score (raw, dimensionless) at each candidate threshold, thresholds decreasing
    from :data:`NO_DETECTION_THRESHOLD`; ``best`` indexes the largest score (the first, i.e.
    highest threshold, of equal ones)."""

    thresholds: np.ndarray
    scores: np.ndarray

    @property
    def best(self) -> int:
        return int(np.argmax(self.scores))

    @property
    def threshold(self) -> float:
        return float(self.thresholds[self.best])

    @property
    def score(self) -> float:
        return float(self.scores[self.best])


def _sweep(prepared: Sequence[_Rows], profile: CostProfile) -> Sweep:
    scores, weights, windows = [], [], []
    n_windows = offset = 0
    for rows in prepared:
        scores.append(rows.scores[rows.n_probation :])
        weights.append(rows.weights(profile)[rows.n_probation :])
        window = rows.window[rows.n_probation :]
        windows.append(np.where(window >= 0, window + offset, -1))
        offset += rows.n_windows
        n_windows += len(rows.scored_windows)
    score = np.concatenate(scores)
    if not score.size:  # every row is probationary: nothing can be detected
        return Sweep(np.array([NO_DETECTION_THRESHOLD]), np.array([-profile.fn_weight * n_windows]))
    order = np.argsort(-score, kind="stable")  # decreasing score; ties keep corpus order, as NAB's sort
    score, weight, window = score[order], np.concatenate(weights)[order], np.concatenate(windows)[order]
    # a threshold's entry holds every row scoring at least it: evaluate after each run of equal scores
    ends = np.append(np.flatnonzero(score[1:] != score[:-1]), len(score) - 1)
    false_positives = np.cumsum(np.where(window < 0, weight, 0.0))
    # each window contributes the running maximum of its detections' weights (-A_FN before any)
    gain = np.zeros(len(score))
    inside = np.flatnonzero(window >= 0)
    by_window = inside[np.argsort(window[inside], kind="stable")]
    cuts = np.flatnonzero(np.diff(window[by_window])) + 1
    for members in np.split(by_window, cuts) if by_window.size else []:
        best = np.maximum.accumulate(np.maximum(weight[members], -profile.fn_weight))
        gain[members] = np.diff(best, prepend=-profile.fn_weight)
    totals = false_positives[ends] + (np.cumsum(gain)[ends] - profile.fn_weight * n_windows)
    return Sweep(
        thresholds=np.concatenate([[NO_DETECTION_THRESHOLD], score[ends]]),
        scores=np.concatenate([[-profile.fn_weight * n_windows], totals]),
    )


def _prepare_all(
    results: Mapping[str, object],
    windows: Mapping[str, Sequence[Window]],
    probation: float,
    null: bool = False,
) -> list[_Rows]:
    _check_probation(probation)
    if not results:
        raise ValidationError("results", "is empty; give at least one series' (timestamps, anomaly scores)")
    prepared = []
    for key, entry in results.items():
        if isinstance(entry, NabResults):
            timestamps, scores = entry.timestamps, entry.anomaly_scores
        else:
            try:
                timestamps, scores = entry
            except (TypeError, ValueError):
                raise ValidationError(
                    f"results[{key}]", "must be a (timestamps, anomaly scores) pair"
                ) from None
        prepared.append(_prepare(key, timestamps, None if null else scores, windows.get(key, ()), probation))
    return prepared


def sweep_thresholds(
    results: Mapping[str, tuple[np.ndarray, np.ndarray] | NabResults],
    windows: Mapping[str, Sequence[Window]],
    profile: CostProfile,
    probation: float = DEFAULT_PROBATION,
) -> Sweep:
    """The corpus score at every candidate threshold (NAB's threshold optimisation)."""
    return _sweep(_prepare_all(results, windows, probation), profile)


def normalise(raw: float, null: float, perfect: float) -> float:
    """NAB's normalised score :math:`100\\,(R - R_{null}) / (R_{perfect} - R_{null})`."""
    if not perfect > null:
        raise ValidationError(
            "perfect", f"must exceed the null score {null}, got {perfect} (are there windows?)"
        )
    return 100.0 * (raw - null) / (perfect - null)


@dataclass(frozen=True)
class ProfileScore:
    """A corpus scored under one profile.

    ``score`` is the normalised score (null detector 0, perfect 100); ``raw_score`` the sum
    of the per-series scores ``files`` at the best ``threshold`` (``sweep_score`` is the
    same sum as the sweep accumulated it); ``null_score`` and ``perfect_score`` are the raw
    corpus scores of NAB's null detector (at its own best ``null_threshold``) and of a
    perfect one.
    """

    profile: str
    cost: CostProfile
    score: float
    threshold: float
    raw_score: float
    sweep_score: float
    null_score: float
    null_threshold: float
    perfect_score: float
    files: dict[str, FileScore] = field(repr=False)


@dataclass(frozen=True)
class CorpusScore:
    """:class:`ProfileScore` per profile name; ``n_windows`` counts every window of the
    scored series (the perfect score's count), ``probation`` the fraction used."""

    profiles: dict[str, ProfileScore]
    n_windows: int
    probation: float

    def __getitem__(self, profile: str) -> ProfileScore:
        return self.profiles[profile]

    @property
    def scores(self) -> dict[str, float]:
        """Normalised score per profile."""
        return {name: result.score for name, result in self.profiles.items()}


def score_corpus(
    results: Mapping[str, tuple[np.ndarray, np.ndarray] | NabResults],
    windows: Mapping[str, Sequence[Window]],
    profiles: Mapping[str, CostProfile | Mapping[str, object]] | None = None,
    probation: float = DEFAULT_PROBATION,
) -> CorpusScore:
    """Score a detector on a corpus as NAB v1.1 does, for each profile.

    ``results`` maps each series' key to ``(timestamps, anomaly_scores)`` (or a
    :class:`~studies.experiments.nab.corpus.NabResults`); ``windows`` maps keys to their
    windows (a key absent has none; keys not in ``results`` are ignored); ``profiles``
    defaults to :data:`NAB_PROFILES` (NAB's profiles.json entries are accepted too). For
    each profile the threshold is optimised over the whole corpus, every series is scored
    at it, and the sum is normalised against NAB's null and perfect detectors on the same
    series.
    """
    if profiles is None:
        profiles = NAB_PROFILES
    costs = {}
    for name, profile in profiles.items():
        try:
            costs[name] = profile if isinstance(profile, CostProfile) else CostProfile.from_mapping(profile)
        except ValidationError as error:
            raise error.located(f"profiles[{name}]") from None
    prepared = _prepare_all(results, windows, probation)
    null_rows = _prepare_all(results, windows, probation, null=True)
    n_windows = sum(rows.n_windows for rows in prepared)
    scored = {}
    for name, cost in costs.items():
        sweep = _sweep(prepared, cost)
        files = {rows.key: _score_rows(rows, rows.weights(cost), cost, sweep.threshold) for rows in prepared}
        raw = math.fsum(file.score for file in files.values())
        null_sweep = _sweep(null_rows, cost)
        null = math.fsum(
            _score_rows(rows, rows.weights(cost), cost, null_sweep.threshold).score for rows in null_rows
        )
        perfect = cost.tp_weight * n_windows
        scored[name] = ProfileScore(
            profile=name,
            cost=cost,
            score=normalise(raw, null, perfect),
            threshold=sweep.threshold,
            raw_score=raw,
            sweep_score=sweep.score,
            null_score=null,
            null_threshold=null_sweep.threshold,
            perfect_score=perfect,
            files=files,
        )
    return CorpusScore(profiles=scored, n_windows=n_windows, probation=float(probation))
