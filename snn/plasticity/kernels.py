"""The learning rules' updates (``@njit``): :func:`learn_step`, which
:func:`snn.kernels.simulate.run_block` calls after each step of a learning network.

Step ``k`` of a learning network: the reference step (integrate, threshold, propagate with
the weights as they are), then

1. presynaptic arrivals: every plastic synapse whose presynaptic spike of step ``k - d``
   arrives now (``d`` its delay), in spike-list order then synapse order. A delayed
   learning synapse delivers its weight now, as it is on arrival (acting from step
   ``k + 1``, as the delay ring would), not as it was when the spike left: the weight
   may have changed in between, and Brian2 and NEST read it on arrival too. So the
   reference step skips these synapses (their delays are negative in the kernel's copy,
   :attr:`snn.plasticity.build.PlasticModel.kernel_delays`);
2. postsynaptic spikes of step ``k``, through the transpose index (``post_ptr``/``post_syn``);
3. the rules that act every step: eligibility decay and dopamine (reward STDP), Oja, BCM;
4. weight probes due after step ``k``.

So a pre and a post spike of the same step pair with ``Delta t = 0`` in Brian2's order
(pre pathway first). Plastic networks run on one worker: bit-identical for any
``threads`` (Simulator notes it in its metadata).

**Traces live per neuron, not per synapse.** Every synapse of one rule from one
presynaptic node with one delay sees the same arrivals, so it has the same presynaptic
traces; every synapse of one rule into one neuron has the same postsynaptic traces. So a
rule keeps one presynaptic *trace slot* per (node, delay) and one postsynaptic slot per
neuron (``pre_slot``/``post_slot`` of each synapse), and a spike touches a slot once, not
each of its synapses. A slot holds its trace ``x`` scaled so that it never needs decaying:
``x(k) = X g(k)`` with ``g(k) = exp(-(k - k0) dt / tau)`` from the rule's reference step
``k0``, so a spike adds ``1 / g(k)`` to ``X`` (or sets it, nearest pairing) and a read is one
multiplication by ``g(k)``, computed once per step. The exact exponential decay of
Brian2's event-driven traces, without an ``exp`` per event; ``k0`` moves forward (every
slot rescaled) before ``1 / g`` could overflow.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from snn.kernels.memory import prefetch

PAIR = 0
TRIPLET = 1
REWARD = 2
OJA = 3
BCM = 4

# columns of Plastic.params (one row per rule)
A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS, W_MIN, W_MAX, SOFT, NEAREST = range(8)
A3_PLUS, A3_MINUS, TAU_X, TAU_Y, RATE, TAU_C, TAU_D, BETA, TAU_RATE, TAU_THETA, SQUARED = range(8, 19)
N_PARAMS = 19


class Plastic(NamedTuple):
    """Plasticity arrays (see :mod:`snn.plasticity.build`).

    Per synapse of the merged CSR: ``rule`` (-1 static), ``pre`` node, ``post`` neuron,
    ``pre_slot``/``post_slot`` (spike-timing synapses: its trace slots, else -1),
    ``eligibility``. Trace slots (see the module): ``pre_trace`` (slots, 2: r1 with
    tau_plus, r2 with tau_x) and ``post_trace`` (slots, 2: o1 with tau_minus, o2 with
    tau_y; pair and reward STDP use the first column), scaled; ``pre_slot_rule`` /
    ``post_slot_rule`` their rule; ``pre_stamp`` the last step each presynaptic slot was
    touched; ``touched``: scratch. Per rule: ``reference_step`` (``k0``), ``gain`` (rules,
    4: ``g(k)`` for tau_plus, tau_minus, tau_x, tau_y) and ``inverse_gain`` (``1 / g(k)``),
    this step's; ``kind``, ``params`` (rules, N_PARAMS), ``dopamine`` level,
    ``syn_ptr``/``syn_list`` (its synapses), rate offsets ``pre_off``/``post_off`` into
    ``rate_pre``/``rate_post``/``theta`` with ``pre_first``/``post_first`` the first node
    of its pre and post. Transpose: neuron ``n``'s postsynaptic slots are
    ``neuron_slots[neuron_slot_ptr[n]:neuron_slot_ptr[n + 1]]`` (one per rule); slot
    ``b``'s synapses are entries ``post_ptr[b]:post_ptr[b + 1]``, each ``post_syn`` (the
    synapse) and ``post_pre_slot`` (its presynaptic slot, read in order). ``delays``: the
    distinct delays (steps) of spike-timing synapses and of delayed learning synapses;
    ``history`` (rows, n_nodes) / ``history_count`` (rows): the last ``rows`` steps' spike
    lists; ``node_plastic``: whether a node has such synapses (spike-timing or delayed).
    Weight probes: probe ``q`` samples ``probe_syn[probe_ptr[q]:probe_ptr[q + 1]]`` every
    ``probe_every[q]`` steps into ``probe_out[probe_out_ptr[q]:...]``, ``probe_rows[q]``
    rows so far. ``every_step``:
    whether a rule acts every step (reward STDP, Oja, BCM); ``dt``: the time step (s)."""

    rule: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    pre_slot: np.ndarray
    post_slot: np.ndarray
    eligibility: np.ndarray
    pre_trace: np.ndarray
    post_trace: np.ndarray
    pre_slot_rule: np.ndarray
    post_slot_rule: np.ndarray
    pre_stamp: np.ndarray
    touched: np.ndarray
    reference_step: np.ndarray
    gain: np.ndarray
    inverse_gain: np.ndarray
    kind: np.ndarray
    params: np.ndarray
    dopamine: np.ndarray
    syn_ptr: np.ndarray
    syn_list: np.ndarray
    pre_off: np.ndarray
    post_off: np.ndarray
    pre_first: np.ndarray
    post_first: np.ndarray
    rate_pre: np.ndarray
    rate_post: np.ndarray
    theta: np.ndarray
    neuron_slot_ptr: np.ndarray
    neuron_slots: np.ndarray
    post_ptr: np.ndarray
    post_syn: np.ndarray
    post_pre_slot: np.ndarray
    delays: np.ndarray
    history: np.ndarray
    history_count: np.ndarray
    node_plastic: np.ndarray
    probe_every: np.ndarray
    probe_ptr: np.ndarray
    probe_syn: np.ndarray
    probe_out: np.ndarray
    probe_out_ptr: np.ndarray
    probe_rows: np.ndarray
    every_step: bool
    dt: float


# Every update below is a pure function of scalars (a rule's parameter row comes as a tuple,
# :func:`row`): an inlined helper that takes arrays increfs and decrefs each of them per call,
# which made a spike event cost ~90 ns instead of ~8 ns (measured on CUBA's E->E STDP).
@njit(cache=True, inline="always")
def row(params, r):
    """Rule ``r``'s parameters as a tuple (indexed by the column names above)."""
    q = params[r]
    return (
        q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9],
        q[10], q[11], q[12], q[13], q[14], q[15], q[16], q[17], q[18],
    )  # fmt: skip


