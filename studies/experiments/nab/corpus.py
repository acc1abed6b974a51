"""Reading the NAB corpus and its anomaly windows, and writing NAB's results files.

Formats (Numenta Anomaly Benchmark v1.1):

* A **series** is a CSV file with the header ``timestamp,value`` and one row per sample:
  ``2014-04-01 00:00:00,10844``. Timestamps are whole seconds (``YYYY-MM-DD HH:MM:SS``;
  ``T`` is also accepted between date and time, and a fractional part is accepted only if
  it is zero), strictly increasing; values are finite numbers. It reads into
  :class:`NabSeries`: ``datetime64[s]`` timestamps and ``float64`` values.

  NAB's own corpus breaks the order rule in a few series (of the 31 tuning series:
  ``realAdExchange/exchange-2_cpc_results.csv`` and ``exchange-2_cpm_results.csv`` repeat
  one timestamp, ``realTraffic/occupancy_t4013.csv`` and ``speed_t4013.csv`` one,
  ``realKnownCause/ec2_request_latency_system_failure.csv`` eleven at a clock change, and
  ``realKnownCause/machine_temperature_system_failure.csv`` steps back 55 minutes at row
  10149). The readers reject these by default; ``strict_order=False`` reads them as NAB
  does, rows in file order (NAB scores rows by position, not by time).
* A **corpus** is a folder of series, one sub-folder per category
  (``data/<category>/<file>.csv``). Each series is known by its *key*, the path relative
  to the folder with ``/`` separators (``realTraffic/speed_7578.csv``).
* The **windows** file (``combined_windows.json``) maps keys to lists of
  ``[start, end]`` timestamp strings (NAB writes ``2014-04-11 00:00:00.000000``). A window
  holds the rows whose timestamp ``t`` has ``start <= t <= end``; NAB's scorer matches both
  limits to row timestamps exactly. Windows of a series are sorted and disjoint.
* A **results** file is ``OUT/<detector>/<category>/<detector>_<file>.csv`` with the header
  ``timestamp,value,anomaly_score,label``: the detector's anomaly score in [0, 1] per row
  and ``label`` 1 inside a window, else 0.

Every malformed input raises :class:`snn.errors.ValidationError` whose ``field`` names the
file and, where there is one, the row (``<path>.rows[<i>].<column>``, ``i`` counting data
rows from 0; the message gives the line number too) or the window
(``<path>[<key>][<j>].start``).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from snn.atomic import write_atomic
from snn.errors import ValidationError

SERIES_COLUMNS = ("timestamp", "value")
RESULTS_COLUMNS = ("timestamp", "value", "anomaly_score", "label")

# date, time, optional fraction (which must be zero: timestamps are whole seconds)
_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?")
_TIMESTAMP_FORMAT = "YYYY-MM-DD HH:MM:SS"


class Window(NamedTuple):
    """One anomaly window: the rows with ``start <= timestamp <= end`` (``datetime64[s]``)."""

    start: np.datetime64
    end: np.datetime64


@dataclass(frozen=True, eq=False)
class NabSeries:
    """One NAB series: ``timestamps`` (``datetime64[s]``, strictly increasing) and
    ``values`` (``float64``), known by ``key`` (``<category>/<file>.csv``)."""

    key: str
    timestamps: np.ndarray
    values: np.ndarray

    @property
    def category(self) -> str:
        """The sub-folder the series lives in (``""`` for a file at the corpus root)."""
        return self.key.rpartition("/")[0]

    @property
    def name(self) -> str:
        """The file name, e.g. ``speed_7578.csv``."""
        return self.key.rpartition("/")[2]

    def __len__(self) -> int:
        return len(self.timestamps)


@dataclass(frozen=True, eq=False)
class NabResults:
    """One detector's results for a series: the series' rows plus ``anomaly_scores``
    (``float64``) and ``labels`` (``int8``, 1 inside a window)."""

    key: str
    timestamps: np.ndarray
    values: np.ndarray
    anomaly_scores: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.timestamps)


# ----------------------------------------------------------------------------- parsing


def parse_timestamp(text: str) -> np.datetime64 | None:
    """``text`` as ``datetime64[s]``, or None if it is not a whole-second NAB timestamp."""
    match = _TIMESTAMP.fullmatch(text.strip())
    if match is None or (match[3] and match[3].strip("0")):
        return None
    try:
        return np.datetime64(f"{match[1]}T{match[2]}", "s")
    except ValueError:  # month 13, day 30 of February, hour 24, ...
        return None


def _timestamp_problem(text: str) -> str:
    if not text.strip():
        return "is missing"
    match = _TIMESTAMP.fullmatch(text.strip())
    if match is not None and match[3] and match[3].strip("0"):
        return f"{text!r} has a fractional second; NAB timestamps are whole seconds ({_TIMESTAMP_FORMAT})"
    return f"{text!r} is not a timestamp {_TIMESTAMP_FORMAT}"


def _parse_timestamps(texts: Sequence[str], lines: Sequence[int]) -> np.ndarray:
    """``datetime64[s]`` array of ``texts``; the first bad one raises (field ``table.rows[i].timestamp``)."""
    cleaned = []
    for i, text in enumerate(texts):
        match = _TIMESTAMP.fullmatch(text.strip())
        if match is None or (match[3] and match[3].strip("0")):
            raise ValidationError(
                f"table.rows[{i}].timestamp", f"line {lines[i]}: {_timestamp_problem(text)}"
            )
        cleaned.append(f"{match[1]}T{match[2]}")
    try:
        return np.array(cleaned, dtype="datetime64[s]")
    except ValueError:  # a well-formed but impossible date: find which row
        for i, text in enumerate(cleaned):
            if parse_timestamp(text) is None:
                raise ValidationError(
                    f"table.rows[{i}].timestamp",
                    f"line {lines[i]}: {texts[i]!r} is not a valid date and time",
                ) from None
        raise


def _parse_numbers(texts: Sequence[str], lines: Sequence[int], column: str) -> np.ndarray:
    """``float64`` array of ``texts``; the first missing, unparsable or non-finite one raises."""
    out = np.empty(len(texts), dtype=np.float64)
    for i, text in enumerate(texts):
        try:
            number = float(text)
        except ValueError:
            problem = "is missing" if not text.strip() else f"{text!r} is not a number"
            raise ValidationError(f"table.rows[{i}].{column}", f"line {lines[i]}: {problem}") from None
        if not math.isfinite(number):
            raise ValidationError(
                f"table.rows[{i}].{column}", f"line {lines[i]}: must be finite, got {text!r}"
            )
        out[i] = number
    return out


def _check_increasing(timestamps: np.ndarray, lines: Sequence[int]) -> None:
    """Raise for the first row whose timestamp is not after the previous row's."""
    steps = np.diff(timestamps.astype(np.int64))
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        relation = "repeats" if steps[bad[0]] == 0 else "is before"
        raise ValidationError(
            f"table.rows[{i}].timestamp",
            f"line {lines[i]}: {timestamps[i]} {relation} the previous row's {timestamps[i - 1]}; "
            "timestamps must be strictly increasing (strict_order=False keeps rows in file order, "
            "as NAB does for the few of its own series that break this)",
        )


