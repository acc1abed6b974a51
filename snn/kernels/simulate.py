"""The time loop: one ``@njit`` call advances the whole network by a block of steps.

Order within step ``k`` (Brian2's schedule, so spike times agree with it):

1. apply scheduled current and Poisson-rate changes for step ``k``;
2. integrate every neuron exactly over ``dt`` from the state at the start of the step
   (refractory neurons hold ``v``; synaptic slots decay regardless);
3. threshold: a neuron spikes if ``v > v_th + beta * b``, then resets; sources emit;
   a spike is stamped with the step's start time ``k * dt``;
4. propagate: each spike adds its weights to target slots, directly when the delay is 0
   (acting from step ``k + 1``) or into a ring buffer of ``max_delay + 1`` rows; the
   ring row of step ``k`` is then flushed into the slots (a delayed learning synapse is
   marked by a negative delay and delivered on arrival instead, see
   :mod:`snn.plasticity.kernels`);
5. record probes (sampled after the step);
6. in a network that learns, the learning rules (:mod:`snn.plasticity.kernels`).

Synaptic slots are channel-major: population ``p`` of ``size`` neurons keeps channel
``c`` of its neuron ``j`` at ``slot_base[p] + c * size + j``, so each channel decays in
one contiguous, vectorised loop.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from snn.kernels import steps
from snn.kernels.memory import prefetch
from snn.kernels.sync import barrier, first_sense
from snn.models.base import ADEX, IZHIKEVICH
from snn.plasticity.kernels import learn_step

CACHE_LINE = 64  # bytes

VAR_V = 0
VAR_B = 1
VAR_I_SYN = 2
VAR_I_EXT = 3


# How _integrate gets a neuron's synaptic drive: from the scratch array ``syn_in`` (any
# number of channels, and injected currents), or straight from one or two channel slices.
FROM_SCRATCH = 0
ONE_CHANNEL = 1
TWO_CHANNELS = 2


class Work(NamedTuple):
    """How the workers share a step: worker ``w`` integrates neurons
    ``neurons[w]:neurons[w + 1]`` and reads row ``i``'s synapses ``rows[i, w]:rows[i, w + 1]``
    (those into its slots); ``sync`` is the barrier (:mod:`snn.kernels.sync`) and
    ``spike_counts`` (2, workers + 1) each part's spikes of the even and odd steps."""

    neurons: np.ndarray
    rows: np.ndarray
    sync: np.ndarray
    spike_counts: np.ndarray


class State(NamedTuple):
    """What a run changes. Per neuron: ``v`` (V), ``b`` (the model's second state variable:
    ALIF's b, AdEx's w in A, Izhikevich's u in V), ``refractory_left`` (steps of the
    refractory hold still to come, int64: :func:`snn.models.lif.holding`), ``i_ext`` (A),
    scratch ``syn_in`` and ``fired`` (bool, padded to whole 8-byte words). ``slots``:
    synaptic slots; ``ring`` (max_delay + 1, slots): delayed input; ``poisson_prob`` per
    source channel; ``cur_level`` per current column; ``spiked`` (2 n_nodes): the even and
    odd steps' spike lists. ``held`` (n_neurons) lists the neurons whose countdown is running,
    each worker's from its first neuron on, ``held_count[first neuron]`` entries (-1: not
    listed yet, the worker lists them from ``refractory_left``; set so at the start of a run)."""

    v: np.ndarray
    b: np.ndarray
    refractory_left: np.ndarray
    i_ext: np.ndarray
    syn_in: np.ndarray
    fired: np.ndarray
    slots: np.ndarray
    ring: np.ndarray
    poisson_prob: np.ndarray
    cur_level: np.ndarray
    spiked: np.ndarray
    held: np.ndarray
    held_count: np.ndarray


