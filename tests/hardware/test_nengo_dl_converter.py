"""The Keras -> NengoDL converter route on scikit-learn digits, and its `snn compare` row.

Reference point: NengoDL's "Converting a Keras model to a spiking neural network"
tutorial reports, on MNIST, the Keras ANN at 92.7 % and the converted spiking network at
93.8 % once firing rates are scaled up; the bar here is the same shape: the spiking
network within a few points of its own ANN.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

pytest.importorskip("sklearn")
if importlib.util.find_spec("nengo_dl") is None:  # importing nengo_dl needs hardware.tf_compat
    pytest.skip("nengo-dl is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def digits():
    from studies.experiments.datasets import load

    return load("digits", seed=0, val_fraction=0.1)


def _convert(d, timesteps, scale_firing_rates):
    """The digits MLP (64 hidden units, 40 epochs, seed 0) trained in Keras and converted."""
    from hardware.nengo_dl import convert_keras

    return convert_keras(
        d.x_train, d.y_train, d.x_val, d.y_val, d.x_test, d.y_test,
        timesteps=timesteps, scale_firing_rates=scale_firing_rates, hidden=(64,), epochs=40, seed=0,
    )  # fmt: skip


def test_converted_snn_close_to_its_ann(digits):
    result = _convert(digits, (4, 32), 100.0)
    assert result.ann_accuracy >= 0.93
    assert result.snn_accuracy[32] >= result.ann_accuracy - 0.03
    # the spikes are real: rates follow the scale, 4 steps (a spike or less per neuron) lose accuracy
    assert 10.0 < result.mean_rate_hz[32] < 300.0
    assert result.snn_accuracy[4] < result.snn_accuracy[32]
    assert result.synaptic_ops[32] > 4 * result.synaptic_ops[4] > 0
    again = _convert(digits, (4, 32), 100.0)
    assert again.ann_accuracy == result.ann_accuracy  # seeded


def test_low_firing_rate_scale_needs_more_timesteps(digits):
    result = _convert(digits, (16, 256), 5.0)
    assert result.mean_rate_hz[256] < 10.0
    assert result.snn_accuracy[16] < 0.7 < result.snn_accuracy[256]


def test_compare_row(tmp_path):
    from studies.cli import main

    report = tmp_path / "c.json"
    args = ["compare", "--models", "nengo-dl", "--seeds", "1", "--timesteps", "8", "32", "--epochs", "30"]
    assert main([*args, "--out", str(tmp_path / "out"), "--json", str(report)]) == 0
    rows = json.loads(report.read_text())["rows"]
    ann = [r for r in rows if r["kind"] == "ann"]
    snn_rows = [r for r in rows if r["kind"] == "snn"]
    assert len(ann) == 1 and ann[0]["model"].startswith("Keras ANN")
    assert [r["timesteps"] for r in snn_rows] == [8, 32]
    assert all("rates x100" in r["model"] for r in snn_rows)
    assert np.isclose(snn_rows[-1]["accuracy_mean"], ann[0]["accuracy_mean"], atol=0.03)
    assert snn_rows[-1]["energy_j"] > 0 and snn_rows[-1]["synaptic_ops"] > snn_rows[0]["synaptic_ops"]