def _read_table(path: Path, required: Sequence[str]) -> tuple[dict[str, list[str]], list[int]]:
    """The ``required`` columns of the CSV at ``path`` as text, and each data row's line number.

    Blank lines are skipped; other columns are ignored. Errors have fields ``table.header``,
    ``table.rows[i]`` or ``table`` (the caller puts the path in front with ``located``).
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            rows = list(_csv_rows(csv.reader(stream)))
    except UnicodeDecodeError as error:
        raise ValidationError("table", f"is not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise ValidationError("table", f"is not a valid CSV file: {error}") from None
    except OSError as error:
        raise ValidationError("table", f"cannot be read: {error.strerror or error}") from None
    if not rows:
        raise ValidationError("table", f"is empty; expected the header {','.join(required)} and data rows")
    header_line, header = rows[0]
    names = [name.strip() for name in header]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValidationError("table.header", f"line {header_line}: repeats column(s) {duplicated}")
    missing = [name for name in required if name not in names]
    if missing:
        raise ValidationError(
            "table.header",
            f"line {header_line}: lacks column(s) {missing}; found {names}, need {list(required)}",
        )
    if len(rows) == 1:
        raise ValidationError(
            "table.rows", f"has a header but no data rows; expected {','.join(required)} rows"
        )
    where = {name: names.index(name) for name in required}
    columns: dict[str, list[str]] = {name: [] for name in required}
    lines = []
    for i, (line, row) in enumerate(rows[1:]):
        if len(row) > len(names):
            raise ValidationError(
                f"table.rows[{i}]", f"line {line}: has {len(row)} fields, the header {len(names)}"
            )
        for name, at in where.items():
            columns[name].append(row[at] if at < len(row) else "")
        lines.append(line)
    return columns, lines


def _csv_rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records of a ``csv.reader`` with the line number each ends on."""
    for row in reader:
        if any(field.strip() for field in row):
            yield reader.line_num, row