class Neurons(NamedTuple):
    """Per-population constants (:class:`snn.build.neurons.NeuronArrays`); population ``p``
    covers neurons ``start[p]:start[p + 1]``; ``kernel[p]`` picks its step."""

    start: np.ndarray
    kernel: np.ndarray
    alpha: np.ndarray
    const_drive: np.ndarray
    drive_gain: np.ndarray
    v_reset: np.ndarray
    v_th: np.ndarray
    reset_amount: np.ndarray
    reset_subtract: np.ndarray
    ref_steps: np.ndarray
    rho: np.ndarray
    beta: np.ndarray
    extra: np.ndarray


class Channels(NamedTuple):
    """Synaptic channels: population ``p`` owns channels ``ptr[p]:ptr[p + 1]`` and the slots
    from ``slot_base[p]`` (channel-major); per channel its slots' decay and coefficient."""

    ptr: np.ndarray
    slot_base: np.ndarray
    decay: np.ndarray
    coef: np.ndarray


class Synapses(NamedTuple):
    """Per synapse (rows = nodes, split by :class:`Work`): target slot, weight, delay in steps
    (``delays`` empty when every delay is 0; negative, in a learning run, for a delayed
    learning synapse that :mod:`snn.plasticity.kernels` delivers on arrival)."""

    targets: np.ndarray
    weights: np.ndarray
    delays: np.ndarray


class Schedule(NamedTuple):
    """Inputs over time. Given spikes as (step, node) from ``spike_at[0]``; current changes
    ``(step, column, value)`` into neuron ``cur_target[column]`` from ``cur_at[0]``; Poisson
    probability changes ``(step, source, value)`` from ``rate_at[0]``. The ``*_at`` counters
    are 1-element arrays that persist between calls."""

    n_neurons: int
    spike_at: np.ndarray
    spike_step: np.ndarray
    spike_node: np.ndarray
    cur_at: np.ndarray
    cur_step: np.ndarray
    cur_col: np.ndarray
    cur_value: np.ndarray
    cur_target: np.ndarray
    rate_at: np.ndarray
    rate_step: np.ndarray
    rate_source: np.ndarray
    rate_value: np.ndarray


class Recording(NamedTuple):
    """Spikes of nodes with ``record_node`` set go to ``spike_steps``/``spike_nodes`` from
    ``spike_count[0]``; probe ``q`` samples variable ``var[q]`` of neurons
    ``index[ptr[q]:ptr[q + 1]]`` every ``every[q]`` steps into
    ``out[out_ptr[q]:out_ptr[q + 1]]``, ``rows[q]`` rows so far."""

    record_node: np.ndarray
    spike_steps: np.ndarray
    spike_nodes: np.ndarray
    spike_count: np.ndarray
    every: np.ndarray
    var: np.ndarray
    ptr: np.ndarray
    index: np.ndarray
    out: np.ndarray
    out_ptr: np.ndarray
    rows: np.ndarray


@njit(cache=True, inline="always")
def _integrate(state, params, channels, adaptive, source):
    """The linear models' step (:mod:`snn.models.lif`, with :mod:`snn.models.alif`'s threshold
    when ``adaptive``) for one population's neurons; sets ``fired`` where ``v`` crossed.

    ``state`` = (v, b, refractory_left, syn_in, fired), views of this population; a neuron
    is refractory while its countdown ``refractory_left`` is positive (it holds ``v``); the
    countdown is only read here: the caller counts it down afterwards (:func:`_advance_holds`);
    ``params`` = (alpha, const_drive, v_th, rho, beta); ``channels`` = (first slots,
    second slots, their coefficients into v, their decay factors). ``adaptive`` and
    ``source`` are literals at every call site, so each combination compiles to its own
    branch-free loop that vectorises.
    """
    v, b, refractory_left, syn_in, fired = state
    alpha, const_drive, v_th, rho, beta = params
    first, second, coef_first, coef_second, decay_first, decay_second = channels
    for i in range(v.size):
        if source == FROM_SCRATCH:
            syn = syn_in[i]
        else:
            x = first[i]
            syn = coef_first * x
            first[i] = x * decay_first
            if source == TWO_CHANNELS:
                y = second[i]
                syn += coef_second * y
                second[i] = y * decay_second
        # read only: the held neurons' countdowns are advanced after the loop (_advance_holds), since
        # a store here, even a conditional one, keeps the loop from vectorising (+15 % at 16 000 neurons)
        hold = steps.lif_holding(refractory_left[i])
        v_old = v[i]
        v_new = steps.lif_integrate(v_old, alpha, const_drive, syn)
        threshold = steps.alif_threshold(v_th, beta, b[i]) if adaptive else v_th
        spike = (not hold) and steps.lif_crossed(v_new, threshold)
        v[i] = v_old if hold else v_new
        if adaptive:
            b[i] = steps.alif_adapt(b[i], rho, 1.0 if spike else 0.0)
        fired[i] = spike


