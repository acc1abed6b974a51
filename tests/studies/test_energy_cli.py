"""`snn energy` and `snn sparse-code` end to end (files, figures, JSON) and bad input."""

from __future__ import annotations

import json

import pytest

from studies.cli import main


@pytest.mark.parametrize(
    "args",
    [
        ["--task", "ellipse", "--steps", "200"],
        ["--task", "moons", "--steps", "50"],
        ["--task", "digits", "--steps", "20"],
        ["--task", "jem", "--epochs", "2", "--seeds", "1"],
        ["--task", "ood", "--features", "mlp,jem,mlp-hidden", "--epochs", "2", "--seeds", "2"],
    ],
)
def test_energy_writes_results_and_a_plot(tmp_path, capsys, args):
    out = tmp_path / "out"
    assert main(["energy", *args, "--out", str(out), "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((out / "results.json").read_text())
    assert report == json.loads((tmp_path / "r.json").read_text())
    assert report["task"] == args[1]
    if args[1] == "ood":
        assert len(report["runs"]) == 6 and all(0.6 < r["auroc_energy"] <= 1 for r in report["runs"])
    assert (out / "energy.png").stat().st_size > 5_000
    assert "written" in capsys.readouterr().out


def test_sparse_code_runs_every_solver(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["sparse-code", "--atoms", "24", "--patches", "1200", "--steps", "2,3", "--epochs", "2",
            "--signals", "1", "--duration", "0.5", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    report = json.loads((out / "results.json").read_text())
    assert abs(report["solvers"]["fista_relative_to_sklearn"]) < 1e-6
    assert abs(report["solvers"]["ista_relative_to_sklearn"]) < 1e-6
    assert [row["steps"] for row in report["lista"]] == [2, 3]
    assert report["lca"][0]["spikes"] > 0 and report["lca"][0]["synaptic_ops"] > 0
    for figure in ("dictionary.png", "rates.png", "lista.png", "lca.png"):
        assert (out / figure).stat().st_size > 5_000
    assert "lca patch 0" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["energy", "--task", "sine"], "--task"),
        (["energy", "--steps", "0"], "--steps"),
        (["energy", "--dataset", "cifar"], "--dataset"),
        (["energy", "--task", "ood", "--features", "mlp,resnet"], "--features"),
        (["sparse-code", "--lambda", "-0.1"], "--lambda"),
        (["sparse-code", "--solver", "omp"], "--solver"),
        (["sparse-code", "--steps", "0"], "--steps"),
        (["sparse-code", "--atoms", "1"], "--atoms"),
        (["sparse-code", "--backend", "loihi"], "--backend"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    out = tmp_path / "never"
    assert main([*args, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error and len(error.strip().splitlines()) == 1
    assert not out.exists()