@njit(cache=True, inline="always")
def potentiate(w, amount, p):
    """``w`` raised by ``amount`` (>= 0) under the bounds of the rule with parameters ``p``."""
    if p[SOFT] != 0.0:
        return w + amount * (p[W_MAX] - w) / (p[W_MAX] - p[W_MIN])
    return min(w + amount, p[W_MAX])


@njit(cache=True, inline="always")
def depress(w, amount, p):
    """``w`` lowered by ``amount`` (>= 0) under the rule's bounds."""
    if p[SOFT] != 0.0:
        return w - amount * (w - p[W_MIN]) / (p[W_MAX] - p[W_MIN])
    return max(w - amount, p[W_MIN])


@njit(cache=True, inline="always")
def change(w, amount, p):
    """``w`` moved by a signed ``amount`` under the rule's bounds."""
    return potentiate(w, amount, p) if amount >= 0.0 else depress(w, -amount, p)


#: ``k0`` moves when ``(k - k0) dt / tau`` would pass this (``1 / g`` stays below e^200)
RESCALE_AT = 200.0


@njit(cache=True, inline="always")
def _update_gains(step, dt, plastic):
    """``g(step)`` and ``1 / g(step)`` of every spike-timing rule's four time constants;
    a rule whose ``1 / g`` has grown past e^RESCALE_AT first has its slots rescaled to this
    step as the new reference (gains 1)."""
    kinds, params, gain, inverse = plastic.kind, plastic.params, plastic.gain, plastic.inverse_gain
    for r in range(kinds.size):
        if kinds[r] >= OJA:
            continue
        elapsed = (step - plastic.reference_step[r]) * dt
        taus = 4 if kinds[r] == TRIPLET else 2  # pair and reward: tau_plus, tau_minus
        longest = 0.0  # the largest exponent, elapsed / tau
        for j in range(taus):
            exponent = elapsed / params[r, TAU_PLUS + j if j < 2 else TAU_X + j - 2]
            gain[r, j] = math.exp(-exponent)
            inverse[r, j] = 1.0 / gain[r, j]
            longest = max(longest, exponent)
        if longest > RESCALE_AT:
            _rescale(r, plastic)
            plastic.reference_step[r] = step
            gain[r, :] = 1.0
            inverse[r, :] = 1.0