@njit(cache=True, nogil=True)  # not inlined: it stays out of the linear models' hot loop
def _integrate_nonlinear(kind, state, begin, end, size, offset, has_current, decay, v_peak, v_reset, p):
    """A nonlinear model's step (:func:`snn.models.adex.step` or
    :func:`snn.models.izhikevich.step`) for neurons ``[begin, end)``: delta slots jump ``v``
    first, exponential slots are a current held for the step (then decay)."""
    for j in range(end - begin):
        i = begin + j
        current = state.i_ext[i] if has_current else 0.0
        jump = 0.0
        for c in range(decay.size):
            slot = offset + c * size + j
            x = state.slots[slot]
            if decay[c] > 0.0:
                current += x
            else:
                jump += x
            state.slots[slot] = x * decay[c]
        v_new, w_new, spike = steps.nonlinear_step(
            kind, state.v[i] + jump, state.b[i], current, v_peak, v_reset, p
        )
        state.v[i] = v_new
        state.b[i] = w_new
        state.fired[i] = spike


@njit(cache=True, inline="always")
def _population_constants(neurons, channels, pop):
    """Population ``pop``'s per-step constants as a tuple of scalars: (first neuron, size,
    first slot, channels, first channel, alpha, const_drive, drive_gain, v_th, rho, beta,
    v_reset, reset_amount, reset_subtract, ref_steps). A tuple of scalars costs nothing to
    hand to an inlined function; a record of arrays costs two reference-count updates per
    member per call (measured: ~0.3 us per step at 4000 CUBA neurons)."""
    return (
        neurons.start[pop],
        neurons.start[pop + 1] - neurons.start[pop],
        channels.slot_base[pop],
        channels.ptr[pop + 1] - channels.ptr[pop],
        channels.ptr[pop],
        neurons.alpha[pop],
        neurons.const_drive[pop],
        neurons.drive_gain[pop],
        neurons.v_th[pop],
        neurons.rho[pop],
        neurons.beta[pop],
        neurons.v_reset[pop],
        neurons.reset_amount[pop],
        neurons.reset_subtract[pop],
        neurons.ref_steps[pop],
    )


@njit(cache=True, inline="always")
def _update_nonlinear(pop, begin, end, state, neurons, channels, has_current, n_spikes):
    """A nonlinear population's neurons ``[begin, end)`` (AdEx, Izhikevich) for one step."""
    pop_begin = neurons.start[pop]
    size = neurons.start[pop + 1] - pop_begin
    chan_decay = channels.decay[channels.ptr[pop] : channels.ptr[pop + 1]]
    offset = channels.slot_base[pop] + begin - pop_begin
    v_peak, v_reset, constants = neurons.v_th[pop], neurons.v_reset[pop], neurons.extra[pop]
    _integrate_nonlinear(
        neurons.kernel[pop],
        state,
        begin,
        end,
        size,
        offset,
        has_current,
        chan_decay,
        v_peak,
        v_reset,
        constants,
    )
    return _list_fired(state.fired, begin, end, state.spiked, n_spikes)


