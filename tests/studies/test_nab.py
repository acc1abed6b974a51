"""NAB v1.1: corpus reader, results writer and scorer (``studies.experiments.nab``).

The scorer is checked against NAB's own published figures (``data/nab_reference``, see its
README): per-series scores and counts of ARTime (scored by NAB v1.1's code) and numenta
(NAB 1.0's), ARTime's per-row weights, the null detector's per-series lines for all 31
tuning series, and the normalisation of the published full-corpus totals.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

import snn.atomic
from snn.errors import ValidationError
from studies.experiments.nab import (
    NAB_PROFILES,
    CostProfile,
    Window,
    normalise,
    probation_length,
    read_corpus,
    read_profiles,
    read_results,
    read_results_file,
    read_series,
    read_windows,
    results_path,
    row_weights,
    scaled_sigmoid,
    score_corpus,
    score_file,
    sweep_thresholds,
    window_labels,
    write_corpus_results,
    write_results,
)

REFERENCE = Path(__file__).parent / "data" / "nab_reference"
TUNING = Path(os.environ.get("NAB_TUNING_DIR", "/work/shared/data/nab"))  # the 31-series tuning subset
needs_tuning = pytest.mark.skipif(
    not (TUNING / "data").is_dir(), reason=f"NAB tuning subset not at {TUNING} (set NAB_TUNING_DIR)"
)
PROFILES = tuple(NAB_PROFILES)
STANDARD = NAB_PROFILES["standard"]


def t(text: str) -> np.datetime64:
    return np.datetime64(text, "s")


def minutes(n: int, start: str = "2014-04-01T00:00:00", step: int = 5) -> np.ndarray:
    """``n`` timestamps ``step`` minutes apart."""
    return t(start) + np.arange(n) * np.timedelta64(step * 60, "s")


def window_rows(timestamps: np.ndarray, a: int, b: int) -> Window:
    return Window(timestamps[a], timestamps[b])


def published_lines(detector: str, profile: str) -> dict[str, dict[str, str]]:
    path = REFERENCE / "results" / detector / f"{detector}_{profile}_scores.csv"
    with open(path, newline="") as stream:
        return {row["File"] or row["Detector"]: row for row in csv.DictReader(stream)}


def reference_json(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text())


# ----------------------------------------------------------------------------- reader


def write(tmp_path: Path, text: str, name: str = "series.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


HEADER = "timestamp,value\n"
BAD_SERIES = {
    # name: (file text, field after the path, part of the message)
    "empty file": ("", "", "is empty"),
    "blank file": ("\n  \n", "", "is empty"),
    "header only": (HEADER, ".rows", "no data rows"),
    "missing column": ("timestamp,val\n2014-04-01 00:00:00,1\n", ".header", "lacks column(s) ['value']"),
    "no header": ("2014-04-01 00:00:00,1\n", ".header", "lacks column(s)"),
    "repeated column": ("timestamp,value,value\n2014-04-01 00:00:00,1,2\n", ".header", "repeats column"),
    "missing timestamp": (HEADER + "2014-04-01 00:00:00,1\n,2\n", ".rows[1].timestamp", "line 3: is missing"),
    "short timestamp": (HEADER + "2014-04-01 00:00,1\n", ".rows[0].timestamp", "is not a timestamp"),
    "impossible date": (HEADER + "2014-02-30 00:00:00,1\n", ".rows[0].timestamp", "not a valid date"),
    "fractional second": (HEADER + "2014-04-01 00:00:00.5,1\n", ".rows[0].timestamp", "fractional second"),
    "NaT": (HEADER + "NaT,1\n", ".rows[0].timestamp", "is not a timestamp"),
    "missing value": (
        HEADER + "2014-04-01 00:00:00,1\n2014-04-01 00:05:00,\n",
        ".rows[1].value",
        "is missing",
    ),
    "no value field": (HEADER + "2014-04-01 00:00:00\n", ".rows[0].value", "line 2: is missing"),
    "too many fields": (HEADER + "2014-04-01 00:00:00,1\n2014-04-01 00:05:00,1,5\n", ".rows[1]", "3 fields"),
    "text value": (HEADER + "2014-04-01 00:00:00,high\n", ".rows[0].value", "'high' is not a number"),
    "nan value": (HEADER + "2014-04-01 00:00:00,nan\n", ".rows[0].value", "must be finite"),
    "unsorted": (
        HEADER + "2014-04-01 00:00:00,1\n2014-04-01 00:10:00,2\n2014-04-01 00:05:00,3\n",
        ".rows[2].timestamp",
        "line 4: 2014-04-01T00:05:00 is before the previous row's",
    ),
    "duplicate": (
        HEADER + "2014-04-01 00:00:00,1\n2014-04-01 00:00:00,2\n",
        ".rows[1].timestamp",
        "repeats the previous row's",
    ),
}


@pytest.mark.parametrize("case", BAD_SERIES)
def test_bad_series_raise_one_error_naming_field_and_row(tmp_path, case):
    text, suffix, message = BAD_SERIES[case]
    path = write(tmp_path, text)
    with pytest.raises(ValidationError) as caught:
        read_series(path)
    assert caught.value.field == f"{path}{suffix}"
    assert message in caught.value.message


def test_read_series_parses_nab_csv(tmp_path):
    text = (
        "\ufefftimestamp,value,extra\r\n"
        "2014-04-01 00:00:00,10844,a\r\n"
        "2014-04-01T00:30:00.000000,-8.5e1,b\r\n"
        "\r\n"
        "2014-04-01 01:00:00, 3 ,c\r\n"
    )
    series = read_series(write(tmp_path, text), key="realKnownCause/nyc_taxi.csv")
    assert series.timestamps.dtype == np.dtype("datetime64[s]")
    assert series.values.dtype == np.float64
    np.testing.assert_array_equal(
        series.timestamps, [t("2014-04-01T00:00:00"), t("2014-04-01T00:30:00"), t("2014-04-01T01:00:00")]
    )
    np.testing.assert_array_equal(series.values, [10844.0, -85.0, 3.0])
    assert (series.category, series.name, len(series)) == ("realKnownCause", "nyc_taxi.csv", 3)


def test_strict_order_false_keeps_rows_in_file_order(tmp_path):
    text = BAD_SERIES["unsorted"][0]
    series = read_series(write(tmp_path, text), strict_order=False)
    np.testing.assert_array_equal(series.values, [1.0, 2.0, 3.0])
    assert series.timestamps[2] < series.timestamps[1]


def test_read_corpus_is_recursive_with_categories(tmp_path):
    row = "2014-04-01 00:00:00,1\n"
    for relative in ("data/b_cat/two.csv", "data/a_cat/one.csv", "data/a_cat/deeper/three.csv"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(HEADER + row)
    (tmp_path / "data/a_cat/.hidden.csv").write_text("junk")
    (tmp_path / "data/a_cat/notes.txt").write_text("junk")
    corpus = read_corpus(tmp_path / "data")
    assert list(corpus) == ["a_cat/one.csv", "a_cat/deeper/three.csv", "b_cat/two.csv"]
    assert [s.category for s in corpus.values()] == ["a_cat", "a_cat/deeper", "b_cat"]
    (tmp_path / "data/b_cat/bad.csv").write_text(HEADER + "yesterday,1\n")
    with pytest.raises(ValidationError) as caught:
        read_corpus(tmp_path / "data")
    assert caught.value.field == f"{tmp_path / 'data/b_cat/bad.csv'}.rows[0].timestamp"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="no .csv file"):
        read_corpus(tmp_path / "empty")


# ----------------------------------------------------------------------------- windows


def small_corpus(tmp_path: Path) -> dict:
    folder = tmp_path / "data" / "cat"
    folder.mkdir(parents=True)
    stamps = [f"2014-04-01 00:{m:02d}:00" for m in range(0, 60, 5)]
    for name in ("a.csv", "b.csv"):
        (folder / name).write_text(HEADER + "".join(f"{s},{i}\n" for i, s in enumerate(stamps)))
    return read_corpus(tmp_path / "data")


def write_windows(tmp_path: Path, windows: object) -> Path:
    path = tmp_path / "combined_windows.json"
    path.write_text(json.dumps(windows))
    return path


def test_read_windows_matches_corpus(tmp_path):
    corpus = small_corpus(tmp_path)
    path = write_windows(
        tmp_path,
        {
            "cat/a.csv": [
                ["2014-04-01 00:10:00.000000", "2014-04-01 00:20:00.000000"],
                ["2014-04-01 00:40:00", "2014-04-01 00:50:00"],
            ],
            "cat/elsewhere.csv": [["2099-01-01 00:00:00", "2099-01-02 00:00:00"]],  # not in the folder
        },
    )
    windows = read_windows(path, corpus)
    assert list(windows) == ["cat/a.csv", "cat/b.csv"]
    assert windows["cat/a.csv"] == [
        Window(t("2014-04-01T00:10:00"), t("2014-04-01T00:20:00")),
        Window(t("2014-04-01T00:40:00"), t("2014-04-01T00:50:00")),
    ]
    assert windows["cat/b.csv"] == []  # no entry: no windows
    assert "cat/elsewhere.csv" in read_windows(path)  # without a corpus every entry is kept
    labels = window_labels(corpus["cat/a.csv"].timestamps, windows["cat/a.csv"])
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0])


BAD_WINDOWS = {
    "start after end": ([["2014-04-01 00:20:00", "2014-04-01 00:10:00"]], "[0]", "after its end"),
    "bad end": ([["2014-04-01 00:10:00", "2014-04-01 25:00:00"]], "[0].end", "is not a timestamp"),
    "number start": ([[5, "2014-04-01 00:10:00"]], "[0].start", "must be a string"),
    "not a pair": ([["2014-04-01 00:10:00"]], "[0]", "[start, end] pair"),
    "overlap": (
        [["2014-04-01 00:10:00", "2014-04-01 00:20:00"], ["2014-04-01 00:20:00", "2014-04-01 00:30:00"]],
        "[1]",
        "not after the previous window's end",
    ),
    "not a row": ([["2014-04-01 00:11:00", "2014-04-01 00:20:00"]], "[0].start", "is not a timestamp of"),
    "not a list": ("2014-04-01", "", "must be a list"),
}


@pytest.mark.parametrize("case", BAD_WINDOWS)
def test_bad_windows_raise_one_error_naming_the_window(tmp_path, case):
    corpus = small_corpus(tmp_path)
    entry, suffix, message = BAD_WINDOWS[case]
    path = write_windows(tmp_path, {"cat/a.csv": entry})
    with pytest.raises(ValidationError) as caught:
        read_windows(path, corpus)
    assert caught.value.field == f"{path}[cat/a.csv]{suffix}"
    assert message in caught.value.message


def test_windows_file_not_json(tmp_path):
    path = tmp_path / "w.json"
    path.write_text("{")
    with pytest.raises(ValidationError) as caught:
        read_windows(path)
    assert caught.value.field == str(path) and "not valid JSON" in caught.value.message


# ----------------------------------------------------------------------------- writer


def test_write_results_layout_labels_and_round_trip(tmp_path, monkeypatch):
    stamps = minutes(8)
    values = np.array([1.0, 2.5, -3.0, 1e-300, 7.0, 0.1, 123456789.123, 8.0])
    scores = np.array([0.0, 1.0, 0.1, 1 / 3, 0.5, 0.9999999999, 0.2, 0.0])
    windows = [window_rows(stamps, 2, 3), window_rows(stamps, 6, 7)]
    renames = []
    real_replace = snn.atomic.os.replace

    def recording_replace(src, dst):
        renames.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(snn.atomic.os, "replace", recording_replace)
    path = write_results(
        tmp_path / "out", "mydet", "realTraffic/speed_1.csv", stamps, values, scores, windows
    )
    assert path == tmp_path / "out" / "mydet" / "realTraffic" / "mydet_speed_1.csv"
    assert path == results_path(tmp_path / "out", "mydet", "realTraffic/speed_1.csv")
    # written to a temp file in the same folder, then renamed into place; nothing else left
    assert len(renames) == 1 and renames[0][1] == path and renames[0][0].parent == path.parent
    assert sorted(p.name for p in path.parent.iterdir()) == ["mydet_speed_1.csv"]
    lines = path.read_text().splitlines()
    assert lines[0] == "timestamp,value,anomaly_score,label"
    assert lines[1] == "2014-04-01 00:00:00,1.0,0.0,0"
    assert [line.rsplit(",", 1)[1] for line in lines[1:]] == ["0", "0", "1", "1", "0", "0", "1", "1"]
    back = read_results(tmp_path / "out", "mydet")
    assert list(back) == ["realTraffic/speed_1.csv"]
    result = back["realTraffic/speed_1.csv"]
    np.testing.assert_array_equal(result.timestamps, stamps)
    np.testing.assert_array_equal(result.values, values)  # exactly: numbers are written with repr
    np.testing.assert_array_equal(result.anomaly_scores, scores)
    np.testing.assert_array_equal(result.labels, [0, 0, 1, 1, 0, 0, 1, 1])


def test_write_results_failure_keeps_previous_file(tmp_path, monkeypatch):
    stamps = minutes(3)
    path = write_results(tmp_path, "det", "cat/x.csv", stamps, [1, 2, 3], [0.1, 0.2, 0.3])
    before = path.read_bytes()
    with pytest.raises(ValidationError) as caught:
        write_results(tmp_path, "det", "cat/x.csv", stamps, [1, 2, 3], [0.1, 1.5, 0.3])
    assert caught.value.field == "anomaly_scores[1]"

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(snn.atomic.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_results(tmp_path, "det", "cat/x.csv", stamps, [4, 5, 6], [0.4, 0.5, 0.6])
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["det_x.csv"]  # the temp file is gone too


@pytest.mark.parametrize(
    ("detector", "key", "field"),
    [
        ("my/det", "c/x.csv", "detector"),
        ("", "c/x.csv", "detector"),
        ("det", "../x.csv", "key"),
        ("det", "c/x", "key"),
    ],
)
def test_write_results_rejects_bad_names(tmp_path, detector, key, field):
    with pytest.raises(ValidationError) as caught:
        write_results(tmp_path, detector, key, minutes(2), [1, 2], [0, 1])
    assert caught.value.field == field


def test_write_corpus_results_round_trip(tmp_path):
    corpus = small_corpus(tmp_path)
    windows = {"cat/a.csv": [window_rows(corpus["cat/a.csv"].timestamps, 2, 4)]}
    scores = {key: np.linspace(0, 1, len(series)) for key, series in corpus.items()}
    paths = write_corpus_results(tmp_path / "results", "det", corpus, scores, windows)
    assert sorted(p.relative_to(tmp_path / "results").as_posix() for p in paths.values()) == [
        "det/cat/det_a.csv",
        "det/cat/det_b.csv",
    ]
    back = read_results(tmp_path / "results", "det")
    assert back.keys() == corpus.keys()
    for key, series in corpus.items():
        np.testing.assert_array_equal(back[key].values, series.values)
        np.testing.assert_array_equal(back[key].anomaly_scores, scores[key])
        np.testing.assert_array_equal(
            back[key].labels, window_labels(series.timestamps, windows.get(key, []))
        )


# ----------------------------------------------------------------------------- tuning subset (real files)


@pytest.fixture(scope="module")
def tuning():
    corpus = read_corpus(TUNING / "data", strict_order=False)
    return corpus, read_windows(TUNING / "combined_windows.json", corpus)


@needs_tuning
def test_tuning_subset_reads_with_nab_order_quirks(tuning):
    corpus, windows = tuning
    assert len(corpus) == 31
    assert {s.category for s in corpus.values()} == {
        "artificialNoAnomaly",
        "artificialWithAnomaly",
        "realAdExchange",
        "realKnownCause",
        "realTraffic",
    }
    assert set(windows) == set(corpus) == set(json.loads((TUNING / "combined_windows.json").read_text()))
    assert sum(map(len, windows.values())) == 53
    assert sum(map(len, corpus.values())) == 139187  # non-blank lines minus the headers
    # NAB's own data repeats a timestamp here: the strict default names the row
    with pytest.raises(ValidationError) as caught:
        read_corpus(TUNING / "data")
    assert (
        caught.value.field
        == f"{TUNING / 'data/realAdExchange/exchange-2_cpc_results.csv'}.rows[1304].timestamp"
    )
    assert "repeats" in caught.value.message


@needs_tuning
def test_tuning_subset_write_read_round_trip(tmp_path, tuning):
    corpus, windows = tuning
    key = "realAdExchange/exchange-2_cpc_results.csv"  # has a repeated timestamp
    series = corpus[key]
    scores = np.random.default_rng(0).random(len(series))
    path = write_results(tmp_path, "det", key, series.timestamps, series.values, scores, windows[key])
    back = read_results_file(path, key, strict_order=False)
    np.testing.assert_array_equal(back.timestamps, series.timestamps)
    np.testing.assert_array_equal(back.values, series.values)
    np.testing.assert_array_equal(back.anomaly_scores, scores)
    assert back.labels.sum() == 406 - 244 + 1  # the window's rows


@needs_tuning
@pytest.mark.parametrize("profile", PROFILES)
def test_null_detector_lines_of_all_tuning_series(tuning, profile):
    """Probation length and window-to-row matching on the 31 real series: NAB's null lines
    count the scored rows inside (FN) and outside (TN) the windows of each series."""
    corpus, windows = tuning
    lines = published_lines("null", profile)
    threshold = reference_json("thresholds.json")["null"][profile]["threshold"]
    cost = NAB_PROFILES[profile]
    assert set(lines) - {"Totals"} == set(corpus)
    for key, series in corpus.items():
        scores = np.full(len(series), 0.5)
        got = score_file(series.timestamps, scores, windows[key], cost, threshold, key=key)
        line = lines[key]
        assert got.score == float(line["Score"]) == -cost.fn_weight * len(windows[key])
        assert (got.tp_rows, got.tn, got.fp, got.fn_rows) == tuple(
            int(line[c]) for c in ("TP", "TN", "FP", "FN")
        )
        assert got.n_rows == int(line["Total_Count"])  # NAB 1.0 counted every row
        assert got.n_scored == len(series) - probation_length(len(series))


@needs_tuning
@pytest.mark.parametrize("profile", PROFILES)
def test_tuning_subset_null_scores_0_and_perfect_100(tuning, profile):
    corpus, windows = tuning
    null = {k: (s.timestamps, np.full(len(s), 0.5)) for k, s in corpus.items()}
    perfect = {k: (s.timestamps, perfect_scores(s.timestamps, windows[k])) for k, s in corpus.items()}
    profiles = {profile: NAB_PROFILES[profile]}
    assert score_corpus(null, windows, profiles)[profile].score == 0.0
    result = score_corpus(perfect, windows, profiles)[profile]
    assert result.score == pytest.approx(100.0, abs=1e-12)
    assert result.perfect_score == 53 * NAB_PROFILES[profile].tp_weight
    assert result.null_score == -53 * NAB_PROFILES[profile].fn_weight
    assert all(f.tp == len(windows[k]) and f.fp == 0 and f.fn == 0 for k, f in result.files.items())


def perfect_scores(timestamps: np.ndarray, windows) -> np.ndarray:
    """1 at each window's first row, else 0: the detector NAB's normalisation calls perfect."""
    scores = np.zeros(len(timestamps))
    for start, _ in windows:
        scores[np.flatnonzero(timestamps == start)[0]] = 1.0
    return scores


# ----------------------------------------------------------------------------- scorer: definitions


def nab_sigmoid(y: float) -> float:
    return -1.0 if y > 3.0 else 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def test_scaled_sigmoid():
    positions = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 3.0001, 50.0])
    expected = [nab_sigmoid(y) for y in positions]
    np.testing.assert_allclose(scaled_sigmoid(positions), expected, rtol=0, atol=1e-15)
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=5e-6)
    assert scaled_sigmoid(0.0) == 0.0 and scaled_sigmoid(3.5) == -1.0


@pytest.mark.parametrize(
    ("n", "fraction", "expected"),
    [(1624, 0.15, 243), (4032, 0.15, 604), (5000, 0.15, 750), (5315, 0.15, 750), (22695, 0.15, 750)]
    + [(6000, 0.1, 500), (100, 0.0, 0), (100, 1.0, 100), (7, 0.15, 1)],
)
def test_probation_length(n, fraction, expected):
    assert probation_length(n, fraction) == expected


def test_probation_fraction_is_checked():
    with pytest.raises(ValidationError) as caught:
        probation_length(100, 1.5)
    assert caught.value.field == "probation"


def test_score_file_by_hand():
    """50 rows, probation 10% (5 rows), windows on rows 10..14 and 25..29 (width 5)."""
    stamps = minutes(50)
    windows = [window_rows(stamps, 10, 14), window_rows(stamps, 25, 29)]
    scores = np.zeros(50)
    detections = {2: 0.9, 6: 0.7, 12: 0.8, 13: 0.95, 16: 0.6, 31: 0.6, 39: 0.6, 49: 0.6}
    for row, score in detections.items():
        scores[row] = score
    cost = CostProfile(tp_weight=1.5, fp_weight=0.3, fn_weight=2.0)
    got = score_file(stamps, scores, windows, cost, threshold=0.6, probation=0.1)
    max_tp = nab_sigmoid(-1.0)
    expected = [
        # row 2 is probationary; row 6: a false positive with no window before it
        -cost.fp_weight,
        # window 1: rows 12 and 13 detected, only the earlier counts: y = -(14 - 12 + 1) / 5
        cost.tp_weight * nab_sigmoid(-3 / 5) / max_tp,
        # false positives after window 1 (right edge 14, width 5): y = (i - 14) / (5 - 1)
        cost.fp_weight * nab_sigmoid(2 / 4),
        # window 2 is missed
        -cost.fn_weight,
        # after window 2 (right edge 29): rows 31, 39 and 49 (y = 5 > 3: weight -1)
        cost.fp_weight * nab_sigmoid(2 / 4),
        cost.fp_weight * nab_sigmoid(10 / 4),
        -cost.fp_weight,
    ]
    assert got.score == pytest.approx(math.fsum(expected), abs=1e-14)
    assert (got.tp, got.fn, got.fp, got.tp_rows, got.fn_rows) == (1, 1, 5, 2, 8)
    assert (got.n_rows, got.n_scored, got.tn) == (50, 45, 45 - 10 - 5)
    # a threshold above every score detects nothing: -A_FN per window
    assert score_file(stamps, scores, windows, cost, 1.1, probation=0.1).score == -4.0
    # row weights are NAB's S(t): inside, after and before windows
    weights = row_weights(stamps, windows, cost, probation=0.1)
    assert weights[10] == pytest.approx(cost.tp_weight, abs=1e-15)  # a window's first row weighs A_TP
    assert weights[14] == pytest.approx(cost.tp_weight * nab_sigmoid(-1 / 5) / max_tp, abs=1e-15)
    assert weights[15] == pytest.approx(cost.fp_weight * nab_sigmoid(1 / 4), abs=1e-15)
    assert weights[3] == weights[9] == -cost.fp_weight


def test_probation_boundary_and_windows_inside_probation():
    """40 rows, probation 10% = 4 rows: rows 0..3 are not scored."""
    stamps = minutes(40)
    windows = [window_rows(stamps, 0, 2), window_rows(stamps, 3, 8), window_rows(stamps, 20, 24)]
    cost = STANDARD
    scores = np.zeros(40)
    scores[[3, 4]] = 1.0  # row 3 in probation, row 4 the first scored row (inside window 2)
    got = score_file(stamps, scores, windows, cost, 0.5, probation=0.1)
    # window 1 (rows 0..2) lies inside the probation: it is neither detected nor missed
    # window 2 (rows 3..8, width 6): the detection on row 3 does not count, row 4 does
    expected = nab_sigmoid(-(8 - 4 + 1) / 6) / nab_sigmoid(-1.0) - cost.fn_weight
    assert got.score == pytest.approx(expected, abs=1e-15)
    assert (got.tp, got.fn, got.fp, got.n_scored) == (1, 1, 0, 36)
    # the first scored row is row P: a detection there counts, one row earlier does not
    only_row_3 = np.zeros(40)
    only_row_3[3] = 1.0
    assert score_file(stamps, only_row_3, windows, cost, 0.5, probation=0.1).tp == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("score above 1", "results[s].anomaly_scores[3]"),
        ("nan score", "results[s].anomaly_scores[3]"),
        ("short scores", "results[s].anomaly_scores"),
        ("limit not a row", "windows[s][0].start"),
        ("one-row window", "windows[s][0]"),
        ("bad probation", "probation"),
    ],
)
def test_score_file_rejects_bad_input(change, field):
    stamps = minutes(20)
    scores = np.zeros(20)
    windows = [window_rows(stamps, 5, 8)]
    probation = 0.15
    if change == "score above 1":
        scores[3] = 1.01
    elif change == "nan score":
        scores[3] = np.nan
    elif change == "short scores":
        scores = scores[:-1]
    elif change == "limit not a row":
        windows = [Window(stamps[5] + np.timedelta64(1, "s"), stamps[8])]
    elif change == "one-row window":
        windows = [window_rows(stamps, 5, 5)]
    else:
        probation = -0.1
    with pytest.raises(ValidationError) as caught:
        score_file(stamps, scores, windows, STANDARD, 0.5, probation=probation, key="s")
    assert caught.value.field == field


def test_read_profiles(tmp_path):
    assert read_profiles(REFERENCE / "profiles.json") == NAB_PROFILES
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"mine": {"tpWeight": 2, "fpWeight": 0.5, "fnWeight": 1}}))
    assert read_profiles(flat) == {"mine": CostProfile(2, 0.5, 1, 1.0)}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"standard": {"CostMatrix": {"tpWeight": 1, "fnWeight": 1}}}))
    with pytest.raises(ValidationError) as caught:
        read_profiles(bad)
    assert caught.value.field == f"{bad}.standard.fpWeight"


# ----------------------------------------------------------------------------- scorer: threshold sweep


def synthetic_corpus(seed: int = 1):
    """Three series with windows and scores on a 0.05 grid (so that thresholds tie across rows)."""
    rng = np.random.default_rng(seed)
    results, windows = {}, {}
    for name, n, spans in (("a", 300, [(80, 110), (200, 230)]), ("b", 200, []), ("c", 250, [(120, 160)])):
        stamps = minutes(n)
        scores = np.round(rng.random(n) ** 3 * 20) / 20
        for a, b in spans:
            scores[a + rng.integers(0, b - a)] = 0.95
        results[f"cat/{name}.csv"] = (stamps, scores)
        windows[f"cat/{name}.csv"] = [window_rows(stamps, a, b) for a, b in spans]
    return results, windows


@pytest.mark.parametrize("profile", PROFILES)
def test_sweep_scores_every_distinct_threshold_and_picks_the_best(profile):
    results, windows = synthetic_corpus()
    cost = NAB_PROFILES[profile]
    sweep = sweep_thresholds(results, windows, cost)
    scorable = np.concatenate([s[probation_length(len(s)) :] for _, s in results.values()])
    candidates = np.concatenate([[1.1], np.unique(scorable)[::-1]])
    np.testing.assert_array_equal(sweep.thresholds, candidates)
    brute = np.array(
        [
            math.fsum(
                score_file(ts, s, windows[k], cost, threshold, key=k).score for k, (ts, s) in results.items()
            )
            for threshold in candidates
        ]
    )
    np.testing.assert_allclose(sweep.scores, brute, rtol=0, atol=1e-12)
    assert sweep.best == int(np.argmax(brute)) and sweep.score == pytest.approx(brute.max(), abs=1e-12)
    corpus = score_corpus(results, windows, {profile: cost})[profile]
    assert corpus.threshold == sweep.threshold
    assert {f.threshold for f in corpus.files.values()} == {sweep.threshold}  # one threshold for the corpus
    assert corpus.raw_score == pytest.approx(brute.max(), abs=1e-12)
    # no other threshold does better on the corpus
    assert all(corpus.raw_score >= b - 1e-12 for b in brute)


def test_sweep_ties_go_to_the_highest_threshold():
    """A later detection in an already detected window changes nothing: the tie between
    thresholds 0.9 and 0.5 goes to 0.9, as NAB's stable sort by score keeps it first."""
    stamps = minutes(100)
    windows = {"c/x.csv": [window_rows(stamps, 40, 59)]}
    scores = np.zeros(100)
    scores[40], scores[50] = 0.9, 0.5
    sweep = sweep_thresholds({"c/x.csv": (stamps, scores)}, windows, STANDARD)
    np.testing.assert_array_equal(sweep.thresholds, [1.1, 0.9, 0.5, 0.0])
    assert sweep.scores[1] == sweep.scores[2] == 1.0
    assert sweep.threshold == 0.9
    # ... and a corpus with no detection better than none keeps 1.1
    none = sweep_thresholds({"c/x.csv": (stamps, np.where(np.arange(100) < 30, 0.8, 0.0))}, windows, STANDARD)
    assert none.threshold == 1.1 and none.score == -1.0


