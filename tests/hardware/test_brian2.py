"""The Brian2 adapter against the Numba reference, in the same test.

The adapter reproduces the reference's conventions (refractory hold, reset before
propagation, delta input lost while held, ALIF threshold update order), so spike trains
agree exactly, not just statistically; the issue's bar (>= 99 % of spikes within one dt,
counts within 1 %) is asserted and the exact agreement on top of it.
"""

from __future__ import annotations

import numpy as np
import pytest

import hardware
import snn
from snn.examples import CubaParameters, cuba

pytest.importorskip("brian2")

DT = 1e-4


def _input_spikes(rng, channels: int, duration: float, count: int):
    times = rng.uniform(0, duration, count)
    ids = rng.integers(0, channels, count)
    _, keep = np.unique(np.rint(times / DT).astype(np.int64) * channels + ids, return_index=True)
    return times[keep], ids[keep]


def feedforward(seed: int = 0) -> snn.Network:
    """100 LIF neurons driven by fixed input spikes through delta and exponential synapses."""
    rng = np.random.default_rng(seed)
    times, ids = _input_spikes(rng, 50, 0.1, 2000)
    net = snn.Network("feedforward")
    net.add(snn.SpikeSource(name="in", size=50, times=times, ids=ids))
    net.add(snn.Population(name="lif", size=100, model=snn.LIF(tau_ref=2e-3, v_rest=-65e-3)))
    net.connect(
        "in", "lif", snn.AllToAll(weights=rng.normal(2e-3, 2e-3, (50, 100))), snn.Exponential(tau_syn=5e-3)
    )
    net.connect("in", "lif", snn.FixedProbability(p=0.2, weight=3e-3, delay=1e-3))
    net.probe("lif")
    return net


def every_feature(seed: int = 0) -> snn.Network:
    """Every model, synapse, delay, current and probe kind the adapter maps."""
    rng = np.random.default_rng(seed)
    net = feedforward(seed)
    net.add(snn.PoissonSource(name="noise", size=10, rate=200.0))
    alif = snn.ALIF(tau_ref=1e-3, tau_adapt=0.05, beta=0.002, reset="subtract")
    net.add(snn.Population(name="alif", size=20, model=alif, initial_v=snn.Uniform(low=-0.07, high=-0.05)))
    net.add(snn.Population(name="if", size=5, model=snn.IF(capacitance=1.0, v_th=0.01, tau_ref=0.0)))
    net.add(snn.Population(name="readout", size=5, model=snn.LI(tau_mem=0.01)))
    net.connect("lif", "alif", snn.FixedProbability(p=0.3, weight=2e-3))
    net.connect("lif", "alif", snn.FixedProbability(p=0.1, weight=-1e-3), snn.Exponential(tau_syn=10e-3))
    net.connect("noise", "if", snn.FixedInDegree(in_degree=3, weight=2e-3, delay=5e-4))
    net.connect("lif", "if", snn.FixedProbability(p=0.1, weight=0.1), snn.Exponential(tau_syn=2e-3))
    net.connect("alif", "readout", snn.AllToAll(weights=rng.normal(0, 1e-3, (20, 5))))
    net.inject(snn.Current.step("alif", times=[0.02, 0.05], amplitudes=[0.005, 0.0]))
    net.inject(snn.Current.constant("if", 0.02, neurons=[0, 1]))
    net.probe("alif")
    net.probe("if")
    net.probe("noise")
    net.probe("alif", "v", neurons=[0, 3], every=3)
    net.probe("alif", "b")
    net.probe("alif", "i_syn", neurons=[1])
    net.probe("alif", "i_ext", neurons=[2])
    net.probe("readout", "v")
    return net


def _matched(reference, other, node: str) -> float:
    """Fraction of the reference's spikes with a spike of the same neuron within one dt."""
    (t_ref, i_ref), (t_other, i_other) = reference.spikes[node], other.spikes[node]
    matched = 0
    for neuron in np.unique(i_ref):
        mine, theirs = t_ref[i_ref == neuron], np.sort(t_other[i_other == neuron])
        if theirs.size:
            nearest = np.abs(theirs[np.clip(np.searchsorted(theirs, mine), 0, theirs.size - 1)] - mine)
            before = np.abs(theirs[np.clip(np.searchsorted(theirs, mine) - 1, 0, theirs.size - 1)] - mine)
            matched += int(np.sum(np.minimum(nearest, before) <= DT * (1 + 1e-9)))
    return matched / max(t_ref.size, 1)


