"""The backend registry and the contract every adapter keeps."""

from __future__ import annotations

import numpy as np
import pytest

import hardware
import snn
from hardware.base import Backend


def test_unknown_backend_lists_the_known_and_installed_ones():
    with pytest.raises(snn.ValidationError) as error:
        hardware.get("loihi")
    message = str(error.value)
    assert "unknown backend 'loihi'" in message
    for name in hardware.names():
        assert name in message
    assert "installed: numba" in message


def test_every_registered_backend_is_installed_here_and_keeps_the_contract():
    # the dev install brings every backend: a missing one is a packaging bug, not a skip
    assert hardware.available() == hardware.names()
    for name in hardware.names():
        backend = hardware.get(name)
        assert isinstance(backend, Backend) and backend.name == name
        caps = backend.capabilities()
        assert caps.neuron_models and "spikes" in caps.probe_variables
        assert set(caps.neuron_models) <= set(snn.neurons.MODELS)


def _alif_network() -> snn.Network:
    net = snn.Network("adaptive")
    net.add(snn.SpikeSource(name="in", size=2, times=[0.001], ids=[0]))
    net.add(snn.Population(name="alif", size=3, model=snn.ALIF(tau_ref=0.0)))
    net.connect("in", "alif", snn.AllToAll(weights=0.01))
    net.probe("alif")
    return net


def _delayed_network() -> snn.Network:
    net = snn.Network("delayed")
    net.add(snn.SpikeSource(name="in", size=2, times=[0.001], ids=[0]))
    net.add(snn.Population(name="lif", size=3, model=snn.LIF(tau_ref=0.0)))
    net.connect("in", "lif", snn.AllToAll(weights=0.01, delays=1e-3), snn.Exponential(tau_syn=5e-3))
    net.probe("lif")
    return net


@pytest.mark.parametrize(
    "name, network, part",
    [
        ("nengo", _delayed_network, "synaptic delays"),
        ("nengo-dl", _delayed_network, "synaptic delays"),
        ("nir", _alif_network, "neuron model ALIF"),
    ],
)
def test_a_refused_feature_fails_before_anything_is_written(tmp_path, name, network, part):
    backend = hardware.get(name)
    with pytest.raises(snn.UnsupportedFeature, match=rf"backend '{name}' does not support {part}"):
        backend.deploy(network(), tmp_path / "artifact", dt=1e-4, duration=0.01)
    with pytest.raises(snn.UnsupportedFeature, match=part):
        backend.run(network(), 0.01, dt=1e-4)
    assert list(tmp_path.iterdir()) == []


def test_inputs_replace_a_source_by_name():
    net = _alif_network()
    other = snn.SpikeSource(name="in", size=2, times=[0.002, 0.003], ids=[1, 1])
    replaced = hardware.with_inputs(net, {"in": other})
    assert replaced.sources["in"] is other and net.sources["in"] is not other
    result = hardware.get("numba").run(net, 0.01, {"in": other}, dt=1e-4)
    assert result.metadata["backend"] == "numba"
    with pytest.raises(snn.ValidationError, match="size"):
        hardware.with_inputs(net, {"in": snn.SpikeSource(name="in", size=3)})
    with pytest.raises(snn.ValidationError, match="no spike source named 'x'"):
        hardware.with_inputs(net, {"x": other})
    assert np.isfinite(result.mean_rate())
