"""`snn sequence`: the temporal-memory tasks and NAB detection end to end, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studies.cli import main
from studies.experiments.nab import read_results, score_corpus
from studies.experiments.sequences import synthetic_series


def test_high_order_default_predicts_every_predictable_element(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sequence", "--out", str(out), "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((out / "results.json").read_text())
    assert report["accuracy"] == 1.0 and report["after_shared_accuracy"] == 1.0
    assert 0.0 <= report["noisy_accuracy"] <= 1.0 and report["noise"] == 0.1
    assert (out / "sequence.png").stat().st_size > 10_000
    assert "accuracy" in capsys.readouterr().out


def test_the_spiking_engine_gives_the_array_engines_results(tmp_path, capsys):
    """The high-order task on dendritic-segment LIF cells in snn.Simulator: every figure equal
    to the array temporal memory's (the same segments grow from the same spikes)."""
    reports = {}
    for engine in ("array", "spiking"):
        out = tmp_path / engine
        assert main(["sequence", "--engine", engine, "--epochs", "20", "--out", str(out)]) == 0
        reports[engine] = json.loads((out / "results.json").read_text())
    array, spiking = reports["array"], reports["spiking"]
    assert spiking.pop("engine") == "spiking" and array.pop("engine") == "array"
    assert spiking == array
    assert array["accuracy"] > 0.9 and array["segments"] > 300
    assert "spiking" in capsys.readouterr().out


def test_branching_predicts_the_union_of_successors(tmp_path):
    out = tmp_path / "out"
    assert main(["sequence", "--task", "branching", "--out", str(out)]) == 0
    report = json.loads((out / "results.json").read_text())
    assert min(report["successor_shares_predicted"]) == 1.0 and report["extra_columns_predicted"] == 0


def _nab_folder(root, rows=1500):
    """A NAB corpus of two synthetic series (one per category) and its windows file (a layout
    check: the windows mark no injected anomaly)."""
    windows = {}
    for k, category in enumerate(("synthA", "synthB")):
        timestamps, values, spans = synthetic_series(seed=k, days=6)
        timestamps, values = timestamps[:rows], values[:rows]
        folder = root / "data" / category
        folder.mkdir(parents=True)
        lines = ["timestamp,value"] + [
            f"{str(t).replace('T', ' ')},{v:.6f}" for t, v in zip(timestamps, values, strict=True)
        ]
        (folder / f"series_{k}.csv").write_text("\n".join(lines) + "\n")
        start, stop = 1200, 1260
        windows[f"{category}/series_{k}.csv"] = [
            [
                str(timestamps[start]).replace("T", " ") + ".000000",
                str(timestamps[stop]).replace("T", " ") + ".000000",
            ]
        ]
    (root / "combined_windows.json").write_text(json.dumps(windows))
    return root / "data"


def test_nab_writes_nabs_layout_and_scores_it(tmp_path):
    data = _nab_folder(tmp_path / "corpus")
    out = tmp_path / "out"
    assert main(["sequence", "--task", "nab", "--data", str(data), "--out", str(out)]) == 0
    report = json.loads((out / "results.json").read_text())
    assert set(report["scores"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    written = out / "htm" / "synthA" / "htm_series_0.csv"
    assert written.read_text().splitlines()[0] == "timestamp,value,anomaly_score,label"
    # NAB's layout reads back and scores to the same figures (what NAB's own scorer would see)
    results = read_results(out, "htm")
    assert set(results) == {"synthA/series_0.csv", "synthB/series_1.csv"}
    from studies.experiments.nab import read_windows

    again = score_corpus(results, read_windows(tmp_path / "corpus" / "combined_windows.json"))
    assert again.scores == pytest.approx(report["scores"], abs=1e-9)
    scores = results["synthA/series_0.csv"].anomaly_scores
    assert np.all((scores >= 0) & (scores <= 1)) and scores.max() > 0


def _bad_csv(tmp_path, body):
    folder = tmp_path / "bad" / "cat"
    folder.mkdir(parents=True)
    (folder / "x.csv").write_text(body)
    return tmp_path / "bad"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "nope"], "--task"),
        (["--task", "nab"], "--data"),
        (["--noise", "1.5"], "--noise"),
        (["--epochs", "0"], "--epochs"),
        (["--timestamps", "sorted"], "--timestamps"),
        (["--data", "."], "--data"),
        (["--engine", "loihi"], "--engine"),
        (["--task", "branching", "--engine", "spiking"], "--engine"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main(["sequence", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("timestamp,value\n2014-01-01 00:05:00,1\n2014-01-01 00:00:00,2\n", "rows[1].timestamp"),
        ("timestamp,value\n2014-01-01 00:00:00,1\n,2\n", "rows[1].timestamp"),
        ("timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,\n", "rows[1].value"),
    ],
    ids=["unsorted", "missing-timestamp", "missing-value"],
)
def test_bad_nab_csvs_give_one_line_naming_the_row(tmp_path, capsys, body, message):
    out = tmp_path / "out"
    assert (
        main(["sequence", "--task", "nab", "--data", str(_bad_csv(tmp_path, body)), "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not out.exists()
