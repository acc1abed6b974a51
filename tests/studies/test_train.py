"""`snn train lsnn`: files, the saved model running under `snn simulate`, bad input, learning."""

import json

import numpy as np
import pytest

from tests.studies.test_cli import snn_cli

METRIC_KEYS = {"task", "rule", "test_accuracy", "test_error", "train_seconds", "jit_seconds", "steps_per_s"}


@pytest.mark.parametrize("rule", ["eprop", "random-eprop", "bptt"])
def test_train_writes_metrics_and_a_runnable_model(tmp_path, rule):
    out = tmp_path / "run"
    done = snn_cli("train", "lsnn", "--task", "delayed-xor", "--rule", rule, "--iterations", "3",
                   "--batch", "4", "--out", out, "--json", tmp_path / "m.json", "--no-progress")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".snn-output", "learning_curve.png", "metrics.json", "model.toml", "weights.npz"
    ]  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert METRIC_KEYS <= set(metrics)
    assert metrics["task"] == "delayed-xor" and metrics["rule"] == rule and metrics["iterations"] == 3
    assert 0 <= metrics["test_accuracy"] <= 1
    assert metrics["test_error"] == pytest.approx(1 - metrics["test_accuracy"])
    # a one-shot process pays Numba's cache loading once; it is reported beside, not inside, training
    assert metrics["jit_seconds"] > 0 and metrics["train_seconds"] > 0
    assert f"+ {metrics['jit_seconds']:.2f} s JIT" in done.stdout, done.stdout
    assert json.loads((tmp_path / "m.json").read_text()) == metrics
    simulated = snn_cli("simulate", out / "model.toml", "--out", tmp_path / "sim", "--no-progress")
    assert simulated.returncode == 0, simulated.stderr
    summary = json.loads((tmp_path / "sim" / "summary.json").read_text())
    assert summary["neurons"] == 40 + 2 and summary["spikes"] > 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--task", "sudoku"], "--task"),
        (["--rule", "hebb"], "--rule"),
        (["--iterations", "0"], "--iterations"),
        (["--lr", "-1"], "--lr"),
        (["gan"], "model"),
    ],
)
def test_train_bad_input_exit_2(tmp_path, args, field):
    done = snn_cli("train", *args, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert field in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_eprop_learns_store_recall():
    """Bellec et al. (2018): an LSNN of 10 LIF + 10 ALIF neurons learns to store and recall a
    bit over delays beyond its membrane time constants; here within 300 batches."""
    from studies.experiments import tasks
    from studies.experiments.lsnn_training import train

    result = train(tasks.get("store-recall"), "eprop", seed=0, iterations=300, progress=False)
    assert result.test_accuracy >= 0.9
    assert np.isfinite(result.history[-1]["loss"])