@njit(cache=True, inline="always")
def _update_population(begin, end, const, v, b, refractory_left, i_ext, syn_in, fired, slots, spiked,
                       chan_decay_all, chan_coef_all, has_current, n_spikes):  # fmt: skip
    """Advance neurons ``[begin, end)`` of a linear population (constants ``const``, see
    :func:`_population_constants`) by one step; append their spikes to ``spiked`` from
    ``n_spikes`` on and return the new count.

    The population's channels' slots are channel-major: channel ``c`` of neuron
    ``start + j`` is ``slots[slot_base + c * size + j]``.
    """
    (pop_begin, size, slot_base, n_chan, first_chan, alpha, const_drive, drive_gain, v_th, rho, beta,
     v_reset, reset_amount, reset_subtract, ref_steps) = const  # fmt: skip
    offset = slot_base + begin - pop_begin
    count = end - begin
    first = slots[offset : offset + count]
    second = slots[offset + size : offset + size + count] if n_chan >= 2 else first[:0]
    one, two = n_chan >= 1, n_chan >= 2
    coefs = (chan_coef_all[first_chan] if one else 0.0, chan_coef_all[first_chan + 1] if two else 0.0)
    decays = (chan_decay_all[first_chan] if one else 0.0, chan_decay_all[first_chan + 1] if two else 0.0)
    scratch = syn_in[begin:end]
    from_scratch = has_current or n_chan == 0 or n_chan > 2
    if from_scratch:
        if has_current:
            scratch[:] = drive_gain * i_ext[begin:end]
        else:
            scratch[:] = 0.0
        for c in range(n_chan):
            channel = slots[offset + c * size : offset + c * size + count]
            coef, decay = chan_coef_all[first_chan + c], chan_decay_all[first_chan + c]
            for j in range(count):
                scratch[j] += coef * channel[j]
                channel[j] *= decay
    views = (v[begin:end], b[begin:end], refractory_left[begin:end], scratch, fired[begin:end])
    params = (alpha, const_drive, v_th, rho, beta)
    channel_views = (first, second, coefs[0], coefs[1], decays[0], decays[1])
    if rho < 1.0:  # ALIF: the LIF's step with the adaptive threshold
        if from_scratch:
            _integrate(views, params, channel_views, True, FROM_SCRATCH)
        elif n_chan == 1:
            _integrate(views, params, channel_views, True, ONE_CHANNEL)
        else:
            _integrate(views, params, channel_views, True, TWO_CHANNELS)
    elif from_scratch:
        _integrate(views, params, channel_views, False, FROM_SCRATCH)
    elif n_chan == 1:
        _integrate(views, params, channel_views, False, ONE_CHANNEL)
    else:
        _integrate(views, params, channel_views, False, TWO_CHANNELS)
    n_before = n_spikes
    n_spikes = _list_fired(fired, begin, end, spiked, n_spikes)
    for k in range(n_before, n_spikes):
        _reset(spiked[k], v, refractory_left, v_reset, reset_amount, reset_subtract, ref_steps)
    return n_spikes


@njit(cache=True, inline="always")
def _reset(i, v, refractory_left, v_reset, reset_amount, reset_subtract, ref_steps):
    """Neuron ``i`` spiked: reset its ``v`` (:func:`snn.models.lif.reset`) and start its hold."""
    v[i] = steps.lif_reset(v[i], v_reset, reset_amount, reset_subtract)
    refractory_left[i] = ref_steps


@njit(cache=True, inline="always")
def _list_held(refractory_left, held, first, end):
    """List neurons ``[first, end)`` whose countdown runs in ``held`` from ``first`` on; return
    how many."""
    count = 0
    for i in range(first, end):
        if steps.lif_holding(refractory_left[i]):
            held[first + count] = i
            count += 1
    return count


