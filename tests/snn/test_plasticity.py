"""Learning rules in the reference simulator: closed-form windows, published protocols,
bounds, bad input, weights as results."""

from __future__ import annotations

import math

import numpy as np
import pytest

import snn
from snn.plasticity import BCM, Oja, PairSTDP, RewardSTDP, TripletSTDP
from studies.experiments.stdp_protocols import DT, pair_network, pairing_protocol, weight_change

_run_pair = weight_change


@pytest.mark.parametrize("delay_steps", [0, 30])
@pytest.mark.parametrize("lag_steps", [-200, -37, -1, 0, 1, 12, 150])
def test_pair_window_matches_the_closed_form(lag_steps, delay_steps):
    # Delta t = t_post - (t_pre + delay): the rule sees the presynaptic spike when it arrives
    rule = PairSTDP(a_plus=1e-4, a_minus=1.2e-4, tau_plus=16.8e-3, tau_minus=33.7e-3)
    pre = 500
    dw = _run_pair([pre], [pre + delay_steps + lag_steps], rule, 0.2, delay_steps)
    lag = lag_steps * DT
    expected = 1e-4 * math.exp(-lag / 16.8e-3) if lag_steps >= 0 else -1.2e-4 * math.exp(lag / 33.7e-3)
    assert dw == pytest.approx(expected, rel=1e-9, abs=0)


def test_nearest_pairing_counts_only_the_last_spike_and_all_to_all_sums():
    pre, post = [500, 520], [600]  # two presynaptic spikes before one postsynaptic
    common = dict(a_plus=1e-4, a_minus=0.0, tau_plus=20e-3, tau_minus=20e-3)
    all_pairs = _run_pair(pre, post, PairSTDP(**common, pairing="all"), 0.1)
    nearest = _run_pair(pre, post, PairSTDP(**common, pairing="nearest"), 0.1)
    both = math.exp(-100 * DT / 20e-3) + math.exp(-80 * DT / 20e-3)
    assert all_pairs == pytest.approx(1e-4 * both, rel=1e-9)
    assert nearest == pytest.approx(1e-4 * math.exp(-80 * DT / 20e-3), rel=1e-9)


def test_bounds_hard_clip_and_soft_scale_with_the_distance_to_the_bound():
    rule = dict(a_plus=0.3, a_minus=0.0, tau_plus=20e-3, tau_minus=20e-3, w_min=0.0, w_max=1.0)
    hard = _run_pair([500], [500], PairSTDP(**rule, bounds="hard"), 0.1, w0=0.9)
    soft = _run_pair([500], [500], PairSTDP(**rule, bounds="soft"), 0.1, w0=0.9)
    assert hard == pytest.approx(0.1, rel=1e-12)  # clipped at w_max
    assert soft == pytest.approx(0.3 * (1.0 - 0.9), rel=1e-12)


def _triplet_pairing(frequency, lag_ms, pairs=60):
    return pairing_protocol(TripletSTDP(w_min=-1.0, w_max=1.0), frequency, lag_ms, pairs)


def test_triplet_reproduces_the_frequency_dependence_of_pairing():
    # Pfister & Gerstner 2006, Fig. 4 (their fit to Sjostrom et al. 2001, visual cortex): with
    # the minimal all-to-all model, post-before-pre (-10 ms) depresses at low frequency and
    # potentiates at 50 Hz (the sign changes between 20 and 40 Hz); pre-before-post (+10 ms)
    # does almost nothing at 1 Hz (their Fig. 4 and the data: no LTP at low frequency) and
    # potentiates more the higher the frequency
    frequencies = (1.0, 10.0, 20.0, 40.0, 50.0)
    change = {lag: [_triplet_pairing(f, lag) for f in frequencies] for lag in (10, -10)}
    assert all(c < 0 for c in change[-10][:3]) and change[-10][-1] > 0, change
    assert change[10][-1] > 0 and abs(change[10][0]) < 0.01 * change[10][-1], change
    assert np.all(np.diff(change[10]) > 0), "+10 ms: potentiation grows with frequency"
    assert change[10][-1] > change[-10][-1]