# ----------------------------------------------------------------------------- reading


def read_series(path: str | os.PathLike, key: str | None = None, *, strict_order: bool = True) -> NabSeries:
    """Read one NAB series (``timestamp,value``) from ``path``.

    ``key`` defaults to the file name. Raises ValidationError (field ``<path>...``) for an
    empty file, a missing column, a missing or unparsable timestamp or value, or (unless
    ``strict_order`` is False) timestamps that are not strictly increasing (the row named
    is the later of the pair).
    """
    path = Path(path)
    try:
        columns, lines = _read_table(path, SERIES_COLUMNS)
        timestamps = _parse_timestamps(columns["timestamp"], lines)
        values = _parse_numbers(columns["value"], lines, "value")
        if strict_order:
            _check_increasing(timestamps, lines)
    except ValidationError as error:
        raise error.located(str(path)) from None
    return NabSeries(key if key is not None else path.name, timestamps, values)


def _csv_files(folder: Path) -> list[Path]:
    """Every ``*.csv`` under ``folder`` (recursively), skipping hidden files and folders."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        found.extend(
            Path(root, name) for name in sorted(files) if name.endswith(".csv") and not name.startswith(".")
        )
    return found


def read_corpus(folder: str | os.PathLike, *, strict_order: bool = True) -> dict[str, NabSeries]:
    """Read every NAB series under ``folder`` (recursively), keyed ``<category>/<file>.csv``.

    The category is the sub-folder's path relative to ``folder`` (NAB: ``data/<category>/``).
    Hidden files and folders are skipped. Raises ValidationError if ``folder`` is not a
    folder, holds no CSV file, or any file is malformed (see :func:`read_series`, which
    ``strict_order`` is passed to).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationError(str(folder), "is not a folder")
    files = _csv_files(folder)
    if not files:
        raise ValidationError(str(folder), "holds no .csv file (NAB layout: <folder>/<category>/<file>.csv)")
    corpus = {}
    for path in files:
        key = path.relative_to(folder).as_posix()
        corpus[key] = read_series(path, key, strict_order=strict_order)
    return corpus


def _parse_window(item: object) -> Window:
    """One ``[start, end]`` pair; errors have fields ``window``, ``window.start``, ``window.end``."""
    if not isinstance(item, list | tuple) or len(item) != 2:
        raise ValidationError("window", f"must be a [start, end] pair of timestamps, got {item!r}")
    limits = []
    for side, text in zip(("start", "end"), item, strict=True):
        parsed = parse_timestamp(text) if isinstance(text, str) else None
        if parsed is None:
            problem = _timestamp_problem(text) if isinstance(text, str) else f"must be a string, got {text!r}"
            raise ValidationError(f"window.{side}", problem)
        limits.append(parsed)
    start, end = limits
    if start > end:
        raise ValidationError("window", f"starts at {start}, after its end {end}")
    return Window(start, end)


def check_windows(windows: Sequence[Window], timestamps: np.ndarray | None = None) -> None:
    """Raise ValidationError unless ``windows`` are sorted and disjoint (each starts after
    the previous one ends) and, if ``timestamps`` are given, each limit is the timestamp of
    exactly one row (NAB matches window limits to rows exactly and rejects a limit on a
    repeated timestamp). Fields: ``windows[<j>]``, ``windows[<j>].start``/``.end``."""
    for j, (start, end) in enumerate(windows):
        if start > end:
            raise ValidationError(f"windows[{j}]", f"starts at {start}, after its end {end}")
        if j and start <= windows[j - 1].end:
            raise ValidationError(
                f"windows[{j}]",
                f"starts at {start}, not after the previous window's end {windows[j - 1].end}; "
                "windows must be sorted and disjoint",
            )
        if timestamps is not None:
            for side, limit in (("start", start), ("end", end)):
                matches = int(np.count_nonzero(timestamps == limit))
                if matches != 1:
                    problem = (
                        "is not a timestamp of" if not matches else f"is the timestamp of {matches} rows of"
                    )
                    raise ValidationError(
                        f"windows[{j}].{side}",
                        f"{limit} {problem} the series; NAB matches a window limit to exactly one row",
                    )


