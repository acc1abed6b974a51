"""The `snn` command as a user runs it: in a subprocess, reading exit codes and files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUMMARY_KEYS = {"backend", "neurons", "duration_s", "mean_rate_hz", "cv_isi", "build_s", "compile_s", "run_s"}


def snn_cli(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "studies.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
    )


def test_simulate_default_network(tmp_path):
    out = tmp_path / "out"
    done = snn_cli(
        "simulate", "--duration", "0.2", "--out", out, "--json", tmp_path / "s.json", "--no-progress"
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".snn-output",
        "raster.png",
        "spikes.npz",
        "summary.json",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["neurons"] == 4000 and summary["backend"] == "numba"
    assert 1.0 < summary["mean_rate_hz"] < 30.0
    assert json.loads((tmp_path / "s.json").read_text()) == summary
    assert "mean rate" in done.stdout and str(out) in done.stdout
    # the spikes file is a Result that loads back
    import snn

    assert snn.Result.load(out / "spikes.npz").mean_rate() == pytest.approx(summary["mean_rate_hz"])


def test_simulate_toml_with_float32(tmp_path):
    done = snn_cli(
        "simulate",
        ROOT / "examples" / "poisson_driven.toml",
        "--duration",
        "0.3",
        "--float32",
        "--threads",
        "2",
        "--out",
        tmp_path,
        "--no-progress",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["dtype"] == "float32" and summary["neurons"] == 401
    assert summary["threads"] in (1, 2)  # 1 when the second core was busy and the run fell back


@pytest.mark.parametrize(
    "args, field",
    [
        (["--duration", "0"], "--duration"),
        (["--duration", "-2"], "--duration"),
        (["--dt", "-1e-4"], "--dt"),
        (["--threads", "0"], "--threads"),
    ],
)
def test_bad_options_exit_2_without_output(tmp_path, args, field):
    out = tmp_path / "out"
    done = snn_cli("simulate", *args, "--out", out, "--json", tmp_path / "s.json")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and field in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_toml_exit_2_naming_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[[population]]\nname = "a"\nsize = 10\nparams = { tau_mem = -0.01 }\n')
    done = snn_cli("simulate", config, "--out", tmp_path / "out")
    assert done.returncode == 2 and "population[0].params.tau_mem" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()
    config.write_text('[[population]]\nname = "a"\nsize = 10\nweight = 1\n')
    done = snn_cli("simulate", config, "--out", tmp_path / "out")
    assert done.returncode == 2 and "population[0].weight: unknown key" in done.stderr
    done = snn_cli("simulate", tmp_path / "missing.toml", "--out", tmp_path / "out")
    assert done.returncode == 2 and "not found" in done.stderr
    config.write_text("[[population]\n")
    done = snn_cli("simulate", config, "--out", tmp_path / "out")
    assert done.returncode == 2 and "not valid TOML" in done.stderr


def test_usage_errors_exit_2():
    assert snn_cli("simulate", "--duration", "soon").returncode == 2
    assert snn_cli("frobnicate").returncode == 2
    assert snn_cli().returncode == 2


def test_help_answers_questions():
    done = snn_cli("simulate", "--help")
    assert done.returncode == 0
    for option in ("--duration", "--dt", "--seed", "--float32", "--out", "--json", "CUBA"):
        assert option in done.stdout
    assert "--against" in snn_cli("bench", "--help").stdout


def test_bench_ours_only_writes_json(tmp_path):
    report = tmp_path / "bench.json"
    done = snn_cli(
        "bench",
        "cuba",
        "--neurons",
        "500",
        "1000",
        "--duration",
        "0.1",
        "--repeats",
        "1",
        "--against",
        "none",
        "--json",
        report,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(report.read_text())
    assert [r["neurons"] for r in data["results"]] == [500, 1000]
    row = data["results"][0]
    assert {
        "neurons",
        "synapses",
        "duration_s",
        "ours_run_s",
        "ours_compile_s",
        "ours_bytes_per_synapse",
    } <= set(row)
    assert row["ours_bytes_per_synapse"] <= 16
    # this process ran the kernels already, so a new one loads them from the cache
    assert data["fresh_process"]["cache_misses"] == 0


def test_bench_against_brian2_numpy(tmp_path):
    pytest.importorskip("brian2")
    report = tmp_path / "bench.json"
    done = snn_cli(
        "bench",
        "cuba",
        "--neurons",
        "1000",
        "--duration",
        "0.1",
        "--repeats",
        "1",
        "--targets",
        "numpy",
        "--json",
        report,
    )
    assert done.returncode == 0, done.stderr
    row = json.loads(report.read_text())["results"][0]
    assert row["brian2_numpy_run_s"] > 0 and "ratio_ours_to_numpy" in row


def test_bench_bad_input():
    done = snn_cli("bench", "cuba", "--neurons", "1", "--against", "none")
    assert done.returncode == 2 and "--neurons" in done.stderr


def test_out_that_is_a_file_exits_2(tmp_path):
    target = tmp_path / "taken"
    target.write_text("keep me")
    done = snn_cli("simulate", "--duration", "0.05", "--out", target, "--no-progress")
    assert done.returncode == 2 and "--out" in done.stderr and "Traceback" not in done.stderr
    assert target.read_text() == "keep me"


def test_rerun_into_the_same_directory_replaces_files(tmp_path):
    for seed in ("1", "2"):
        done = snn_cli(
            "simulate", "--duration", "0.05", "--seed", seed, "--out", tmp_path / "o", "--no-progress"
        )
        assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no staging directory left behind


@pytest.mark.parametrize(
    "args, field",
    [
        (["--dataset", "cifar10"], "--dataset"),
        (["--timesteps", "0"], "--timesteps"),
        (["--models", "resnet"], "--models"),
        (["--seeds", "0"], "--seeds"),
        (["--surrogate", "sigmoidal"], "--surrogate"),
    ],
)
def test_compare_bad_input_exit_2(tmp_path, args, field):
    done = snn_cli("compare", *args, "--out", tmp_path / "out")
    assert done.returncode == 2 and field in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_compare_small_run(tmp_path):
    pytest.importorskip("torch")
    report = tmp_path / "c.json"
    done = snn_cli(
        "compare",
        "--dataset",
        "digits",
        "--models",
        "mlp",
        "converted",
        "--seeds",
        "1",
        "--timesteps",
        "4",
        "16",
        "--epochs",
        "20",
        "--out",
        tmp_path / "out",
        "--json",
        report,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(report.read_text())
    assert data["dataset"] == "digits"
    keys = {
        "model",
        "kind",
        "timesteps",
        "accuracy_mean",
        "accuracy_std",
        "synaptic_ops",
        "energy_j",
        "seconds",
        "jit_seconds",
    }
    assert all(keys <= set(row) for row in data["rows"])
    assert [r["timesteps"] for r in data["rows"] if r["kind"] == "snn"] == [4, 16]
    # the converted rows run on the Numba simulator: its kernel loading is reported beside
    # their time; the torch rows have none
    assert all(r["jit_seconds"] > 0 for r in data["rows"] if r["kind"] == "snn")
    assert all(r["jit_seconds"] == 0 for r in data["rows"] if r["kind"] == "ann")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".snn-output",
        "compare.json",
        "compare.md",
        "compare.png",
    ]