def test_null_scores_0_and_perfect_scores_100():
    results, windows = synthetic_corpus()
    null = {k: (ts, np.full(len(ts), 0.5)) for k, (ts, _) in results.items()}
    perfect = {k: (ts, perfect_scores(ts, windows[k])) for k, (ts, _) in results.items()}
    late = {}  # each window detected on its second row instead: less than perfect
    for k, (ts, _) in results.items():
        late[k] = (ts, np.roll(perfect_scores(ts, windows[k]), 1))
    for profile in PROFILES:
        assert score_corpus(null, windows)[profile].score == 0.0
        assert score_corpus(perfect, windows)[profile].score == pytest.approx(100.0, abs=1e-12)
        assert score_corpus(late, windows)[profile].score < 100.0 - 1e-6
    scored = score_corpus(results, windows)
    assert scored.n_windows == 3 and set(scored.scores) == set(PROFILES)
    assert 0.0 < scored["standard"].score < 100.0


def test_normalise():
    assert normalise(-116.0, -116.0, 116.0) == 0.0
    assert normalise(116.0, -116.0, 116.0) == 100.0
    with pytest.raises(ValidationError):
        normalise(0.0, 0.0, 0.0)  # no windows


# ------------------------------------------------------------------------ scorer: NAB's published figures