@njit(cache=True)
def _rescale(r, plastic):
    """Rule ``r``'s slots expressed from this step as the reference (``X <- X g(step)``,
    the gains of the old reference)."""
    gain = plastic.gain
    for slot in range(plastic.pre_slot_rule.size):
        if plastic.pre_slot_rule[slot] == r:
            plastic.pre_trace[slot, 0] *= gain[r, 0]
            plastic.pre_trace[slot, 1] *= gain[r, 2]
    for slot in range(plastic.post_slot_rule.size):
        if plastic.post_slot_rule[slot] == r:
            plastic.post_trace[slot, 0] *= gain[r, 1]
            plastic.post_trace[slot, 1] *= gain[r, 3]


@njit(cache=True, inline="always")
def _arrive(node_list, count, delay, step, row_ptr, synapses, slots, n_touched, plastic):
    """The spikes of ``node_list[:count]`` (emitted ``delay`` steps ago) at the learning
    synapses they reach now: a delayed one delivers its weight into its target slot; a
    spike-timing one depresses (pair, triplet) or changes its eligibility (reward) by the
    postsynaptic trace, and its presynaptic slot is listed in ``touched`` (from
    ``n_touched`` on, once per step) to be raised after every arrival (triplet's r2 enters
    before its own increment, Pfister & Gerstner's epsilon). Returns the new ``n_touched``."""
    targets, weights, synapse_delays = synapses
    has_delays = synapse_delays.size > 0
    rule, kinds, params, node_plastic = plastic.rule, plastic.kind, plastic.params, plastic.node_plastic
    pre_slot, post_slot, eligibility = plastic.pre_slot, plastic.post_slot, plastic.eligibility
    pre_trace, post_trace, gain = plastic.pre_trace, plastic.post_trace, plastic.gain
    stamp, touched = plastic.pre_stamp, plastic.touched
    for k in range(count):
        node = node_list[k]
        if not node_plastic[node]:
            continue
        for syn in range(row_ptr[node, 0], row_ptr[node, 1]):
            r = rule[syn]
            if r < 0 or (abs(synapse_delays[syn]) if has_delays else 0) != delay:
                continue
            if delay > 0:
                slots[targets[syn]] += weights[syn]
            kind = kinds[r]
            if kind >= OJA:
                continue
            p = row(params, r)
            a = pre_slot[syn]
            post = post_trace[post_slot[syn], 0] * gain[r, 1]
            if kind == PAIR:
                weights[syn] = depress(weights[syn], p[A_MINUS] * post, p)
            elif kind == TRIPLET:
                r2 = pre_trace[a, 1] * gain[r, 2]
                weights[syn] = depress(weights[syn], post * (p[A_MINUS] + p[A3_MINUS] * r2), p)
            else:  # REWARD: the pairing goes into the eligibility
                eligibility[syn] -= p[A_MINUS] * post
            if stamp[a] != step:
                stamp[a] = step
                touched[n_touched] = a
                n_touched += 1
    return n_touched


