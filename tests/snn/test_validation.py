"""Bad input fails at construction with one error naming the field."""

import numpy as np
import pytest

import snn
from snn.config import network_from_dict


def _raises(field, fn, *args, **kwargs):
    with pytest.raises(snn.ValidationError) as info:
        fn(*args, **kwargs)
    assert info.value.field == field, str(info.value)
    return str(info.value)


def test_negative_time_constants():
    assert "must be > 0" in _raises("LIF.tau_mem", snn.LIF, tau_mem=-0.01)
    _raises("ALIF.tau_adapt", snn.ALIF, tau_adapt=0.0)
    _raises("Exponential.tau_syn", snn.Exponential, tau_syn=-1e-3)
    _raises("LIF.tau_ref", snn.LIF, tau_ref=-1e-3)
    _raises("LI.tau_mem", snn.LI, tau_mem=float("nan"))


def test_threshold_order():
    _raises("LIF.v_reset", snn.LIF, v_reset=-0.04, v_th=-0.05)


def test_nan_and_infinite_weights():
    _raises("AllToAll.weights", snn.AllToAll, weights=np.array([[1.0, np.nan]]))
    _raises("Sparse.weights", snn.Sparse, pre=[0, 1], post=[1, 0], weights=[1.0, np.inf])
    _raises("FixedProbability.weight", snn.FixedProbability, p=0.1, weight=float("inf"))


def test_probability_outside_unit_interval():
    assert "[0, 1]" in _raises("FixedProbability.p", snn.FixedProbability, p=1.5)
    _raises("FixedProbability.p", snn.FixedProbability, p=-0.1)


def test_shape_mismatches():
    net = snn.Network()
    net.add(snn.Population(name="a", size=3, model=snn.LIF()))
    net.add(snn.Population(name="b", size=4, model=snn.LIF()))
    message = _raises(
        "projections[w].connectivity.weights",
        net.connect,
        "a",
        "b",
        snn.AllToAll(weights=np.ones((4, 3))),
        name="w",
    )
    assert "(3, 4)" in message
    _raises(
        "projections[s].connectivity.post", net.connect, "a", "b", snn.Sparse(pre=[0], post=[4]), name="s"
    )
    _raises("Sparse.post", snn.Sparse, pre=[0, 1], post=[0])
    _raises("Population.initial_v", snn.Population, name="c", size=3, model=snn.LIF(), initial_v=[0, 1])
    _raises("Current.amplitudes", net.inject, snn.Current.constant("a", [1.0, 2.0]))
    _raises("SpikeSource.ids", snn.SpikeSource, name="s", size=2, times=[0.1], ids=[0, 1])
    _raises(
        "projections[d].connectivity.in_degree",
        net.connect,
        "a",
        "a",
        snn.FixedInDegree(in_degree=3, allow_autapses=False),
        name="d",
    )


def test_unknown_names():
    net = snn.Network()
    net.add(snn.Population(name="a", size=3, model=snn.LIF()))
    assert "known nodes: ['a']" in _raises(
        "projections[x].pre", net.connect, "nope", "a", snn.AllToAll(), name="x"
    )
    _raises("Population.name", net.add, snn.Population(name="a", size=1, model=snn.LIF()))
    _raises("probes[a_w].variable", net.probe, "a", "w")
    _raises("Population.size", snn.Population, name="z", size=0, model=snn.LIF())


def test_duration_and_dt():
    net = snn.Network()
    net.add(snn.Population(name="a", size=1, model=snn.LIF()))
    _raises("Simulator.dt", snn.Simulator, net, dt=0.0)
    sim = snn.Simulator(net, dt=1e-4, progress=False)
    _raises("duration", sim.run, 0.0)
    _raises("duration", sim.run, -1.0)
    _raises("duration", sim.run, float("nan"))
    _raises("Simulator.dtype", snn.Simulator, net, dtype="float16")


def test_poisson_rate_too_high_for_dt():
    net = snn.Network()
    net.add(snn.Population(name="a", size=1, model=snn.LIF()))
    net.add(snn.PoissonSource(name="p", size=1, rate=2e4))
    assert "rate * dt" in _raises("sources[p].rate", snn.Simulator, net, dt=1e-4)


