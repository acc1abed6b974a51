"""`snn reservoir` as a user runs it."""

import json

import pytest

from tests.studies.test_cli import snn_cli

KEYS = {"task", "model", "units", "nrmse", "rmse", "fit_s", "run_s", "jit_s"}


def test_mackey_glass_default(tmp_path):
    out = tmp_path / "out"
    done = snn_cli("reservoir", "--out", out, "--json", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [".snn-output", "reservoir.png", "results.json"]
    report = json.loads((out / "results.json").read_text())
    assert KEYS <= set(report) and report["task"] == "mackey-glass" and report["units"] == 100
    assert report["nrmse"] < 0.05 and report["generative_nrmse"] < 1.0
    assert json.loads((tmp_path / "r.json").read_text()) == report
    assert "nrmse" in done.stdout and "jit / fit / run" in done.stdout


def test_memory_capacity_and_digits(tmp_path):
    done = snn_cli("reservoir", "--task", "memory-capacity", "--out", tmp_path / "mc")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "mc" / "results.json").read_text())
    assert report["memory_capacity"] >= 45
    done = snn_cli("reservoir", "--task", "digits", "--units", "200", "--out", tmp_path / "d")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "d" / "results.json").read_text())["accuracy"] > 0.9


@pytest.mark.parametrize(
    "args, field",
    [
        (["--leak", "1.5"], "ESN.leak"),
        (["--spectral-radius", "0"], "ESN.spectral_radius"),
        (["--task", "lorenz"], "--task"),
        (["--model", "lsm"], "--model"),  # the LSM runs digits only
        (["--ridge", "-1"], "--ridge"),
        (["--seed", "-1"], "--seed"),
        (["--task", "digits", "--model", "lsm", "--leak", "0.5"], "--leak"),  # an ESN flag
        (["--task", "digits", "--model", "lsm", "--units", "0"], "LSM.units"),
    ],
)
def test_bad_input_exits_2_without_output(tmp_path, args, field):
    done = snn_cli("reservoir", *args, "--out", tmp_path / "x")
    assert done.returncode == 2 and field in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()


def test_ridge_flag_overrides_the_task_default(tmp_path):
    done = snn_cli("reservoir", "--ridge", "1e-7", "--out", tmp_path / "r")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "r" / "results.json").read_text())["ridge"] == 1e-7