def test_learning_is_reproducible_and_weights_round_trip(tmp_path):
    def network():
        net = snn.Network()
        net.add(snn.PoissonSource(name="inputs", size=50, rate=20.0))
        net.add(
            snn.Population(name="out", size=5, model=snn.LIF(v_rest=0, v_reset=0, v_th=1.0, tau_mem=10e-3))
        )
        net.connect(
            "inputs",
            "out",
            snn.FixedProbability(p=0.5, weight=0.15, delay=1e-3),
            plasticity=PairSTDP(a_plus=0.01, a_minus=0.0105, w_max=0.3),
            name="learn",
        )
        net.probe("out")
        net.probe_weights("learn", synapses=[0, 3, 7], every=100)
        return net

    first = snn.Simulator(network(), dt=DT, seed=4, progress=False, threads=2).run(1.0)
    second = snn.Simulator(network(), dt=DT, seed=4, progress=False, threads=1).run(1.0)
    assert first.equals(second)
    trace = first.traces["learn_weights"]
    assert trace.values.shape == (100, 3) and trace.variable == "weights"
    assert np.array_equal(trace.values[-1], first.weights["learn"][[0, 3, 7]])
    assert not np.array_equal(trace.values[0], trace.values[-1]), "the weights moved"
    loaded = snn.Result.load(first.save(tmp_path / "r.npz"))
    assert loaded.equals(first) and np.array_equal(loaded.weights["learn"], first.weights["learn"])


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: PairSTDP(a_plus=-0.1), "PairSTDP.a_plus"),
        (lambda: PairSTDP(w_min=1.0, w_max=0.5), "PairSTDP.w_max"),
        (lambda: PairSTDP(tau_minus=0.0), "PairSTDP.tau_minus"),
        (lambda: PairSTDP(pairing="some"), "PairSTDP.pairing"),
        (lambda: TripletSTDP(tau_y=-1e-3), "TripletSTDP.tau_y"),
        (lambda: RewardSTDP(learning_rate=-1.0), "RewardSTDP.learning_rate"),
        (lambda: Oja(learning_rate=float("nan")), "Oja.learning_rate"),
        (lambda: BCM(threshold="median"), "BCM.threshold"),
        (lambda: BCM(bounds="soft"), "BCM.bounds"),
    ],
)
def test_bad_rules_name_the_field(make, field):
    with pytest.raises(snn.ValidationError) as error:
        make()
    assert error.value.field == field


def test_a_rule_needs_postsynaptic_spikes():
    net = snn.Network()
    net.add(snn.PoissonSource(name="inputs", size=3))
    net.add(snn.Population(name="readout", size=2, model=snn.LI()))
    with pytest.raises(snn.ValidationError, match="needs the postsynaptic spikes") as error:
        net.connect("inputs", "readout", snn.AllToAll(weights=0.1), plasticity=PairSTDP(), name="learn")
    assert error.value.field == "projections[learn].plasticity"
    with pytest.raises(snn.ValidationError, match="learning projection"):
        net.probe_weights("nothing")


def test_toml_round_trip_and_unknown_rule_keys(tmp_path):
    from snn.config import network_from_dict, network_to_dict

    net = pair_network([10], [20], TripletSTDP(a3_minus=1e-4, w_min=-math.inf))
    again, _ = network_from_dict(network_to_dict(net))
    assert again.projections[0].plasticity == net.projections[0].plasticity
    data = network_to_dict(net)
    data["projection"][0]["plasticity"]["a4_plus"] = 1.0
    with pytest.raises(snn.ValidationError, match="unknown field of TripletSTDP") as error:
        network_from_dict(data)
    assert error.value.field == "projection[0].plasticity.a4_plus"


def test_a_delayed_spike_is_delivered_with_the_weight_it_has_on_arrival():
    # pre spikes at steps 50 and 100 arrive at 80 and 130 (30-step delay); the post spike at
    # 110 potentiates by a_plus exp(-30 dt / tau_plus) (the arrival at 80) while the second
    # spike is on its way, so that spike lands with w0 + the potentiation (as in Brian2 and
    # NEST), not with the w0 it left with
    from studies.experiments.stdp_protocols import W0

    rule = PairSTDP(a_plus=0.05, a_minus=0.0, tau_plus=20e-3, tau_minus=20e-3, w_max=1.0)
    net = pair_network([50, 100], [110], rule, delay_steps=30)
    net.probe("post", "v")
    result = snn.Simulator(net, dt=DT, progress=False).run(0.02)
    on_arrival = W0 + 0.05 * math.exp(-30 * DT / 20e-3)
    assert result.weights["learn"][0] == pytest.approx(on_arrival, rel=1e-12)
    v = result.traces["post_v"].values[:, 0]
    tau_mem = net.populations["post"].model.tau_mem
    # v is 0 after the reset at 110 until the jump acts in step 131 (and leaks over it)
    assert np.all(v[111:131] == 0.0)
    assert v[131] == pytest.approx(on_arrival * math.exp(-DT / tau_mem), rel=1e-12)