@njit(cache=True, inline="always")
def _advance_holds(refractory_left, held, first, count, spiked, spikes_begin, spikes_end):
    """After a step: count down the held neurons listed in ``held[first : first + count]``
    (:func:`snn.models.lif.count_down`), drop those now free, then list the neurons that
    spiked (``spiked[spikes_begin:spikes_end]``) and start a hold; return the new count.

    A held neuron cannot spike, so the two groups are disjoint and the result is that of
    counting every neuron down before the reset. Only held neurons are touched (about one
    in 40 in CUBA), and the order of the list does not matter."""
    kept = 0
    for k in range(count):
        i = held[first + k]
        left = steps.lif_count_down(refractory_left[i])
        refractory_left[i] = left
        if steps.lif_holding(left):
            held[first + kept] = i
            kept += 1
    for k in range(spikes_begin, spikes_end):
        i = spiked[k]
        if steps.lif_holding(refractory_left[i]):
            held[first + kept] = i
            kept += 1
    return kept


@njit(cache=True)
def step_linear_population(state, params, reset):
    """One step of a linear population whose synaptic drive (V, this step's
    ``drive_gain i_ext + sum_c coef_c s_c``) is given per neuron: for a backend that computes
    the drive itself (nengo's ``J``) and runs the simulator's own step on it.

    ``state`` = (v, b, refractory_left, drive, fired) arrays of the population (in place;
    ``fired`` bool); ``params`` = (alpha, const_drive, v_th, rho, beta) as in :func:`_integrate`;
    ``reset`` = (v_reset, reset_amount, reset_subtract, ref_steps).
    """
    empty = state[0][:0]
    no_channels = (empty, empty, 0.0, 0.0, 0.0, 0.0)
    if params[3] < 1.0:  # ALIF: the LIF's step with the adaptive threshold
        _integrate(state, params, no_channels, True, FROM_SCRATCH)
    else:
        _integrate(state, params, no_channels, False, FROM_SCRATCH)
    v, refractory_left, fired = state[0], state[2], state[4]
    v_reset, reset_amount, reset_subtract, ref_steps = reset
    for i in range(v.size):
        refractory_left[i] = steps.lif_count_down(refractory_left[i])
        if fired[i]:
            _reset(i, v, refractory_left, v_reset, reset_amount, reset_subtract, ref_steps)


@njit(cache=True, inline="always")
def _list_fired(fired, begin, end, spiked, n_spikes):
    """Append every ``i`` in ``[begin, end)`` with ``fired[i]`` set to ``spiked`` from
    ``n_spikes`` on, in order; return the new count.

    Spikes are rare (about one neuron in 2000 per step in CUBA), so whole 8-byte words of
    ``fired`` are tested at once (``fired.size`` is a multiple of 8): 0.07 instead of
    0.37 ns per neuron, measured. Only words inside ``[begin, end)`` are read as words, so
    a worker never reads bytes that another worker is writing.
    """
    words = fired.view(np.uint64)
    word_begin = (begin + 7) // 8
    word_end = end // 8
    head_end = word_begin * 8
    if word_begin >= word_end:  # no whole word inside: all scalar
        word_begin = word_end = 0
        head_end = end
    for i in range(begin, head_end):
        if fired[i]:
            spiked[n_spikes] = i
            n_spikes += 1
    for w in range(word_begin, word_end):
        if words[w] != 0:
            for i in range(8 * w, 8 * w + 8):
                if fired[i]:
                    spiked[n_spikes] = i
                    n_spikes += 1
    for i in range(max(word_end * 8, head_end), end):
        if fired[i]:
            spiked[n_spikes] = i
            n_spikes += 1
    return n_spikes