REFERENCE_SERIES = {
    "ARTime": (
        "artificialNoAnomaly/art_daily_no_noise.csv",
        "realAdExchange/exchange-2_cpc_results.csv",
        "realTraffic/speed_6005.csv",
        "realTraffic/speed_7578.csv",
    ),
    "numenta": ("realAdExchange/exchange-2_cpc_results.csv", "realTraffic/speed_7578.csv"),
}


@pytest.fixture(scope="module")
def reference():
    windows_path = REFERENCE / "combined_windows.json"
    results = {det: read_results(REFERENCE / "results", det, strict_order=False) for det in REFERENCE_SERIES}
    return results, read_windows(windows_path)


def twelve_digit_tolerance(published: float) -> float:
    """Half a unit in the 12th significant digit (NAB 1.0 wrote floats with Python 2's str)."""
    if published == 0.0:
        return 1e-15
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(published))) - 11) * (1 + 1e-9)


@pytest.mark.parametrize("detector", REFERENCE_SERIES)
@pytest.mark.parametrize("profile", PROFILES)
def test_per_series_scores_match_nab(reference, detector, profile):
    results, windows = reference
    assert set(results[detector]) == set(REFERENCE_SERIES[detector])
    threshold = reference_json("thresholds.json")[detector][profile]["threshold"]
    lines = published_lines(detector, profile)
    for key, result in results[detector].items():
        got = score_file(
            result.timestamps, result.anomaly_scores, windows[key], NAB_PROFILES[profile], threshold
        )
        line = lines[key]
        published = float(line["Score"])
        if detector == "ARTime":  # NAB v1.1, full precision
            assert got.score == pytest.approx(published, rel=0, abs=1e-14), key
            assert got.n_scored == int(line["Total_Count"])  # v1.1 counts the scored rows
        else:  # NAB 1.0, 12 significant digits
            assert abs(got.score - published) <= twelve_digit_tolerance(published), key
            assert got.n_rows == int(line["Total_Count"])  # 1.0 counted every row
        assert (got.tp_rows, got.tn, got.fp, got.fn_rows) == tuple(
            int(line[c]) for c in ("TP", "TN", "FP", "FN")
        )
        assert float(line["Threshold"]) == pytest.approx(threshold, rel=1e-11)


