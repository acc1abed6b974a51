"""The LSNN kernel against the reference simulator, and network files written back as TOML."""

import numpy as np
import pytest

import snn
from snn.config import load_toml, save_toml
from snn.lsnn import LSNN, LSNNWeights, initial_weights, run, to_network


@pytest.fixture
def lsnn_and_input():
    lsnn = LSNN(n_in=20, n_lif=15, n_alif=15, n_out=3, tau_adapt=0.2, tau_ref=3e-3)
    rng = np.random.default_rng(1)
    weights = initial_weights(lsnn, rng, input_gain=3.0).replace(b_out=np.array([0.1, -0.2, 0.3]))
    x = (rng.random((400, 20)) < 0.05).astype(float)
    return lsnn, weights, x


def _dense(result, name, size, steps, dt):
    times, ids = result.spikes[name]
    dense = np.zeros((steps, size))
    dense[np.round(times / dt).astype(int), ids] = 1
    return dense


def test_lsnn_kernel_spikes_equal_simulator_spikes(lsnn_and_input):
    lsnn, weights, x = lsnn_and_input
    out = run(lsnn, weights, x)
    assert 5 < out["spikes"].mean() / lsnn.dt < 200  # neurons fire, not saturated
    result = snn.Simulator(to_network(lsnn, weights, x), dt=lsnn.dt, progress=False).run(len(x) * lsnn.dt)
    for name, columns in lsnn.groups().items():
        expected = _dense(result, name, columns.stop - columns.start, len(x), lsnn.dt)
        np.testing.assert_array_equal(out["spikes"][0][:, columns], expected)
    # the exported LI readout lags the LSNN's y by one step
    readout = result.traces["readout_v"].values
    np.testing.assert_allclose(readout[1:], out["y"][0][:-1], rtol=0, atol=1e-12)


def test_adaptation_raises_threshold_and_refractory_blocks(lsnn_and_input):
    lsnn, weights, x = lsnn_and_input
    spikes = run(lsnn, weights, x)["spikes"][0]
    ref = int(round(lsnn.tau_ref / lsnn.dt))
    for j in range(lsnn.n_rec):
        gaps = np.diff(np.flatnonzero(spikes[:, j]))
        assert np.all(gaps > ref)  # never again within the refractory period
    without = run(LSNN(**{**lsnn.to_dict(), "beta": 0.0}), weights, x)["spikes"][0]
    alif = lsnn.groups()["alif"]
    assert without[:, alif].sum() > spikes[:, alif].sum()  # adaptation lowers ALIF rates


def test_network_toml_round_trip_runs_identically(tmp_path, lsnn_and_input):
    from snn.examples import cuba

    lsnn, weights, x = lsnn_and_input
    for network in (to_network(lsnn, weights, x), cuba()):
        path = save_toml(network, tmp_path / f"{network.name}.toml")
        loaded, _ = load_toml(path)
        a = snn.Simulator(network, dt=1e-3, seed=3, progress=False).run(0.2)
        b = snn.Simulator(loaded, dt=1e-3, seed=3, progress=False).run(0.2)
        assert sum(s[0].size for s in a.spikes.values()) > 0
        assert a.equals(b)


def test_bad_lsnn_input_is_named():
    with pytest.raises(snn.ValidationError, match="LSNN.tau_adapt"):
        LSNN(n_in=2, n_lif=1, n_alif=1, n_out=1, tau_adapt=-1)
    with pytest.raises(snn.ValidationError, match="LSNN.p_rec"):
        LSNN(n_in=2, n_lif=1, n_alif=1, n_out=1, p_rec=1.5)
    lsnn = LSNN(n_in=2, n_lif=2, n_alif=2, n_out=1)
    weights = initial_weights(lsnn, np.random.default_rng(0))
    with pytest.raises(snn.ValidationError, match="x: must have shape"):
        run(lsnn, weights, np.zeros((5, 3)))
    with pytest.raises(snn.ValidationError, match="x: must be finite"):
        run(lsnn, weights, np.full((5, 2), np.nan))
    with pytest.raises(snn.ValidationError, match="LSNNWeights.mask"):
        LSNNWeights(w_in=weights.w_in, w_rec=weights.w_rec, w_out=weights.w_out, b_out=weights.b_out,
                    mask=np.ones((4, 4), bool))  # fmt: skip
    with pytest.raises(snn.UnsupportedFeature, match="analog"):
        to_network(lsnn, weights, np.full((5, 2), 0.5))
