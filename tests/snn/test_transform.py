"""snn.transform.split_population: a population split into parts runs as before."""

import numpy as np
import pytest

import snn
from snn.errors import ValidationError
from snn.transform import Part, merge_parts, split_population


def network():
    rng = np.random.default_rng(0)
    net = snn.Network("t")
    net.add(snn.PoissonSource(name="drive", size=30, rate=40.0))
    lif = snn.LIF(tau_mem=20e-3, v_rest=0.0, v_reset=0.0, v_th=1.0, tau_ref=2e-3)
    net.add(snn.Population(name="a", size=40, model=lif, initial_v=rng.uniform(0, 0.5, 40)))
    net.add(snn.Population(name="b", size=5, model=snn.LI(tau_mem=10e-3, v_rest=0.0)))
    net.connect("drive", "a", snn.AllToAll(weights=rng.normal(0.08, 0.05, (30, 40)), delays=1e-3))
    recurrent = rng.normal(0, 0.1, (40, 40))
    np.fill_diagonal(recurrent, 0)
    net.connect("a", "a", snn.AllToAll(weights=recurrent, delays=rng.integers(1, 4, (40, 40)) * 1e-3))
    net.connect("a", "b", snn.AllToAll(weights=rng.normal(0, 0.2, (40, 5))))
    net.inject(snn.Current.constant("a", rng.uniform(0, 2e-10, 40)))
    net.probe("a")
    net.probe("a", "v")
    net.probe("b", "v")
    net.probe("a", "v", neurons=[3, 17, 39], name="some")
    return net, lif


def test_a_split_population_spikes_as_the_whole_one():
    net, lif = network()
    ids = np.arange(40)
    parts = [Part(f"a_{k}", lif, ids[ids % 3 == k]) for k in range(3)]
    split = split_population(net, "a", parts)
    assert list(split.populations) == ["a_0", "a_1", "a_2", "b"]
    assert sorted(c.target for c in split.currents) == ["a_0", "a_1", "a_2"]
    whole = snn.Simulator(net, dt=1e-4, seed=3, progress=False).run(0.3)
    merged = merge_parts(snn.Simulator(split, dt=1e-4, seed=3, progress=False).run(0.3), "a", parts, 40)
    assert whole.spikes["a"][0].size > 300  # recurrent, delayed, biased: it fires
    for column in (0, 1):
        np.testing.assert_array_equal(merged.spikes["a"][column], whole.spikes["a"][column])
    for name, trace in whole.traces.items():  # sums in another order: rounding only
        np.testing.assert_array_equal(merged.traces[name].neurons, trace.neurons)
        np.testing.assert_allclose(merged.traces[name].values, trace.values, rtol=0, atol=1e-12)
    assert merged.sizes["a"] == 40


def test_bad_parts_are_refused():
    net, lif = network()
    with pytest.raises(ValidationError, match="cover all 40"):
        split_population(net, "a", [Part("a_0", lif, np.arange(39))])
    with pytest.raises(ValidationError, match="not shared"):
        split_population(net, "a", [Part("a_0", lif, np.arange(40)), Part("a_1", lif, np.array([3]))])
    with pytest.raises(ValidationError, match="no population"):
        split_population(net, "z", [])
    random = snn.Network("r")
    random.add(snn.Population(name="p", size=4, model=lif))
    random.connect("p", "p", snn.FixedProbability(p=0.5, weight=0.1))
    with pytest.raises(ValidationError, match="cannot be split"):
        split_population(random, "p", [Part("p_0", lif, np.arange(2)), Part("p_1", lif, np.arange(2, 4))])