@pytest.mark.parametrize("key", REFERENCE_SERIES["ARTime"])
def test_row_weights_match_nab_s_of_t(key):
    """ARTime's results files hold NAB v1.1's per-row weights S(t)_<profile>."""
    category, _, name = key.rpartition("/")
    with open(REFERENCE / "results" / "ARTime" / category / f"ARTime_{name}", newline="") as stream:
        rows = list(csv.DictReader(stream))
    stamps = np.array([row["timestamp"].replace(" ", "T") for row in rows], dtype="datetime64[s]")
    windows = read_windows(REFERENCE / "combined_windows.json")[key]
    for profile, cost in NAB_PROFILES.items():
        published = np.array([float(row[f"S(t)_{profile}"]) for row in rows])
        np.testing.assert_allclose(row_weights(stamps, windows, cost), published, rtol=0, atol=1e-14)


@pytest.mark.parametrize("profile", PROFILES)
def test_published_corpus_totals_normalise_to_final_results(profile):
    """Full corpus (58 series, 116 windows): 100 (raw - null) / (116 tpWeight - null)."""
    final = reference_json("final_results.json")
    null_raw = float(published_lines("null", profile)["Totals"]["Score"])
    cost = NAB_PROFILES[profile]
    assert null_raw == -116 * cost.fn_weight  # the null detector misses every window
    for detector in ("ARTime", "numenta", "null"):
        raw = float(published_lines(detector, profile)["Totals"]["Score"])
        got = normalise(raw, null_raw, 116 * cost.tp_weight)
        assert got == pytest.approx(final[detector][profile], rel=1e-14, abs=1e-14), detector


NAB_ROOT = os.environ.get("NAB_ROOT")  # a NAB working tree: enables the full-corpus check


@pytest.mark.skipif(not NAB_ROOT, reason="set NAB_ROOT to a NAB working tree to score its full corpus")
def test_full_corpus_artime_matches_published_scores():
    """ARTime is the one detector NAB published after v1.1's threshold sweep: the sweep over
    its 58 series must find NAB's thresholds and normalised scores."""
    root = Path(NAB_ROOT)
    results = read_results(root / "results", "ARTime", strict_order=False)
    scored = score_corpus(results, read_windows(root / "labels" / "combined_windows.json"))
    thresholds = json.loads((root / "config" / "thresholds.json").read_text())["ARTime"]
    final = json.loads((root / "results" / "final_results.json").read_text())["ARTime"]
    assert scored.n_windows == 116
    for profile, result in scored.profiles.items():
        assert result.threshold == thresholds[profile]["threshold"]
        assert result.sweep_score == pytest.approx(thresholds[profile]["score"], abs=1e-12)
        assert result.score == pytest.approx(final[profile], abs=1e-12)