@njit(cache=True, nogil=True)
def run_block(
    step_begin, step_end, worker, work, state, neurons, channels, synapses, schedule, rng, recording,
    plastic=None,
):  # fmt: skip
    """Advance steps ``[step_begin, step_end)``; return the first step not done.

    Arguments are the typed records above (:class:`Work`, :class:`State`, :class:`Neurons`,
    :class:`Channels`, :class:`Synapses`, :class:`Schedule`, :class:`Recording`), the
    run's ``numpy.random.Generator`` (Poisson draws) and, for a network that learns, its
    :class:`snn.plasticity.kernels.Plastic` (one worker only): the rules' updates run after
    each step (:func:`snn.plasticity.kernels.learn_step`). Without it (``None``) Numba
    compiles the learning call away.

    Called once per worker, all at the same time (``work.neurons.size - 1`` workers, each on
    its own thread; one worker is the plain serial run). A worker owns its neurons and their
    synaptic slots. Each step: (1) every worker integrates its neurons and lists their spikes
    in this step's half of ``spiked`` (2 n_nodes: even and odd steps alternate, so a worker
    may list step k + 1 while another still reads step k), from its first neuron on; worker 0
    also draws the sources, listed from ``n_neurons`` on; counts in ``spike_counts[step % 2]``;
    one barrier; (2) every worker walks the whole step's list in node order and adds the
    weights that land in its own slots (``work.rows`` groups each row by receiving worker),
    so each slot receives its additions in the serial order and the result does not depend
    on the number of workers, bit for bit; then it flushes its slots' delay-ring row and
    samples its neurons' probes. Phase 2 touches only the worker's own state, so the next
    phase 1 needs no second barrier. Worker 0 records the spikes; every worker counts them,
    so all decide alike when the record is full.

    Returns early (before a step) when the spike record could overflow, so the caller can
    grow ``spike_steps`` / ``spike_nodes`` and call again. Counters that persist between
    calls live in the 1-element arrays of :class:`Schedule`, in ``recording.spike_count``
    and ``recording.rows``; workers keep their own copies while running and worker 0 writes
    them back.
    """
    neuron_split, row_split, sync, spike_counts = work
    spiked, slots, ring, i_ext = state.spiked, state.slots, state.ring, state.i_ext
    v_all, b_all, refractory_all, syn_in_all, fired_all = (
        state.v,
        state.b,
        state.refractory_left,
        state.syn_in,
        state.fired,
    )
    targets, weights, delays = synapses
    pop_start = neurons.start
    n_neurons = schedule.n_neurons
    workers = neuron_split.size - 1
    lead = worker == 0
    my_first, my_end = neuron_split[worker], neuron_split[worker + 1]
    n_nodes = row_split.shape[0]
    ring_rows = ring.shape[0]
    has_delays = delays.size > 0
    cur_level, cur_target = state.cur_level, schedule.cur_target
    has_current = cur_level.size > 0
    has_probes = recording.every.size > 0
    sched_at, cur_at, rate_at = schedule.spike_at[0], schedule.cur_at[0], schedule.rate_at[0]
    recorded = recording.spike_count[0]
    rows_done = recording.rows.copy()
    # every array the step loop reads, taken out of the records once: a record read inside the
    # loop, or handed to an inlined helper, costs reference-count updates on each use
    kernel_of, chan_decay, chan_coef = neurons.kernel, channels.decay, channels.coef
    cur_step, cur_col, cur_value = schedule.cur_step, schedule.cur_col, schedule.cur_value
    rate_step, rate_source, rate_value = schedule.rate_step, schedule.rate_source, schedule.rate_value
    spike_step, spike_node, poisson_prob = schedule.spike_step, schedule.spike_node, state.poisson_prob
    record_node, spike_steps, spike_nodes = (
        recording.record_node,
        recording.spike_steps,
        recording.spike_nodes,
    )
    held = state.held
    n_held = state.held_count[my_first]
    if n_held < 0:
        n_held = _list_held(refractory_all, held, my_first, my_end)
    sense = first_sense(sync)
    step = step_begin
    while step < step_end:
        if recorded + n_nodes > spike_steps.size:
            break
        half = step % 2
        listed = half * n_nodes  # where this step's spike list starts in `spiked`

        # 1. scheduled changes (a current column by its target's worker, rates by the lead)
        while cur_at < cur_step.size and cur_step[cur_at] <= step:
            col = cur_col[cur_at]
            if my_first <= cur_target[col] < my_end:
                cur_level[col] = cur_value[cur_at]
            cur_at += 1
        while rate_at < rate_step.size and rate_step[rate_at] <= step:
            if lead:
                poisson_prob[rate_source[rate_at]] = rate_value[rate_at]
            rate_at += 1
        if has_current:
            i_ext[my_first:my_end] = 0.0
            for col in range(cur_level.size):
                target = cur_target[col]
                if my_first <= target < my_end:
                    i_ext[target] += cur_level[col]

        # 2.-3. integrate, threshold, reset this worker's share of every population
        n_spikes = listed + my_first
        for pop in range(pop_start.size - 1):
            begin = max(pop_start[pop], my_first)
            end = min(pop_start[pop + 1], my_end)
            if begin >= end:
                continue
            if kernel_of[pop] == ADEX or kernel_of[pop] == IZHIKEVICH:
                n_spikes = _update_nonlinear(pop, begin, end, state, neurons, channels, has_current, n_spikes)
            else:
                const = _population_constants(neurons, channels, pop)
                n_spikes = _update_population(
                    begin, end, const, v_all, b_all, refractory_all, i_ext, syn_in_all, fired_all,
                    slots, spiked, chan_decay, chan_coef, has_current, n_spikes,
                )  # fmt: skip
        n_held = _advance_holds(refractory_all, held, my_first, n_held, spiked, listed + my_first, n_spikes)
        spike_counts[half, worker] = n_spikes - (listed + my_first)
        if lead:
            n_source = listed + n_neurons
            for s in range(poisson_prob.size):
                if poisson_prob[s] > 0.0 and rng.random() < poisson_prob[s]:
                    spiked[n_source] = n_neurons + s
                    n_source += 1
            while sched_at < spike_step.size and spike_step[sched_at] <= step:
                if spike_step[sched_at] == step:
                    spiked[n_source] = spike_node[sched_at]
                    n_source += 1
                sched_at += 1
            spike_counts[half, workers] = n_source - (listed + n_neurons)
        sense = barrier(sync, workers, sense)
        if sense < 0:  # another worker failed: stop here
            break

        # 4. propagate the step's spikes (workers' lists in order, then the sources) into own slots,
        # after asking for all their rows at once (see snn.kernels.memory)
        for part in range(workers + 1):
            base = listed + (neuron_split[part] if part < workers else n_neurons)
            for k in range(base, base + spike_counts[half, part]):
                node = spiked[k]
                _prefetch_row(row_split[node, worker], row_split[node, worker + 1], targets, weights, delays)
        for part in range(workers + 1):
            base = listed + (neuron_split[part] if part < workers else n_neurons)
            for k in range(base, base + spike_counts[half, part]):
                node = spiked[k]
                if record_node[node]:
                    if lead:
                        spike_steps[recorded] = step
                        spike_nodes[recorded] = node
                    recorded += 1
                for syn in range(row_split[node, worker], row_split[node, worker + 1]):
                    target = targets[syn]
                    if has_delays and delays[syn] != 0:
                        if delays[syn] > 0:
                            ring[(step + delays[syn]) % ring_rows, target] += weights[syn]
                        # < 0: a learning synapse's spike, delivered on arrival with the weight
                        # it has then (snn.plasticity.kernels)
                    else:
                        slots[target] += weights[syn]
        if ring_rows > 1:
            _flush_ring_row(
                ring[step % ring_rows], slots, my_first, my_end, pop_start, channels.ptr, channels.slot_base
            )

        # 5. probes of this worker's neurons (sampled after the step); called only when there are
        # any: handing the records to the (empty) loop cost 0.45 us per step at 4000 CUBA neurons
        if has_probes:
            _sample_probes(step, my_first, my_end, state, neurons, channels, recording, rows_done)
        # 6. the learning rules (a pruned branch when there are none)
        if plastic is not None:
            counts = spike_counts[half]
            learn_step(step, listed, counts, n_neurons, spiked, slots, row_split, synapses, plastic)
        step += 1
    state.held_count[my_first] = n_held
    if lead:
        schedule.spike_at[0], schedule.cur_at[0], schedule.rate_at[0] = sched_at, cur_at, rate_at
        recording.spike_count[0] = recorded
        recording.rows[:] = rows_done
    return step


