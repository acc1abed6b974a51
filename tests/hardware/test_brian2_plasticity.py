"""Learning rules on Brian2: the same rule, generated as Synapses equations, against the
reference simulator in the same test."""

from __future__ import annotations

import numpy as np
import pytest

import hardware
import snn
from snn.examples import SongParameters, song2000
from snn.plasticity import BCM, Oja, PairSTDP, RewardSTDP, TripletSTDP
from studies.experiments.stdp_protocols import DT
from studies.experiments.stdp_protocols import pair_network as _pair_network

pytest.importorskip("brian2")


@pytest.mark.parametrize(
    "rule",
    [
        PairSTDP(a_plus=1e-4, a_minus=1.2e-4, tau_plus=16.8e-3, tau_minus=33.7e-3),
        PairSTDP(a_plus=3e-4, a_minus=2e-4, pairing="nearest", bounds="soft", w_max=2e-3),
        TripletSTDP(w_min=-1.0, w_max=1.0),
    ],
    ids=["pair", "pair-nearest-soft", "triplet"],
)
def test_spike_protocols_change_the_weight_as_the_reference_does(rule):
    # three pairs at several lags, through a 3 ms delay: every trace, the pairing order
    # within a step and the delayed arrival must agree
    backend = hardware.get("brian2", target="cython")
    for lag in (-37, 0, 12):
        pre = [500, 700, 760]
        net = _pair_network(pre, [p + 30 + lag for p in pre], rule, delay_steps=30)
        net.probe_weights("learn", every=50)
        ours = snn.Simulator(net, dt=DT, progress=False).run(0.1)
        theirs = backend.run(net, 0.1, dt=DT)
        assert np.array_equal(ours.spikes["post"][0], theirs.spikes["post"][0])
        assert theirs.weights["learn"] == pytest.approx(ours.weights["learn"], rel=1e-12, abs=1e-18)
        assert theirs.traces["learn_weights"].values == pytest.approx(
            ours.traces["learn_weights"].values, rel=1e-12
        )
        assert ours.weights["learn"][0] != net.projections[0].connectivity.weights


def _histogram(weights, w_max):
    return np.histogram(weights / w_max, bins=10, range=(0.0, 1.0))[0]


def test_song_miller_abbott_weights_become_bimodal_as_in_brian2():
    # Song, Miller & Abbott 2000 in the form of Brian2's STDP example (1000 Poisson inputs at
    # 15 Hz, additive STDP with a_minus / a_plus = 1.05), 100 s on both simulators from the
    # same parameters and input spikes: the weights split towards 0 and w_max
    params = SongParameters()
    net = song2000(params)
    ours = snn.Simulator(net, dt=DT, progress=False).run(100.0)
    theirs = hardware.get("brian2", target="cython").run(net, 100.0, dt=DT)
    fractions = {}
    for name, result in (("ours", ours), ("brian2", theirs)):
        w = result.weights["inputs_out"]
        counts = _histogram(w, params.w_max)
        assert min(counts[0], counts[-1]) > max(counts[1:-1]), f"{name}: not bimodal: {counts}"
        fractions[name] = (np.mean(w < 0.1 * params.w_max), np.mean(w > 0.9 * params.w_max))
    assert abs(fractions["ours"][0] - fractions["brian2"][0]) <= 0.05, fractions
    assert abs(fractions["ours"][1] - fractions["brian2"][1]) <= 0.05, fractions
    assert ours.rates("out")[0] == pytest.approx(theirs.rates("out")[0], rel=0.10)


def _rate_network(rule, delay: float) -> snn.Network:
    """Poisson drive -> 8 LIF -> 2 LIF, all to all, learning with ``rule`` through ``delay`` (s);
    three rewards, two of them at one step, when the rule is reward-modulated."""
    net = snn.Network("learning")
    net.add(snn.PoissonSource(name="drive", size=8, rate=np.linspace(50, 400, 8)))
    lif = snn.LIF(v_rest=0, v_reset=0, v_th=1.0, tau_mem=20e-3, tau_ref=2e-3)
    net.add(snn.Population(name="pre", size=8, model=lif))
    net.add(snn.Population(name="post", size=2, model=lif))
    net.connect("drive", "pre", snn.Sparse(pre=np.arange(8), post=np.arange(8), weights=0.5))
    net.connect("pre", "post", snn.AllToAll(weights=0.2, delays=delay), plasticity=rule, name="learn")
    if isinstance(rule, RewardSTDP):
        net.add_reward(snn.Reward(projection="learn", times=[0.1, 0.25, 0.25], amounts=[1.0, -0.5, 2.0]))
    net.probe("post")
    net.probe_weights("learn", every=100)
    return net


@pytest.mark.parametrize(
    "rule",
    [
        Oja(learning_rate=1e-4),
        BCM(learning_rate=1e-7, tau_theta=0.2),
        BCM(learning_rate=1e-7, threshold="mean", bounds="soft", w_max=1.0),
        RewardSTDP(learning_rate=0.5, w_max=0.5, tau_c=0.1, tau_dopamine=0.05),
        RewardSTDP(learning_rate=0.5, w_max=0.5, bounds="soft"),
    ],
    ids=["oja", "bcm", "bcm-mean-soft", "reward", "reward-soft"],
)
@pytest.mark.parametrize("delay", [0.0, 2e-3], ids=["no-delay", "delay"])
def test_every_step_rules_change_the_weights_as_the_reference_does(rule, delay):
    # the weights change every step (rates, or eligibility x dopamine), so the post spikes
    # agree only if both simulators deliver a delayed spike with the weight it has on arrival
    net = _rate_network(rule, delay)
    ours = snn.Simulator(net, dt=DT, progress=False).run(0.4)
    theirs = hardware.get("brian2", target="cython").run(net, 0.4, dt=DT)
    assert np.array_equal(ours.spikes["post"][0], theirs.spikes["post"][0])
    assert np.array_equal(ours.spikes["post"][1], theirs.spikes["post"][1])
    assert theirs.weights["learn"] == pytest.approx(ours.weights["learn"], rel=1e-12, abs=1e-15)
    assert theirs.traces["learn_weights"].values == pytest.approx(
        ours.traces["learn_weights"].values, rel=1e-12, abs=1e-15
    )
    assert np.max(np.abs(ours.weights["learn"] - 0.2)) > 0.01, "the weights learned"