@njit(cache=True, inline="always")
def _raise_pre(n_touched, plastic):
    """Add this step's arrival to each presynaptic slot of ``touched[:n_touched]``:
    ``1 / g`` of tau_plus to r1 (set instead, nearest pairing) and of tau_x to r2 (triplet)."""
    kinds, params, inverse = plastic.kind, plastic.params, plastic.inverse_gain
    touched, slot_rule, trace = plastic.touched, plastic.pre_slot_rule, plastic.pre_trace
    for k in range(n_touched):
        slot = touched[k]
        r = slot_rule[slot]
        if kinds[r] == PAIR and params[r, NEAREST] != 0.0:
            trace[slot, 0] = inverse[r, 0]
        else:
            trace[slot, 0] += inverse[r, 0]
            if kinds[r] == TRIPLET:
                trace[slot, 1] += inverse[r, 2]


@njit(cache=True, inline="always")
def _post_spikes(spiked, listed, count, weights, plastic):
    """The step's postsynaptic spikes (``spiked[listed:listed + count]``) at their
    spike-timing synapses: for each postsynaptic slot of a spiking neuron (one per rule),
    potentiation or eligibility of its synapses by their presynaptic trace (this step's
    arrivals included; triplet's o2 before its increment), then the slot's increment."""
    kinds, params, eligibility = plastic.kind, plastic.params, plastic.eligibility
    slot_ptr, neuron_slots, entry_ptr = plastic.neuron_slot_ptr, plastic.neuron_slots, plastic.post_ptr
    post_syn, entry_pre, slot_rule = plastic.post_syn, plastic.post_pre_slot, plastic.post_slot_rule
    pre_trace, post_trace = plastic.pre_trace, plastic.post_trace
    gain, inverse = plastic.gain, plastic.inverse_gain
    # the weights are scattered (one cache miss each): ask for all of them first, so that
    # the misses overlap (snn.kernels.memory)
    for k in range(listed, listed + count):
        neuron = spiked[k]
        for q in range(slot_ptr[neuron], slot_ptr[neuron + 1]):
            b = neuron_slots[q]
            for j in range(entry_ptr[b], entry_ptr[b + 1]):
                prefetch(weights, post_syn[j])
    for k in range(listed, listed + count):
        neuron = spiked[k]
        for q in range(slot_ptr[neuron], slot_ptr[neuron + 1]):
            b = neuron_slots[q]
            r = slot_rule[b]
            kind, p, g = kinds[r], row(params, r), gain[r, 0]
            begin, end = entry_ptr[b], entry_ptr[b + 1]
            if kind == PAIR:
                for j in range(begin, end):
                    syn = post_syn[j]
                    weights[syn] = potentiate(weights[syn], p[A_PLUS] * (pre_trace[entry_pre[j], 0] * g), p)
                if p[NEAREST] != 0.0:
                    post_trace[b, 0] = inverse[r, 1]
                else:
                    post_trace[b, 0] += inverse[r, 1]
            elif kind == TRIPLET:
                factor = p[A_PLUS] + p[A3_PLUS] * (post_trace[b, 1] * gain[r, 3])
                for j in range(begin, end):
                    syn = post_syn[j]
                    weights[syn] = potentiate(weights[syn], (pre_trace[entry_pre[j], 0] * g) * factor, p)
                post_trace[b, 0] += inverse[r, 1]
                post_trace[b, 1] += inverse[r, 3]
            else:  # REWARD: the pairing goes into the eligibility
                for j in range(begin, end):
                    eligibility[post_syn[j]] += p[A_PLUS] * (pre_trace[entry_pre[j], 0] * g)
                post_trace[b, 0] += inverse[r, 1]