def test_unknown_toml_keys():
    base = {"population": [{"name": "a", "size": 2}]}
    _raises("config.populations", network_from_dict, {**base, "populations": []})
    _raises(
        "population[0].colour", network_from_dict, {"population": [{"name": "a", "size": 2, "colour": 1}]}
    )
    _raises(
        "population[0].params.tau",
        network_from_dict,
        {"population": [{"name": "a", "size": 2, "params": {"tau": 0.01}}]},
    )
    _raises(
        "population[0].params.model",
        network_from_dict,
        {"population": [{"name": "a", "size": 2, "model": "HH"}]},
    )
    _raises(
        "projection[0].connectivity.q",
        network_from_dict,
        {
            **base,
            "projection": [{"pre": "a", "post": "a", "connectivity": {"type": "FixedProbability", "q": 1}}],
        },
    )
    _raises("simulation.steps", network_from_dict, {**base, "simulation": {"steps": 3}})
    _raises(
        "population[0].params.tau_mem",
        network_from_dict,
        {"population": [{"name": "a", "size": 2, "params": {"tau_mem": -1.0}}]},
    )


def test_wrong_types_are_named_not_crashing_later():
    _raises("LIF.tau_mem", snn.LIF, tau_mem="0.02")
    _raises("Population.size", snn.Population, name="a", size=2.5, model=snn.LIF())
    assert snn.Population(name="a", size=2.0, model=snn.LIF()).size == 2  # whole floats accepted as ints
    _raises("Uniform.low", snn.Uniform, low="x", high=1.0)
    _raises("Exponential.tau_syn", snn.Exponential, tau_syn=None)
    _raises("SpikeSource.ids", snn.SpikeSource, name="s", size=2, times=[0.1], ids=["a"])
    _raises("Current.values", snn.Current.array, "a", "x", 0.1)
    _raises("Current.neurons", snn.Current.constant, "a", 1.0, neurons=[])
    _raises("Current.neurons", snn.Current.constant, "a", 1.0, neurons=[1.7])
    # choices given as arrays (found by the long fuzz profile: "truth value ... ambiguous")
    _raises("LIF.reset", snn.LIF, reset=np.array(["a", "b"]))
    _raises("ALIF.integration", snn.ALIF, integration=np.array(["a", "b"]))
    from snn.plasticity import BCM, PairSTDP

    _raises("PairSTDP.pairing", PairSTDP, pairing=np.array(["a", "b"]))
    _raises("BCM.bounds", BCM, bounds=np.array([]))
    _raises("BCM.w_min", BCM, w_min=np.array([]))
    net = snn.Network()
    net.add(snn.Population(name="a", size=3, model=snn.LIF()))
    _raises("Projection.connectivity", net.connect, "a", "a", 0.5)
    # a scalar amplitude is one row: constant from t on
    assert net.inject(snn.Current.step("a", [0.1], 1.0)).amplitudes.shape == (2, 1)


def test_toml_entries_name_their_position():
    base = {"population": [{"name": "a", "size": 2}]}
    _raises(
        "current[0].values",
        network_from_dict,
        {**base, "current": [{"type": "array", "target": "a", "values": "x", "interval": 0.1}]},
    )
    _raises("source[0]", network_from_dict, {**base, "source": [{"type": "PoissonSource", "size": 3}]})
    _raises(
        "population[0].params.model",
        network_from_dict,
        {"population": [{"name": "a", "size": 2, "model": ["LIF"]}]},
    )
    _raises("simulation.dt", network_from_dict, {**base, "simulation": {"dt": "1e-4"}})
    _raises(
        "projection[0].post",
        network_from_dict,
        {**base, "projection": [{"pre": "a", "post": "b", "connectivity": {"type": "AllToAll"}}]},
    )


def test_delay_buffer_too_large_is_refused():
    net = snn.Network()
    net.add(snn.Population(name="a", size=200_000, model=snn.LIF()))
    net.connect("a", "a", snn.Sparse(pre=[0], post=[1], delays=6.0), synapse=snn.Exponential())
    assert "delay buffer" in _raises("delays", snn.Simulator, net, dt=1e-4)