@njit(cache=True, inline="always")
def _sample_probes(step, my_first, my_end, state, neurons, channels, recording, rows_done):
    """Record the probes due after ``step`` for neurons ``[my_first, my_end)``."""
    for q in range(recording.every.size):
        if (step + 1) % recording.every[q] != 0:
            continue
        begin = recording.ptr[q]
        width = recording.ptr[q + 1] - begin
        base = recording.out_ptr[q] + rows_done[q] * width
        if base + width > recording.out_ptr[q + 1]:
            continue
        var = recording.var[q]
        out = recording.out
        for j in range(width):
            i = recording.index[begin + j]
            if i < my_first or i >= my_end:
                continue
            if var == VAR_V:
                out[base + j] = state.v[i]
            elif var == VAR_B:
                out[base + j] = state.b[i]
            elif var == VAR_I_EXT:
                out[base + j] = state.i_ext[i]
            else:
                out[base + j] = _synaptic_current(
                    i, neurons.start, channels.ptr, channels.slot_base, channels.decay, state.slots
                )
        rows_done[q] += 1


@njit(cache=True, inline="always")
def _prefetch_row(first, end, targets, weights, delays):
    """Prefetch synapses ``[first, end)``: every cache line of their targets, weights and
    (when there are any) delays."""
    for syn in range(first, end, CACHE_LINE // targets.itemsize):
        prefetch(targets, syn)
    for syn in range(first, end, CACHE_LINE // weights.itemsize):
        prefetch(weights, syn)
    if delays.size > 0:
        for syn in range(first, end, CACHE_LINE // delays.itemsize):
            prefetch(delays, syn)


@njit(cache=True, inline="always")
def _flush_ring_row(row, slots, first, end, pop_start, chan_ptr, slot_base):
    """Move the delayed input due now from the ring ``row`` into the slots of neurons
    ``[first, end)`` (every channel of each population they fall in)."""
    for pop in range(pop_start.size - 1):
        begin = max(pop_start[pop], first)
        stop = min(pop_start[pop + 1], end)
        if begin >= stop:
            continue
        size = pop_start[pop + 1] - pop_start[pop]
        for c in range(chan_ptr[pop + 1] - chan_ptr[pop]):
            offset = slot_base[pop] + c * size - pop_start[pop]
            for j in range(offset + begin, offset + stop):
                if row[j] != 0.0:
                    slots[j] += row[j]
                    row[j] = 0.0


@njit(cache=True)
def _synaptic_current(i, pop_start, chan_ptr, slot_base, chan_decay, slots):
    """Sum of neuron ``i``'s exponential-synapse currents (delta channels excluded)."""
    pop = 0
    while pop_start[pop + 1] <= i:
        pop += 1
    size = pop_start[pop + 1] - pop_start[pop]
    local = i - pop_start[pop]
    total = 0.0
    for c in range(chan_ptr[pop + 1] - chan_ptr[pop]):
        if chan_decay[chan_ptr[pop] + c] > 0.0:
            total += slots[slot_base[pop] + c * size + local]
    return total
