import numpy as np
import pytest

import snn
from snn.examples import CubaParameters, cuba


def _poisson_network():
    net = snn.Network()
    net.add(snn.PoissonSource(name="in", size=50, rate=30.0))
    net.add(
        snn.Population(
            name="n", size=100, model=snn.ALIF(beta=2.0), initial_v=snn.Uniform(low=-70e-3, high=-50e-3)
        )
    )
    net.connect(
        "in", "n", snn.FixedProbability(p=0.2, weight=0.02, delay=2e-3), synapse=snn.Exponential(tau_syn=5e-3)
    )
    net.connect("n", "n", snn.FixedInDegree(in_degree=10, weight=-2e-3, allow_autapses=False))
    net.probe("n")
    net.probe("in")
    net.probe("n", "v", neurons=[0, 5], every=3)
    net.probe("n", "b", every=7)
    net.probe("n", "i_syn", neurons=[1])
    return net


def _run(net, seed, dtype="float64", duration=0.3):
    return snn.Simulator(net, dt=1e-4, seed=seed, dtype=dtype, progress=False).run(duration)


def test_same_seed_gives_bit_identical_results():
    first, second = _run(_poisson_network(), 7), _run(_poisson_network(), 7)
    assert first.spikes["n"][0].size > 0
    assert first.equals(second)


def test_different_seed_gives_different_spikes():
    first, other = _run(_poisson_network(), 7), _run(_poisson_network(), 8)
    assert not first.equals(other)


def test_cuba_same_seed_bit_identical():
    params = CubaParameters(n_neurons=1000, p=0.08)
    a = _run(cuba(params), 3, duration=0.2)
    b = _run(cuba(params), 3, duration=0.2)
    assert a.equals(b) and a.spikes["exc"][0].size > 100


def test_progress_bar_and_blocks_do_not_change_results():
    quiet = _run(_poisson_network(), 5)
    loud = snn.Simulator(_poisson_network(), dt=1e-4, seed=5, progress=True).run(0.3)
    assert quiet.equals(loud)


def test_split_runs_continue_the_same_trajectory():
    whole = _run(_poisson_network(), 11, duration=0.2)
    sim = snn.Simulator(_poisson_network(), dt=1e-4, seed=11, progress=False)
    first, second = sim.run(0.1), sim.run(0.1)
    times = np.concatenate([first.spikes["n"][0], second.spikes["n"][0] + 0.1])
    ids = np.concatenate([first.spikes["n"][1], second.spikes["n"][1]])
    np.testing.assert_allclose(times, whole.spikes["n"][0], atol=1e-12)
    np.testing.assert_array_equal(ids, whole.spikes["n"][1])


def test_saved_result_loads_back_equal(tmp_path):
    result = _run(_poisson_network(), 2)
    path = result.save(tmp_path / "run.npz")
    loaded = snn.Result.load(path)
    assert loaded.equals(result)
    assert loaded.metadata == result.metadata
    assert list(loaded.spikes) == list(result.spikes)  # node order kept (raster bands, colours)
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]  # no temp file left behind


def test_float32_runs_in_single_precision_and_tracks_float64():
    params = CubaParameters(n_neurons=1000, p=0.08)
    double = _run(cuba(params), 4, duration=0.5)
    single = _run(cuba(params), 4, "float32", duration=0.5)
    assert single.metadata["dtype"] == "float32"
    # chaotic network: spikes diverge, statistics do not
    assert single.mean_rate() == pytest.approx(double.mean_rate(), rel=0.15)


def test_traces_have_documented_shapes():
    result = _run(_poisson_network(), 1)
    v = result.traces["n_v"]
    assert v.values.shape == (1000, 2) and v.t[0] == pytest.approx(3e-4)
    b = result.traces["n_b"]
    assert b.values.shape == (3000 // 7, 100)
    assert np.all(b.values >= 0) and b.values.max() > 0
    i_syn = result.traces["n_i_syn"]
    assert i_syn.values.shape == (3000, 1) and i_syn.values.max() > 0
