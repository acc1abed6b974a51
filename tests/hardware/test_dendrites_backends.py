"""Dendritic-segment cells (snn.htm.spiking) on the backends: nengo runs them spike for spike
as the reference does; the others refuse them in their pre-flight check, naming the counts."""

import sys
from pathlib import Path

import numpy as np
import pytest

import hardware
import snn
from snn.errors import UnsupportedFeature
from snn.htm import TemporalMemory
from snn.htm.spiking import CYCLE_STEPS, add_temporal_memory, column_input

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "snn" / "htm"))
from test_spiking import DT, PARAMS, high_order_steps  # noqa: E402


def network(steps, memory=None) -> snn.Network:
    net = snn.Network()
    net.add(column_input("columns", steps, PARAMS.columns, DT))
    add_temporal_memory(net, "tm", "columns", PARAMS, dt=DT, memory=memory)
    net.probe("tm")
    return net


def test_nengo_runs_the_dendritic_cells_spike_for_spike():
    pytest.importorskip("nengo")
    steps = high_order_steps(seed=2, repeats=15)
    net = network(steps)
    duration = len(steps) * CYCLE_STEPS * DT
    reference = hardware.get("numba").run(net, duration, dt=DT)
    nengo = hardware.get("nengo").run(net, duration, dt=DT)
    for ours, theirs in zip(reference.spikes["tm"], nengo.spikes["tm"], strict=True):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(reference.traces["tm_anomaly"].values, nengo.traces["tm_anomaly"].values)
    assert nengo.metadata["dendrites"] == reference.metadata["dendrites"]
    assert reference.metadata["dendrites"]["tm"]["segments"] > 50  # it learned, on both
    assert (
        reference.traces["tm_anomaly"].values[-20:].mean() < reference.traces["tm_anomaly"].values[:5].mean()
    )
    converted = "\n".join(nengo.metadata["mapping"]["converted"])
    assert "distal segments of 'tm'" in converted and "nengo.Node" in converted


@pytest.mark.parametrize("backend", ["brian2", "nir", "nengo-dl"])
def test_backends_without_segments_refuse_them_naming_the_counts(backend):
    steps = high_order_steps(repeats=10)
    trained = TemporalMemory(PARAMS)
    trained.run(steps)
    net = network(steps[:3], memory=trained)
    with pytest.raises(UnsupportedFeature) as error:
        hardware.get(backend).check(net)
    message = str(error.value)
    assert f"{trained.n_segments} segments and {trained.n_synapses} synapses" in message
    assert backend in message
    assert "dendritic-segment cells" in "\n".join(hardware.get(backend).capabilities().refusals())


def test_nengo_refuses_a_trained_memory_that_predicts_at_the_start():
    pytest.importorskip("nengo")
    steps = high_order_steps(repeats=10)
    trained = TemporalMemory(PARAMS)
    trained.run(steps)
    for columns in steps:  # on to a step after which it predicts something
        if trained.predictive_cells.size:
            break
        trained.compute(columns, learn=False)
    assert trained.predictive_cells.size > 0
    with pytest.raises(UnsupportedFeature, match="reset"):
        hardware.get("nengo").check(network(steps[:3], memory=trained))
    trained.reset()  # keeps what it learned: now it maps
    hardware.get("nengo").check(network(steps[:3], memory=trained))
