"""The torch layers and the Numba simulator integrate the same numbers: identical spikes."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import snn  # noqa: E402
from ann_bridge.layers import SpikingLinear  # noqa: E402
from ann_bridge.network import to_network  # noqa: E402

DT = 1e-3
MODELS = {
    "LIF": snn.LIF(tau_mem=20e-3, v_rest=0.0, v_reset=0.0, v_th=1.0, tau_ref=0.0),
    "LIF_refractory": snn.LIF(tau_mem=10e-3, v_rest=0.0, v_reset=-0.2, v_th=1.0, tau_ref=3e-3),
    "LIF_subtract": snn.LIF(tau_mem=30e-3, v_rest=0.0, v_reset=0.0, v_th=1.0, reset="subtract"),
    "ALIF": snn.ALIF(
        tau_mem=20e-3, v_rest=0.0, v_reset=0.0, v_th=1.0, tau_ref=2e-3, tau_adapt=0.1, beta=20.0
    ),
    "IF": snn.IF(capacitance=1.0, v_reset=0.0, v_th=1.0, reset="subtract"),
    # its own exponential current: every input goes through tau_syn, whichever synapse the layer names
    "CubaLIF": snn.CubaLIF(tau_mem=20e-3, v_rest=0.0, v_reset=0.0, v_th=1.0, tau_ref=1e-3, tau_syn=5e-3),
}
SYNAPSES = {"delta": snn.Delta(), "exponential": snn.Exponential(tau_syn=5e-3)}


def _spikes_torch(layers, spikes):
    with torch.no_grad():
        out = layers(torch.as_tensor(spikes, dtype=torch.float64)[:, None, :])
    return out[:, 0, :].numpy()


def _spikes_numba(net, steps, population):
    result = snn.Simulator(net, dt=DT, progress=False).run(steps * DT)
    times, ids = result.spikes[population]
    raster = np.zeros((steps, net.populations[population].size))
    raster[np.rint(times / DT).astype(int), ids] = 1.0
    return raster, result


@pytest.mark.parametrize("synapse", SYNAPSES)
@pytest.mark.parametrize("model", MODELS)
def test_torch_and_numba_spike_for_spike(model, synapse):
    rng = np.random.default_rng(0)
    steps, n_in, n_hidden, n_out = 300, 40, 30, 10
    input_spikes = (rng.random((steps, n_in)) < 0.05).astype(float)
    # exponential weights are currents (A): one input moves v by w R tau_syn / tau_mem (LIF)
    # or w tau_syn / C (IF), so scale them to land near threshold
    gain = 1.0 if synapse == "delta" and model != "CubaLIF" else (200.0 if model == "IF" else 5.0)
    torch.manual_seed(0)
    layers = torch.nn.Sequential(
        SpikingLinear(
            n_in, n_hidden, MODELS[model], SYNAPSES[synapse], dt=DT, dtype=torch.float64, recurrent=True
        ),
        SpikingLinear(n_hidden, n_out, MODELS[model], SYNAPSES[synapse], dt=DT, dtype=torch.float64),
    )
    with torch.no_grad():
        layers[0].weight.normal_(0.25 * gain, 0.3 * gain)
        layers[0].recurrent_weight.normal_(0.0, 0.2 * gain)
        layers[1].weight.normal_(0.3 * gain, 0.3 * gain)
    theirs = _spikes_torch(layers, input_spikes)
    ours, _ = _spikes_numba(to_network(layers, input_spikes), steps, "layer1")
    assert ours.sum() > 20  # the output layer is active
    np.testing.assert_array_equal(ours, theirs)


def test_leaky_readout_trace_matches():
    rng = np.random.default_rng(1)
    steps = 200
    input_spikes = (rng.random((steps, 20)) < 0.1).astype(float)
    readout = SpikingLinear(
        20, 3, snn.LI(tau_mem=30e-3), snn.Exponential(tau_syn=10e-3), dt=DT, dtype=torch.float64
    )
    with torch.no_grad():
        readout.weight.normal_(0.0, 1.0)
        theirs = readout(torch.as_tensor(input_spikes)[:, None, :])[:, 0, :].numpy()
    result = snn.Simulator(to_network(readout, input_spikes), dt=DT, progress=False).run(steps * DT)
    np.testing.assert_allclose(result.traces["layer0_v"].values, theirs, rtol=1e-12, atol=1e-15)


def test_from_network_round_trip_and_random_connectivity():
    from ann_bridge.network import from_network

    rng = np.random.default_rng(2)
    steps = 200
    input_spikes = (rng.random((steps, 30)) < 0.08).astype(float)
    net = snn.Network()
    steps_in, ids_in = np.nonzero(input_spikes)
    net.add(snn.SpikeSource(name="input", size=30, times=steps_in * DT, ids=ids_in))
    model = MODELS["LIF_refractory"]
    net.add(snn.Population(name="layer0", size=25, model=model))
    net.add(snn.Population(name="layer1", size=5, model=model))
    net.connect("input", "layer0", snn.FixedProbability(p=0.5, weight=0.4))
    net.connect("layer0", "layer0", snn.FixedInDegree(in_degree=5, weight=-0.2, allow_autapses=False))
    net.connect("layer0", "layer1", snn.Sparse(pre=np.arange(25), post=np.arange(25) % 5, weights=0.6))
    net.probe("layer1")
    layers = from_network(net, dt=DT, seed=4, dtype=torch.float64)
    assert layers[0].recurrent_weight is not None
    theirs = _spikes_torch(layers, input_spikes)
    result = snn.Simulator(net, dt=DT, seed=4, progress=False).run(steps * DT)
    ours = np.zeros_like(theirs)
    times, ids = result.spikes["layer1"]
    ours[np.rint(times / DT).astype(int), ids] = 1.0
    assert ours.sum() > 10
    np.testing.assert_array_equal(ours, theirs)
    # and back: the layers' own network runs the same spikes
    again, _ = _spikes_numba(to_network(layers, input_spikes), steps, "layer1")
    np.testing.assert_array_equal(again, theirs)


def test_from_network_refuses_what_layers_cannot_express():
    from ann_bridge.network import from_network

    net = snn.Network()
    net.add(snn.SpikeSource(name="input", size=3, times=[0.0], ids=[0]))
    net.add(snn.Population(name="a", size=2, model=snn.LIF()))
    net.connect("input", "a", snn.AllToAll(weights=1.0, delays=2e-3))
    with pytest.raises(snn.UnsupportedFeature, match="delays"):
        from_network(net, dt=DT)


def test_layer_and_network_input_checks():
    from ann_bridge.network import from_network

    with pytest.raises(snn.ValidationError, match="threshold_scale"):
        SpikingLinear(3, 2, threshold_scale=0.0)
    layer = SpikingLinear(3, 2, dtype=torch.float64)
    with pytest.raises(snn.ValidationError, match="input_spikes"):
        to_network(layer, np.full((5, 3), 0.5))
    net = snn.Network()
    net.add(snn.SpikeSource(name="input", size=3, times=[0.0], ids=[0]))
    net.add(snn.Population(name="a", size=2, model=snn.LIF(), initial_v=-0.06))
    net.connect("input", "a", snn.AllToAll(weights=1.0))
    with pytest.raises(snn.UnsupportedFeature, match="initial_v"):
        from_network(net, dt=DT)


@pytest.mark.parametrize("synapse", SYNAPSES)
def test_convolutional_chain_spikes_as_the_network(synapse):
    """Conv (stride 2, padding 1) -> conv -> flatten -> linear readout: the torch layers and
    the Numba simulator on `to_network`'s explicit synapses give identical spikes."""
    from ann_bridge.layers import SpikingConv1d

    rng = np.random.default_rng(3)
    steps, channels, length = 120, 2, 24
    input_spikes = (rng.random((steps, channels, length)) < 0.08).astype(float)
    model = MODELS["LIF"]
    gain = 1.0 if synapse == "delta" else 5.0
    torch.manual_seed(1)
    layers = torch.nn.Sequential(
        SpikingConv1d(channels, 4, 5, stride=2, padding=1, model=model, synapse=SYNAPSES[synapse], dt=DT),
        SpikingConv1d(4, 3, 3, stride=1, padding=1, model=model, synapse=SYNAPSES[synapse], dt=DT),
        torch.nn.Flatten(start_dim=2),
        SpikingLinear(3 * 11, 5, model, SYNAPSES[synapse], dt=DT, dtype=torch.float64),
    ).double()
    with torch.no_grad():
        layers[0].conv.weight.normal_(0.45 * gain, 0.3 * gain)
        layers[1].conv.weight.normal_(0.35 * gain, 0.3 * gain)
        layers[3].weight.normal_(0.25 * gain, 0.2 * gain)
        theirs = layers(torch.as_tensor(input_spikes)[:, None])[:, 0].numpy()
    net = to_network(layers, input_spikes)
    assert net.populations["layer0"].size == 4 * 11 and net.populations["layer1"].size == 3 * 11
    ours, _ = _spikes_numba(net, steps, "layer2")
    assert ours.sum() > 20
    np.testing.assert_array_equal(ours, theirs)
    hidden, _ = _spikes_numba(net, steps, "layer0")
    with torch.no_grad():
        first = layers[0](torch.as_tensor(input_spikes)[:, None])[:, 0].reshape(steps, -1).numpy()
    np.testing.assert_array_equal(hidden, first)
