"""AdEx and Izhikevich on ``nengo.Simulator``: their own step inside a nengo NeuronType
(:mod:`hardware.nengo_neurons`) against the Numba reference on the same input.

Why exact agreement is expected: nengo's ``J`` is the reference's input current (gain 1,
bias 0, the current added to 0.0) and the step is the same compiled function, so with an
injected current the two runs are the same arithmetic; through a ``Lowpass`` the synaptic
current is ``(1 - d) / dt * (w dt / (1 - d))``, equal to ``w`` to the last bits, so spikes
may only move where a rounding tips a threshold crossing.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import hardware
import snn
from snn.errors import UnsupportedFeature
from tests.models.published import DT, IZHIKEVICH_FIG_2, NAUD_TABLE_1, adex, izhikevich, network

nengo = pytest.importorskip("nengo")

DURATION = 1.0


def both(net: snn.Network, dt: float = DT):
    ours = hardware.get("numba").run(net, DURATION, dt=dt, progress=False)
    theirs = hardware.get("nengo").run(net, DURATION, dt=dt, progress=False)
    return ours, theirs


def with_state_probes(net: snn.Network) -> snn.Network:
    model = net.populations["n"].model
    net.probe("n", "v", name="v")
    net.probe("n", model.state_variables[1], name="second")
    return net


CELLS = {
    **{f"adex {name}": (adex(row), row[-1] * 1e-12, DT) for name, (row, _) in NAUD_TABLE_1.items()},
    **{f"izhikevich {name}": (izhikevich(row), 0.01, dt) for name, (row, _, dt) in IZHIKEVICH_FIG_2.items()},
}


@pytest.mark.parametrize("name", CELLS)
def test_published_cells_on_nengo_equal_the_reference(name):
    model, current, dt = CELLS[name]
    ours, theirs = both(with_state_probes(network(model, current)), dt)
    times, _ = ours.spikes["n"]
    assert times.size > 0
    np.testing.assert_array_equal(theirs.spikes["n"][0], times)
    for probe in ("v", "second"):
        np.testing.assert_array_equal(theirs.traces[probe].t, ours.traces[probe].t)
        np.testing.assert_array_equal(theirs.traces[probe].values, ours.traces[probe].values)


def synaptic_network(model) -> snn.Network:
    """Poisson input through exponential synapses (excitatory and inhibitory) into 20 cells
    that also get a constant current just below rheobase, so the synapses decide the spikes."""
    net = snn.Network("synaptic")
    net.add(snn.PoissonSource(name="in", size=50, rate=40.0))
    net.add(snn.Population(name="n", size=20, model=model))
    weights = np.where(np.arange(50)[:, None] < 40, 1.0, -1.0) * np.linspace(0.5, 1.5, 20)[None, :]
    scale = 60e-12 if isinstance(model, snn.AdEx) else 1.5e-3
    net.connect("in", "n", snn.AllToAll(weights=weights * scale), snn.Exponential(tau_syn=5e-3))
    bias = 400e-12 if isinstance(model, snn.AdEx) else 3e-3
    net.inject(snn.Current.constant("n", np.full(20, bias)))
    net.probe("n")
    net.probe("n", "v", name="v")
    return net


@pytest.mark.parametrize("model", [snn.AdEx(), snn.Izhikevich()], ids=["adex", "izhikevich"])
def test_exponential_synapses_on_nengo_give_the_reference_spikes(model):
    ours, theirs = both(synaptic_network(model))
    mine, peer = (np.stack([r.spikes["n"][1], np.rint(r.spikes["n"][0] / DT)]) for r in (ours, theirs))
    assert mine.shape[1] > 200  # the cells fire (> 10 Hz each)
    same = {tuple(x) for x in mine.T} & {tuple(x) for x in peer.T}
    assert len(same) >= 0.99 * mine.shape[1] and abs(peer.shape[1] - mine.shape[1]) <= 0.01 * mine.shape[1]
    before_first = ours.traces["v"].t < ours.spikes["n"][0].min()
    np.testing.assert_allclose(
        theirs.traces["v"].values[before_first], ours.traces["v"].values[before_first], rtol=1e-12
    )


def test_delta_synapses_into_a_nonlinear_model_are_refused_before_building():
    net = snn.Network()
    net.add(snn.PoissonSource(name="in", size=4, rate=20.0))
    net.add(snn.Population(name="p", size=3, model=snn.AdEx()))
    net.connect("in", "p", snn.FixedProbability(p=0.5, weight=1e-3), snn.Delta())
    with pytest.raises(UnsupportedFeature) as error:
        hardware.get("nengo").run(net, 0.01, dt=DT, progress=False)
    assert "Delta synapses into a AdEx" in str(error.value) and "Exponential" in str(error.value)
    report_lines = hardware.get("nengo").capabilities().refusals()
    assert "AdEx with Delta synapses" in report_lines


@pytest.mark.parametrize("name", ["adex adapting", "izhikevich chattering"])
def test_published_cells_on_nengo_dl_equal_the_reference(name):
    # nengo-dl has no builder of its own for ModelNeurons: it runs the type's numpy step
    # inside its TensorFlow graph, so the spikes are still the reference's
    if importlib.util.find_spec("nengo_dl") is None:
        pytest.skip("nengo-dl is not installed")
    model, current, dt = CELLS[name]
    net = network(model, current)
    ours = hardware.get("numba").run(net, DURATION, dt=dt, progress=False)
    theirs = hardware.get("nengo-dl").run(net, DURATION, dt=dt, progress=False)
    assert ours.spikes["n"][0].size > 5
    np.testing.assert_array_equal(theirs.spikes["n"][0], ours.spikes["n"][0])