@njit(cache=True)
def _rate_rules(step, spiked, listed, n_neurons, counts, dt, plastic, weights):
    """Every step: eligibility and dopamine (reward STDP), rate traces, Oja and BCM."""
    for r in range(plastic.kind.size):
        kind = plastic.kind[r]
        p = row(plastic.params, r)
        first, end = plastic.syn_ptr[r], plastic.syn_ptr[r + 1]
        if kind == REWARD:
            decay_c = math.exp(-dt / p[TAU_C])
            level = plastic.dopamine[r]
            for j in range(first, end):
                syn = plastic.syn_list[j]
                c = plastic.eligibility[syn]
                if level != 0.0 and c != 0.0:
                    weights[syn] = change(weights[syn], p[RATE] * c * level * dt, p)
                plastic.eligibility[syn] = c * decay_c
            plastic.dopamine[r] = level * math.exp(-dt / p[TAU_D])
        elif kind == OJA or kind == BCM:
            keep = math.exp(-dt / p[TAU_RATE])
            pre_rate = plastic.rate_pre[plastic.pre_off[r] : plastic.pre_off[r + 1]]
            post_rate = plastic.rate_post[plastic.post_off[r] : plastic.post_off[r + 1]]
            pre_rate *= keep
            post_rate *= keep
            jump = (1.0 - keep) / dt
            pre_first, post_first = plastic.pre_first[r], plastic.post_first[r]
            for part in range(2):  # the step's neurons, then its sources
                base = listed + (0 if part == 0 else n_neurons)
                for k in range(base, base + counts[part]):
                    node = spiked[k]
                    if 0 <= node - pre_first < pre_rate.size:
                        pre_rate[node - pre_first] += jump
                    if 0 <= node - post_first < post_rate.size:
                        post_rate[node - post_first] += jump
            theta = plastic.theta[plastic.post_off[r] : plastic.post_off[r + 1]]
            if kind == BCM:  # the threshold first, so it includes this step's rate (as nengo.BCM)
                follow_threshold(p, dt, post_rate, theta)
            for j in range(first, end):
                syn = plastic.syn_list[j]
                y_index = plastic.post[syn] - post_first
                x = pre_rate[plastic.pre[syn] - pre_first]
                weights[syn] = rate_update(kind, p, dt, x, post_rate[y_index], weights[syn], theta[y_index])


@njit(cache=True, inline="always")
def rate_update(kind, p, dt, x, y, w, theta):
    """One step of a rate rule for a synapse of weight ``w`` between rates ``x`` (pre) and
    ``y`` (post), Hz: Oja ``w + lr dt (x y - beta y^2 w)``, BCM ``w + lr dt x y (y - theta)``,
    under the rule's bounds (:func:`change`)."""
    rate = p[RATE] * dt
    if kind == OJA:
        delta = rate * (x * y - p[BETA] * y * y * w)
    else:
        delta = rate * x * y * (y - theta)
    return change(w, delta, p)


@njit(cache=True, inline="always")
def follow_threshold(p, dt, post_rate, theta):
    """BCM's sliding threshold after a step: low-pass of ``y^2`` (or ``y``) over ``tau_theta``."""
    keep = math.exp(-dt / p[TAU_THETA])
    for j in range(post_rate.size):
        target = post_rate[j] * post_rate[j] if p[SQUARED] != 0.0 else post_rate[j]
        theta[j] = keep * theta[j] + (1.0 - keep) * target


