"""NIR has no plasticity: learning projections are refused, or exported frozen on request."""

from __future__ import annotations

import numpy as np
import pytest

import snn
from snn.errors import UnsupportedFeature
from snn.plasticity import PairSTDP, freeze

pytest.importorskip("nir")
from hardware.nir import from_nir, to_nir  # noqa: E402


def _network():
    net = snn.Network()
    net.add(snn.SpikeSource(name="inputs", size=20, times=np.arange(200) * 1e-3, ids=np.arange(200) % 20))
    lif = snn.LIF(v_rest=0.0, v_reset=0.0, v_th=1.0, tau_mem=20e-3, tau_ref=0.0)
    net.add(snn.Population(name="out", size=3, model=lif))
    net.connect(
        "inputs",
        "out",
        snn.FixedProbability(p=0.8, weight=0.3),
        plasticity=PairSTDP(a_plus=0.02, a_minus=0.021, w_max=0.6),
        name="learn",
    )
    net.probe("out")
    return net


def test_a_learning_projection_is_refused_with_the_way_out():
    with pytest.raises(UnsupportedFeature, match="PairSTDP plasticity.*snn.plasticity.freeze"):
        to_nir(_network())
    import hardware

    refused = hardware.get("nir").capabilities().refusals()
    assert "plasticity: PairSTDP, TripletSTDP, RewardSTDP, Oja, BCM" in refused


def test_frozen_export_carries_the_learned_weights():
    net = _network()
    sim = snn.Simulator(net, dt=1e-4, progress=False)
    sim.run(0.2)
    pre, post, learned = sim.weights("learn")
    assert not np.allclose(learned, 0.3), "the weights learned"
    graph, _ = to_nir(freeze(net, sim), dt=1e-4)
    back, _ = from_nir(graph, dt=1e-4, conventions="neurobridge")
    exported = np.zeros((20, 3))
    exported[pre, post] = learned
    (projection,) = back.projections
    matrix = np.zeros((20, 3))
    c = projection.connectivity
    if isinstance(c, snn.Sparse):
        matrix[np.asarray(c.pre), np.asarray(c.post)] = c.weights
    else:
        matrix = np.asarray(c.weights)
    assert np.allclose(matrix, exported, rtol=1e-12, atol=0)