def _reward_network(schedule):
    net = snn.Network("rewarded")
    net.add(snn.PoissonSource(name="inputs", size=20, rate=40.0))
    model = snn.LIF(v_rest=0, v_reset=0, v_th=1.0, tau_mem=20e-3, tau_ref=2e-3)
    net.add(snn.Population(name="out", size=2, model=model))
    weights = np.random.default_rng(1).uniform(0.05, 0.2, (20, 2))
    rule = RewardSTDP(tau_c=0.1, tau_dopamine=0.05, learning_rate=0.5, w_max=0.3)
    net.connect("inputs", "out", snn.AllToAll(weights=weights), plasticity=rule, name="learn")
    if schedule is not None:
        net.add_reward(snn.Reward(projection="learn", times=schedule[0], amounts=schedule[1]))
    return net


def test_a_reward_schedule_is_simulator_reward_at_those_times():
    schedule = ([0.05, 0.1, 0.1, 0.23], [1.0, -0.5, 0.25, 2.0])
    scheduled = snn.Simulator(_reward_network(schedule), dt=1e-4, progress=False)
    scheduled.run(0.15)
    scheduled.run(0.15)  # a run boundary between deliveries changes nothing
    by_hand = snn.Simulator(_reward_network(None), dt=1e-4, progress=False)
    by_hand.run(0.05)
    by_hand.reward("learn", 1.0)
    by_hand.run(0.05)
    by_hand.reward("learn", -0.5)
    by_hand.reward("learn", 0.25)
    by_hand.run(0.13)
    by_hand.reward("learn", 2.0)
    by_hand.run(0.07)
    learned = scheduled.weights("learn")[2]
    assert np.array_equal(learned, by_hand.weights("learn")[2])
    unrewarded = snn.Simulator(_reward_network(None), dt=1e-4, progress=False)
    unrewarded.run(0.3)
    assert np.max(np.abs(learned - unrewarded.weights("learn")[2])) > 0.01, "the rewards changed the weights"


@pytest.mark.parametrize(
    "times, amounts, field",
    [
        ([0.1, 0.05], [1.0, 1.0], "Reward.times"),
        ([-0.1], [1.0], "Reward.times"),
        ([], [], "Reward.times"),
        ([0.1, 0.2], [1.0], "Reward.amounts"),
        ([0.1], [float("inf")], "Reward.amounts"),
    ],
)
def test_bad_reward_schedules_name_the_field(times, amounts, field):
    with pytest.raises(snn.ValidationError) as error:
        snn.Reward(projection="learn", times=times, amounts=amounts)
    assert error.value.field == field


def test_a_reward_needs_a_reward_stdp_projection_and_reads_back_from_toml():
    from snn.config import network_from_dict, network_to_dict

    net = pair_network([10], [20], PairSTDP())
    with pytest.raises(snn.ValidationError, match="RewardSTDP projection; those here: \\[\\]") as error:
        net.add_reward(snn.Reward(projection="learn", times=[0.1], amounts=[1.0]))
    assert error.value.field == "Reward.projection"
    net = _reward_network(([0.1, 0.2], [1.0, -1.0]))
    again, _ = network_from_dict(network_to_dict(net))
    (reward,) = again.rewards
    assert reward.projection == "learn"
    assert np.array_equal(reward.times, [0.1, 0.2]) and np.array_equal(reward.amounts, [1.0, -1.0])
    data = network_to_dict(net)
    data["reward"][0]["amount"] = 1.0
    with pytest.raises(snn.ValidationError, match="unknown key") as error:
        network_from_dict(data)
    assert error.value.field == "reward[0].amount"


@pytest.mark.parametrize("lag_steps", [-25, 12])
def test_the_window_holds_across_a_rescaling_of_the_traces(lag_steps):
    # traces are kept scaled from a reference step that moves when elapsed / tau passes
    # RESCALE_AT (200 tau_plus = 3.36 s here): a pair straddling that step, and one long
    # after, still change the weight by the closed form
    from snn.plasticity.kernels import RESCALE_AT

    rule = PairSTDP(a_plus=1e-4, a_minus=1.2e-4, tau_plus=16.8e-3, tau_minus=33.7e-3)
    crossing = int(RESCALE_AT * 16.8e-3 / DT)
    lag = lag_steps * DT
    once = 1e-4 * math.exp(-lag / 16.8e-3) if lag_steps >= 0 else -1.2e-4 * math.exp(lag / 33.7e-3)
    for pre in (crossing - 5, 3 * crossing + 7):
        dw = _run_pair([pre], [pre + lag_steps], rule, (pre + 100) * DT)
        assert dw == pytest.approx(once, rel=1e-9, abs=0)