@njit(cache=True)
def learn_on_rates(kind, p, dt, weights, pre_rates, theta):
    """Run a rate rule on given presynaptic rates ``pre_rates`` (steps, n_pre) with linear
    postsynaptic units ``y = weights @ x``; ``weights`` (n_post, n_pre) and ``theta``
    (n_post,) change in place. Returns the postsynaptic rates (steps, n_post). The same
    updates as the simulator's, in the same order (BCM's threshold, then the weights)."""
    n_post, n_pre = weights.shape
    post_rates = np.empty((pre_rates.shape[0], n_post))
    for t in range(pre_rates.shape[0]):
        x = pre_rates[t]
        y = weights @ x
        post_rates[t] = y
        if kind == BCM:
            follow_threshold(p, dt, y, theta)
        for i in range(n_post):
            for j in range(n_pre):
                weights[i, j] = rate_update(kind, p, dt, x[j], y[i], weights[i, j], theta[i])
    return post_rates


@njit(cache=True)
def _sample_weights(step, plastic, weights):
    for q in range(plastic.probe_every.size):
        if (step + 1) % plastic.probe_every[q] != 0:
            continue
        begin, end = plastic.probe_ptr[q], plastic.probe_ptr[q + 1]
        base = plastic.probe_out_ptr[q] + plastic.probe_rows[q] * (end - begin)
        if base + end - begin > plastic.probe_out_ptr[q + 1]:
            continue
        for j in range(end - begin):
            plastic.probe_out[base + j] = weights[plastic.probe_syn[begin + j]]
        plastic.probe_rows[q] += 1


def _without_reference_counts(function):
    """``njit`` with Numba's reference counting off (its ``_nrt=False`` target option)
    where this Numba has the option, plain ``njit`` otherwise.

    Numba counts a reference, two atomic operations, for every array read out of a record
    or handed to a helper: for :func:`learn_step`, which reads ~30 of the record's arrays
    each step, that was ~0.9 us per step, a third of the learning overhead on CUBA with
    STDP (measured: 59.8 -> 50.9 ms per simulated second). Nothing needs counting here:
    the step allocates no array and keeps none (Numba refuses to compile an allocation
    without counting), and every array it touches outlives the call.
    """
    from numba.core.cpu import CPUTargetOptions

    if hasattr(CPUTargetOptions, "_nrt"):
        return njit(cache=True, _nrt=False)(function)
    return njit(cache=True)(function)  # pragma: no cover - a Numba without the option


@_without_reference_counts
def learn_step(step, listed, counts, n_neurons, spiked, slots, row_ptr, synapses, plastic):
    """The learning rules after step ``step`` of :func:`snn.kernels.simulate.run_block` (one
    worker): ``spiked[listed:]`` holds the step's spikes, ``counts[0]`` neurons then
    ``counts[1]`` sources; ``slots`` the synaptic slots; ``row_ptr`` (nodes, 2) each node's
    synapses; ``synapses`` the :class:`~snn.kernels.simulate.Synapses` (weights change here)."""
    weights, dt = synapses.weights, plastic.dt
    history, history_count = plastic.history, plastic.history_count
    rows = history.shape[0]
    # the step's spike list, neurons then sources, into the history row of this step
    here = history[step % rows]
    n = 0
    for part in range(2):
        base = listed + (0 if part == 0 else n_neurons)
        for k in range(base, base + counts[part]):
            here[n] = spiked[k]
            n += 1
    history_count[step % rows] = n
    if plastic.post_slot_rule.size:
        _update_gains(step, dt, plastic)
    # each synapse receives at most one arrival and one postsynaptic spike per step;
    # arrivals first (Brian2's order)
    n_touched = 0
    for d in plastic.delays:
        if d <= step:
            then = (step - d) % rows
            n_touched = _arrive(
                history[then], history_count[then], d, step, row_ptr, synapses, slots, n_touched, plastic
            )
    _raise_pre(n_touched, plastic)
    _post_spikes(spiked, listed, counts[0], weights, plastic)
    if plastic.every_step:
        _rate_rules(step, spiked, listed, n_neurons, counts, dt, plastic, weights)
    if plastic.probe_every.size > 0:
        _sample_weights(step, plastic, weights)
