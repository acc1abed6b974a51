"""The builder's plasticity part: learning rules -> the arrays of
:class:`snn.plasticity.kernels.Plastic` (per synapse of the merged CSR, per rule)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn.build import neuron_of_slot
from snn.plasticity import kernels as k
from snn.plasticity.rules import BCM, Oja, PairSTDP, RewardSTDP, TripletSTDP


@dataclass
class PlasticModel:
    """What the simulator needs to run a network's learning rules.

    ``names[r]``: the projection of rule ``r``; ``positions[name]``: that projection's
    synapses in the merged CSR, in the projection's own order (pre-major, as its
    connectivity made them); ``pre_post[name]``: their (pre, post) indices within the nodes.
    ``arrays``: the rule-independent part of :class:`~snn.plasticity.kernels.Plastic`
    (everything but the weight probes, which each run sizes). ``kernel_delays``: the
    synapse delays the kernels read, with each delayed learning synapse's negated (it is
    delivered on arrival), or None when no learning synapse has a delay."""

    names: list
    positions: dict
    pre_post: dict
    arrays: dict
    kernel_delays: np.ndarray | None = None


def rule_parameters(rule) -> tuple[int, np.ndarray]:
    """(kernel kind, parameter row) of one rule (see the column names in the kernels)."""
    p = np.zeros(k.N_PARAMS)
    p[k.W_MIN], p[k.W_MAX] = rule.w_min, rule.w_max
    p[k.SOFT] = rule.bounds == "soft"
    if isinstance(rule, (PairSTDP, RewardSTDP)):
        p[k.A_PLUS], p[k.A_MINUS] = rule.a_plus, rule.a_minus
        p[k.TAU_PLUS], p[k.TAU_MINUS] = rule.tau_plus, rule.tau_minus
    if isinstance(rule, PairSTDP):
        p[k.NEAREST] = rule.pairing == "nearest"
        return k.PAIR, p
    if isinstance(rule, RewardSTDP):
        p[k.RATE], p[k.TAU_C], p[k.TAU_D] = rule.learning_rate, rule.tau_c, rule.tau_dopamine
        return k.REWARD, p
    if isinstance(rule, TripletSTDP):
        p[k.A_PLUS], p[k.A3_PLUS], p[k.A_MINUS], p[k.A3_MINUS] = (
            rule.a2_plus,
            rule.a3_plus,
            rule.a2_minus,
            rule.a3_minus,
        )
        p[k.TAU_PLUS], p[k.TAU_MINUS], p[k.TAU_X], p[k.TAU_Y] = (
            rule.tau_plus,
            rule.tau_minus,
            rule.tau_x,
            rule.tau_y,
        )
        return k.TRIPLET, p
    p[k.RATE], p[k.TAU_RATE] = rule.learning_rate, rule.tau_rate
    if isinstance(rule, Oja):
        p[k.BETA] = rule.beta
        return k.OJA, p
    assert isinstance(rule, BCM)
    p[k.TAU_THETA], p[k.SQUARED] = rule.tau_theta, rule.threshold == "squared"
    return k.BCM, p


def _trace_slots(rule_of, timing_syn, pre, post, delays, n_nodes: int, n_neurons: int) -> dict:
    """The trace slots of the spike-timing synapses (:mod:`snn.plasticity.kernels`): one
    presynaptic slot per (rule, node, delay), one postsynaptic slot per (rule, neuron),
    and the transpose: each neuron's postsynaptic slots, each slot's synapses."""
    n_syn = rule_of.size
    r = rule_of[timing_syn].astype(np.int64)
    delay = delays[timing_syn].astype(np.int64) if delays.size else np.zeros(timing_syn.size, np.int64)
    longest = int(delay.max()) + 1 if delay.size else 1
    pre_keys, pre_of = np.unique((r * n_nodes + pre[timing_syn]) * longest + delay, return_inverse=True)
    post_keys, post_of = np.unique(r * n_neurons + post[timing_syn], return_inverse=True)
    pre_slot, post_slot = np.full(n_syn, -1, dtype=np.int64), np.full(n_syn, -1, dtype=np.int64)
    pre_slot[timing_syn], post_slot[timing_syn] = pre_of, post_of
    by_slot = np.argsort(post_of, kind="stable")  # entries: each slot's synapses, in synapse order
    slot_neuron = post_keys % n_neurons if post_keys.size else post_keys
    return dict(
        pre_slot=pre_slot,
        post_slot=post_slot,
        pre_trace=np.zeros((pre_keys.size, 2)),
        post_trace=np.zeros((post_keys.size, 2)),
        pre_slot_rule=(pre_keys // longest // n_nodes).astype(np.int64),
        post_slot_rule=(post_keys // n_neurons).astype(np.int64),
        pre_stamp=np.full(pre_keys.size, -1, dtype=np.int64),
        touched=np.zeros(max(pre_keys.size, 1), dtype=np.int64),
        neuron_slot_ptr=_pointers(slot_neuron, n_neurons),
        neuron_slots=np.argsort(slot_neuron, kind="stable").astype(np.int64),
        post_ptr=_pointers(post_of, post_keys.size),
        post_syn=timing_syn[by_slot].astype(np.int64),
        post_pre_slot=pre_of[by_slot].astype(np.int64),
    )


def _pointers(owner: np.ndarray, n_owners: int) -> np.ndarray:
    """CSR pointers (n_owners + 1) of items grouped by ``owner`` in ascending order."""
    return np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n_owners))]).astype(np.int64)


def build_plasticity(network, model, ranges: dict) -> PlasticModel:
    """The plasticity arrays of ``model`` (built from ``network``); ``ranges[name]`` =
    (first node, size)."""
    c = model.connectivity
    n_syn = c.targets.size
    n_nodes = model.n_nodes
    pre = np.repeat(np.arange(n_nodes, dtype=np.int32), np.diff(c.indptr))
    post = neuron_of_slot(model)[c.targets] if n_syn else np.zeros(0, np.int32)
    rule_of = np.full(n_syn, -1, dtype=np.int32)
    names, kinds, params, syn_lists = [], [], [], []
    positions, pre_post = {}, {}
    pre_off, post_off, pre_first, post_first = [0], [0], [], []
    for index, projection in enumerate(network.projections):
        if projection.plasticity is None:
            continue
        r = len(names)
        where = np.flatnonzero(c.projection == index)
        rule_of[where] = r
        kind, row = rule_parameters(projection.plasticity)
        names.append(projection.name)
        kinds.append(kind)
        params.append(row)
        syn_lists.append(where)
        positions[projection.name] = where
        pre_begin, pre_size = ranges[projection.pre]
        post_begin, post_size = ranges[projection.post]
        pre_post[projection.name] = (pre[where] - pre_begin, post[where] - post_begin)
        rate_rule = kind in (k.OJA, k.BCM)
        pre_off.append(pre_off[-1] + (pre_size if rate_rule else 0))
        post_off.append(post_off[-1] + (post_size if rate_rule else 0))
        pre_first.append(pre_begin)
        post_first.append(post_begin)
    kinds = np.asarray(kinds, dtype=np.int64)
    timing_syn = np.flatnonzero(np.isin(rule_of, np.flatnonzero(kinds < k.OJA)))  # rule -1 is in no list
    # delayed learning synapses (any rule) are delivered on arrival; spike-timing ones, delayed
    # or not, also update there
    learning = np.flatnonzero(rule_of >= 0)
    delayed = learning[c.delays[learning] > 0] if c.delays.size else learning[:0]
    kernel_delays = None
    if delayed.size:
        kernel_delays = c.delays.astype(np.int32)
        kernel_delays[delayed] *= -1
    arriving = np.union1d(timing_syn, delayed)
    if c.delays.size:
        delays = np.unique(c.delays[arriving]).astype(np.int64)
    else:
        delays = np.zeros(1 if timing_syn.size else 0, dtype=np.int64)
    rows = int(delays.max()) + 1 if delays.size else 1
    node_plastic = np.zeros(n_nodes, dtype=np.bool_)
    node_plastic[pre[arriving]] = True
    slots = _trace_slots(rule_of, timing_syn, pre, post, c.delays, n_nodes, model.n_neurons)
    arrays = dict(
        rule=rule_of,
        pre=pre,
        post=post,
        eligibility=np.zeros(n_syn),
        **slots,
        kind=kinds,
        params=np.asarray(params, dtype=np.float64).reshape(len(params), k.N_PARAMS),
        dopamine=np.zeros(len(names)),
        syn_ptr=np.cumsum([0] + [w.size for w in syn_lists]).astype(np.int64),
        syn_list=np.concatenate(syn_lists).astype(np.int64),
        pre_off=np.asarray(pre_off, dtype=np.int64),
        post_off=np.asarray(post_off, dtype=np.int64),
        pre_first=np.asarray(pre_first, dtype=np.int64),
        post_first=np.asarray(post_first, dtype=np.int64),
        rate_pre=np.zeros(pre_off[-1]),
        rate_post=np.zeros(post_off[-1]),
        theta=np.zeros(post_off[-1]),
        delays=delays,
        history=np.zeros((rows, n_nodes), dtype=np.int64),
        history_count=np.zeros(rows, dtype=np.int64),
        node_plastic=node_plastic,
        reference_step=np.zeros(len(names), dtype=np.int64),
        gain=np.ones((len(names), 4)),
        inverse_gain=np.ones((len(names), 4)),
    )
    return PlasticModel(
        names=names, positions=positions, pre_post=pre_post, arrays=arrays, kernel_delays=kernel_delays
    )