def read_json(path: Path) -> object:
    """The JSON document at ``path``; ValidationError (field = the path) if it cannot be read or parsed."""
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except OSError as error:
        raise ValidationError(str(path), f"cannot be read: {error.strerror or error}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValidationError(str(path), f"is not valid JSON: {error}") from None


def read_windows(
    path: str | os.PathLike, corpus: Mapping[str, NabSeries] | None = None
) -> dict[str, list[Window]]:
    """Read NAB's ``combined_windows.json``: key -> sorted, disjoint list of :class:`Window`.

    With ``corpus``, the result has exactly the corpus' keys (in its order): a key of the
    file naming no series of the corpus is dropped, a series without an entry gets no
    windows, and every window limit must be a timestamp of its series. Raises
    ValidationError (field ``<path>[<key>][<j>]``, ``...start``/``...end``) for invalid JSON,
    an entry that is not a list of ``[start, end]`` pairs, an unparsable timestamp, a window
    whose start is after its end, overlapping or unsorted windows, or (with ``corpus``) a
    limit that is not the timestamp of exactly one row of its series.
    """
    path = Path(path)
    raw = read_json(path)
    if not isinstance(raw, dict):
        raise ValidationError(str(path), f"must map file keys to window lists, got a {type(raw).__name__}")
    windows: dict[str, list[Window]] = {}
    for key, items in raw.items():
        if corpus is not None and key not in corpus:
            continue  # a window entry for a file this corpus does not hold
        if not isinstance(items, list):
            raise ValidationError(f"{path}[{key}]", f"must be a list of [start, end] pairs, got {items!r}")
        parsed = []
        for j, item in enumerate(items):
            try:
                parsed.append(_parse_window(item))
            except ValidationError as error:
                raise error.located(f"{path}[{key}][{j}]") from None
        try:
            check_windows(parsed, corpus[key].timestamps if corpus is not None else None)
        except ValidationError as error:
            j, _, side = error.field.removeprefix("windows[").partition("]")
            raise ValidationError(f"{path}[{key}][{j}]{side}", error.message) from None
        windows[key] = parsed
    if corpus is None:
        return windows
    return {key: windows.get(key, []) for key in corpus}


def window_labels(timestamps: np.ndarray, windows: Sequence[Window]) -> np.ndarray:
    """``int8`` array: 1 for each timestamp inside a window (``start <= t <= end``), else 0
    (NAB's labeler compares times, so this holds for rows out of order too)."""
    timestamps = np.asarray(timestamps, dtype="datetime64[s]")
    labels = np.zeros(len(timestamps), dtype=np.int8)
    for start, end in windows:
        labels[(timestamps >= start) & (timestamps <= end)] = 1
    return labels


def read_results_file(
    path: str | os.PathLike, key: str | None = None, *, strict_order: bool = True
) -> NabResults:
    """Read one NAB results file (``timestamp,value,anomaly_score,label``; other columns,
    such as NAB's ``S(t)_<profile>``, are ignored). ``key`` defaults to the file name.

    Raises ValidationError as :func:`read_series` does, and for a label other than 0 or 1.
    """
    path = Path(path)
    try:
        columns, lines = _read_table(path, RESULTS_COLUMNS)
        timestamps = _parse_timestamps(columns["timestamp"], lines)
        values = _parse_numbers(columns["value"], lines, "value")
        scores = _parse_numbers(columns["anomaly_score"], lines, "anomaly_score")
        labels = np.empty(len(lines), dtype=np.int8)
        for i, text in enumerate(columns["label"]):
            if text.strip() not in ("0", "1"):
                raise ValidationError(
                    f"table.rows[{i}].label", f"line {lines[i]}: must be 0 or 1, got {text!r}"
                )
            labels[i] = int(text)
        if strict_order:
            _check_increasing(timestamps, lines)
    except ValidationError as error:
        raise error.located(str(path)) from None
    return NabResults(key if key is not None else path.name, timestamps, values, scores, labels)


def read_results(
    out: str | os.PathLike, detector: str, *, strict_order: bool = True
) -> dict[str, NabResults]:
    """Read every results file of ``detector`` under ``out`` (``out/<detector>/<category>/
    <detector>_<file>.csv``), keyed by the series' key ``<category>/<file>.csv``.

    NAB's per-profile summaries (``*_scores.csv``) are skipped. Raises ValidationError if
    ``out/<detector>`` holds no results file or one is malformed (see
    :func:`read_results_file`, which ``strict_order`` is passed to).
    """
    _check_detector(detector)
    root = Path(out) / detector
    prefix = f"{detector}_"
    results = {}
    for path in _csv_files(root) if root.is_dir() else []:
        if not path.name.startswith(prefix) or path.name.endswith("_scores.csv"):
            continue
        relative = path.relative_to(root)
        key = relative.with_name(path.name[len(prefix) :]).as_posix()
        results[key] = read_results_file(path, key, strict_order=strict_order)
    if not results:
        raise ValidationError(str(root), f"holds no results file {prefix}<file>.csv")
    return results


# ----------------------------------------------------------------------------- writing


def _check_detector(detector: str) -> None:
    if (
        not isinstance(detector, str)
        or not detector
        or detector.startswith(".")
        or re.search(r"[/\\\s]", detector)
    ):
        raise ValidationError(
            "detector",
            f"must be a non-empty name without slashes or spaces, not starting with '.', got {detector!r}",
        )


def _check_key(key: str) -> None:
    parts = key.split("/") if isinstance(key, str) else []
    if (
        not parts
        or not key.endswith(".csv")
        or key.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise ValidationError("key", f"must be a relative path <category>/<file>.csv, got {key!r}")


def results_path(out: str | os.PathLike, detector: str, key: str) -> Path:
    """Where NAB keeps ``detector``'s results for series ``key``:
    ``out/<detector>/<category>/<detector>_<file>``."""
    _check_detector(detector)
    _check_key(key)
    category, _, name = key.rpartition("/")
    return Path(out, detector, *([category] if category else []), f"{detector}_{name}")


def write_results(
    out: str | os.PathLike,
    detector: str,
    key: str,
    timestamps: np.ndarray,
    values: np.ndarray,
    anomaly_scores: np.ndarray,
    windows: Sequence[Window] = (),
) -> Path:
    """Write one series' results in NAB's format to :func:`results_path` and return the path.

    Columns ``timestamp,value,anomaly_score,label`` with ``label`` = 1 for rows inside a
    window (``start <= t <= end``), else 0. Numbers are written so that they read back
    exactly. The file is written to a temp file in the same folder and renamed into place,
    so a reader never sees a partial file. Rows are written in the order given (NAB's own
    series are not all in time order). Raises ValidationError (before writing anything) if
    the arrays differ in length or are empty, a value is not finite or a score is outside
    [0, 1].
    """
    path = results_path(out, detector, key)
    timestamps = np.asarray(timestamps, dtype="datetime64[s]")
    values = np.asarray(values, dtype=np.float64)
    scores = np.asarray(anomaly_scores, dtype=np.float64)
    if timestamps.ndim != 1 or not len(timestamps):
        raise ValidationError("timestamps", f"must be a non-empty 1-D array, got shape {timestamps.shape}")
    for name, array in (("values", values), ("anomaly_scores", scores)):
        if array.shape != timestamps.shape:
            raise ValidationError(
                name, f"must have one entry per timestamp ({len(timestamps)}), got {array.shape}"
            )
    if np.isnat(timestamps).any():
        raise ValidationError(f"timestamps[{np.flatnonzero(np.isnat(timestamps))[0]}]", "must not be NaT")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValidationError(f"values[{bad[0]}]", f"must be finite, got {values[bad[0]]}")
    bad = np.flatnonzero(~((scores >= 0.0) & (scores <= 1.0)))
    if bad.size:
        raise ValidationError(f"anomaly_scores[{bad[0]}]", f"must be in [0, 1], got {scores[bad[0]]}")
    check_windows(list(windows))
    labels = window_labels(timestamps, windows)
    stamps = np.char.replace(np.datetime_as_string(timestamps, unit="s"), "T", " ")
    lines = [",".join(RESULTS_COLUMNS)]
    lines += [
        f"{stamp},{value!r},{score!r},{label}"
        for stamp, value, score, label in zip(
            stamps.tolist(), values.tolist(), scores.tolist(), labels.tolist(), strict=True
        )
    ]
    text = "\n".join(lines) + "\n"
    return write_atomic(path, lambda stream: stream.write(text.encode()))


def write_corpus_results(
    out: str | os.PathLike,
    detector: str,
    corpus: Mapping[str, NabSeries],
    anomaly_scores: Mapping[str, np.ndarray],
    windows: Mapping[str, Sequence[Window]],
) -> dict[str, Path]:
    """:func:`write_results` for every series of ``corpus`` (a series absent from
    ``windows`` has none); ``anomaly_scores`` must hold every key of ``corpus``."""
    missing = [key for key in corpus if key not in anomaly_scores]
    if missing:
        raise ValidationError("anomaly_scores", f"has no scores for {missing}")
    return {
        key: write_results(
            out, detector, key, series.timestamps, series.values, anomaly_scores[key], windows.get(key, ())
        )
        for key, series in corpus.items()
    }