def test_feedforward_spike_trains_match_numba():
    net = feedforward()
    reference = hardware.get("numba").run(net, 0.1, dt=DT, seed=1)
    brian = hardware.get("brian2-numpy").run(net, 0.1, dt=DT, seed=1)
    n_ref, n_brian = reference.spikes["lif"][0].size, brian.spikes["lif"][0].size
    assert n_ref > 1000  # the input drives the population well above threshold
    assert abs(n_brian - n_ref) <= 0.01 * n_ref
    assert _matched(reference, brian, "lif") >= 0.99
    # the conventions are reproduced, so the trains are in fact identical
    np.testing.assert_array_equal(reference.spikes["lif"][1], brian.spikes["lif"][1])
    np.testing.assert_allclose(reference.spikes["lif"][0], brian.spikes["lif"][0], atol=1e-12)
    assert brian.metadata["backend"] == "brian2-numpy"
    assert brian.metadata["synapses"] == reference.metadata["synapses"]


def test_every_feature_matches_numba_exactly():
    net = every_feature()
    reference = hardware.get("numba").run(net, 0.1, dt=DT, seed=3)
    brian = hardware.get("brian2-numpy").run(net, 0.1, dt=DT, seed=3)
    for node in ("lif", "alif", "if", "noise"):
        assert reference.spikes[node][0].size > 20, node
        np.testing.assert_array_equal(reference.spikes[node][1], brian.spikes[node][1])
        np.testing.assert_allclose(reference.spikes[node][0], brian.spikes[node][0], atol=1e-12)
    for name, trace in reference.traces.items():
        other = brian.traces[name]
        np.testing.assert_allclose(other.t, trace.t, atol=1e-12)
        np.testing.assert_allclose(other.values, trace.values, rtol=0, atol=1e-12, err_msg=name)
    assert np.ptp(reference.traces["alif_b"].values) > 0  # adaptation is exercised


def test_current_based_populations_use_brian2s_refractory_and_still_match():
    """Without delta synapses the adapter uses Brian2's own refractory mechanism (cheaper);
    the spikes must still be the reference's, for LIF and ALIF."""
    rng = np.random.default_rng(7)
    times, ids = _input_spikes(rng, 40, 0.1, 3000)
    net = snn.Network("current_based")
    net.add(snn.SpikeSource(name="in", size=40, times=times, ids=ids))
    net.add(snn.Population(name="lif", size=30, model=snn.LIF(tau_ref=3e-3, v_rest=-65e-3)))
    alif = snn.ALIF(tau_ref=2e-3, tau_adapt=0.05, beta=0.003, v_rest=-65e-3)
    net.add(snn.Population(name="alif", size=30, model=alif))
    for post in ("lif", "alif"):
        net.connect(
            "in", post, snn.AllToAll(weights=rng.normal(3e-3, 2e-3, (40, 30))), snn.Exponential(tau_syn=4e-3)
        )
    net.connect("lif", "alif", snn.FixedProbability(p=0.3, weight=5e-3), snn.Exponential(tau_syn=2e-3))
    net.probe("lif")
    net.probe("alif")
    reference = hardware.get("numba").run(net, 0.1, dt=DT, seed=0)
    brian = hardware.get("brian2-numpy").run(net, 0.1, dt=DT, seed=0)
    for node in ("lif", "alif"):
        assert reference.spikes[node][0].size > 100
        np.testing.assert_array_equal(reference.spikes[node][1], brian.spikes[node][1])
        np.testing.assert_allclose(reference.spikes[node][0], brian.spikes[node][0], atol=1e-12)


def test_cuba_rate_agrees_across_numba_brian2_runtime_and_standalone():
    params = CubaParameters(n_neurons=4000)
    net = cuba(params)
    rates = {}
    for name in ("numba", "brian2-numpy", "brian2-standalone"):
        result = hardware.get(name).run(net, 0.3, dt=DT, seed=2)
        rates[name] = result.mean_rate(["exc", "inh"])
    assert rates["numba"] > 1.0
    for rate in rates.values():
        assert abs(rate - rates["numba"]) <= 0.1 * rates["numba"], rates


def test_deploy_writes_a_standalone_project(tmp_path):
    out = tmp_path / "project"
    report = hardware.get("brian2").deploy(feedforward(), out, dt=DT, duration=0.05)
    assert (out / "main.cpp").is_file() and (out / "makefile").is_file()
    assert (out / "mapping_report.md").read_text().startswith("# Mapping report")
    assert report.neurons == 100 and report.synapses > 5000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_bad_input_writes_nothing(tmp_path):
    with pytest.raises(snn.ValidationError, match="duration"):
        hardware.get("brian2").deploy(feedforward(), tmp_path / "x", duration=-1.0)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(snn.ValidationError, match="target"):
        hardware.get("brian2", target="gpu")
