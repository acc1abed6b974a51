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
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

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
    ``last`` (step its traces were last brought up to date), ``traces`` (synapses, 4: pair
    and reward: pre, post; triplet: r1, o1, r2, o2), ``eligibility``. Per rule: ``kind``,
    ``params`` (rules, N_PARAMS), ``dopamine`` level, ``syn_ptr``/``syn_list`` (its synapses),
    rate offsets ``pre_off``/``post_off`` into ``rate_pre``/``rate_post``/``theta`` with
    ``pre_first``/``post_first`` the first node of its pre and post. Transpose:
    ``post_ptr`` (n_neurons + 1) / ``post_syn``: spike-timing synapses into each neuron.
    ``delays``: the distinct delays (steps) of spike-timing synapses and of delayed
    learning synapses; ``history`` (rows, n_nodes) / ``history_count`` (rows): the last
    ``rows`` steps' spike lists; ``node_plastic``: whether a node has such synapses
    (spike-timing or delayed); ``events``: scratch, the
    synapses a step's spikes reach (one slot per synapse). Weight probes: probe ``q``
    samples ``probe_syn[probe_ptr[q]:probe_ptr[q + 1]]`` every ``probe_every[q]`` steps into
    ``probe_out[probe_out_ptr[q]:...]``, ``probe_rows[q]`` rows so far. ``every_step``:
    whether a rule acts every step (reward STDP, Oja, BCM); ``dt``: the time step (s)."""

    rule: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    last: np.ndarray
    traces: np.ndarray
    eligibility: np.ndarray
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
    post_ptr: np.ndarray
    post_syn: np.ndarray
    delays: np.ndarray
    history: np.ndarray
    history_count: np.ndarray
    node_plastic: np.ndarray
    events: np.ndarray
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


@njit(cache=True, inline="always")
def decayed(traces, elapsed, kind, p):
    """The synapse's four traces ``(pre, post, r2, o2)`` after ``elapsed`` s, exactly."""
    if elapsed <= 0.0:
        return traces
    a, b, c, d = traces
    a *= math.exp(-elapsed / p[TAU_PLUS])
    b *= math.exp(-elapsed / p[TAU_MINUS])
    if kind == TRIPLET:
        c *= math.exp(-elapsed / p[TAU_X])
        d *= math.exp(-elapsed / p[TAU_Y])
    return (a, b, c, d)


@njit(cache=True, inline="always")
def timing_event(kind, presynaptic, w, traces, c, p):
    """One spike at a spike-timing synapse, its traces already decayed to now: a presynaptic
    arrival (``presynaptic``) or a postsynaptic spike. Returns the new (weight, traces,
    eligibility). Pair and reward: traces (pre, post, -, -); triplet: (r1, o1, r2, o2), with
    r2 and o2 read before their own increment."""
    pre, post, r2, o2 = traces
    if presynaptic:
        if kind == PAIR:
            w = depress(w, p[A_MINUS] * post, p)
            pre = 1.0 if p[NEAREST] != 0.0 else pre + 1.0
        elif kind == TRIPLET:
            w = depress(w, post * (p[A_MINUS] + p[A3_MINUS] * r2), p)
            pre += 1.0
            r2 += 1.0
        else:  # REWARD: the pairing goes into the eligibility
            c -= p[A_MINUS] * post
            pre += 1.0
    else:
        if kind == PAIR:
            w = potentiate(w, p[A_PLUS] * pre, p)
            post = 1.0 if p[NEAREST] != 0.0 else post + 1.0
        elif kind == TRIPLET:
            w = potentiate(w, pre * (p[A_PLUS] + p[A3_PLUS] * o2), p)
            post += 1.0
            o2 += 1.0
        else:
            c += p[A_PLUS] * pre
            post += 1.0
    return w, (pre, post, r2, o2), c


@njit(cache=True)
def _arrivals(node_list, count, delay, row_ptr, synapses, slots, node_plastic, rule, kinds, events, n_events):
    """The spikes of ``node_list[:count]`` (emitted ``delay`` steps ago) at the learning
    synapses they reach now: a delayed one delivers its weight into its target slot; a
    spike-timing one is listed in ``events`` from ``n_events`` on. Returns the new count."""
    targets, weights, synapse_delays = synapses
    has_delays = synapse_delays.size > 0
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
            if kinds[r] < OJA:
                events[n_events] = syn
                n_events += 1
    return n_events


@njit(cache=True)
def _posts(spiked, listed, count, post_ptr, post_syn, events):
    """List in ``events`` the spike-timing synapses into the step's spiking neurons."""
    n_events = 0
    for k in range(listed, listed + count):
        neuron = spiked[k]
        for j in range(post_ptr[neuron], post_ptr[neuron + 1]):
            events[n_events] = post_syn[j]
            n_events += 1
    return n_events


@njit(cache=True)
def _apply_events(
    events, count, presynaptic, step, dt, rule, kinds, params, traces, last, eligibility, weights
):
    """One spike event (pre arrival or post spike) at each synapse of ``events[:count]``."""
    for k in range(count):
        syn = events[k]
        r = rule[syn]
        kind, p = kinds[r], row(params, r)
        state = (traces[syn, 0], traces[syn, 1], traces[syn, 2], traces[syn, 3])
        state = decayed(state, (step - last[syn]) * dt, kind, p)
        w, state, c = timing_event(kind, presynaptic, weights[syn], state, eligibility[syn], p)
        weights[syn], eligibility[syn], last[syn] = w, c, step
        traces[syn, 0], traces[syn, 1], traces[syn, 2], traces[syn, 3] = state


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


@njit(cache=True)
def learn_step(step, listed, counts, n_neurons, spiked, slots, row_ptr, synapses, plastic):
    """The learning rules after step ``step`` of :func:`snn.kernels.simulate.run_block` (one
    worker): ``spiked[listed:]`` holds the step's spikes, ``counts[0]`` neurons then
    ``counts[1]`` sources; ``slots`` the synaptic slots; ``row_ptr`` (nodes, 2) each node's
    synapses; ``synapses`` the :class:`~snn.kernels.simulate.Synapses` (weights change here)."""
    weights, dt = synapses.weights, plastic.dt
    rule, kinds, params, traces, last, eligibility = (
        plastic.rule, plastic.kind, plastic.params, plastic.traces, plastic.last, plastic.eligibility,
    )  # fmt: skip
    events, history, history_count = plastic.events, plastic.history, plastic.history_count
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
    # each synapse receives at most one arrival and one postsynaptic spike per step, so the
    # order within each list does not matter; arrivals first (Brian2's order) (the helpers
    # take arrays, not the Plastic record: passing it costs 60 refcount operations per call)
    n_events = 0
    for d in plastic.delays:
        if d > step:
            continue
        then = (step - d) % rows
        n_events = _arrivals(
            history[then], history_count[then], d, row_ptr, synapses, slots, plastic.node_plastic, rule,
            kinds, events, n_events,
        )  # fmt: skip
    _apply_events(events, n_events, True, step, dt, rule, kinds, params, traces, last, eligibility, weights)
    n_events = _posts(spiked, listed, counts[0], plastic.post_ptr, plastic.post_syn, events)
    _apply_events(events, n_events, False, step, dt, rule, kinds, params, traces, last, eligibility, weights)
    if plastic.every_step:
        _rate_rules(step, spiked, listed, n_neurons, counts, dt, plastic, weights)
    if plastic.probe_every.size > 0:
        _sample_weights(step, plastic, weights)
