"""The time loop: one ``@njit`` call advances the whole network by a block of steps.

Order within step ``k`` (Brian2's schedule, so spike times agree with it):

1. apply scheduled current and Poisson-rate changes for step ``k``;
2. integrate every neuron exactly over ``dt`` from the state at the start of the step
   (refractory neurons hold ``v``; synaptic slots decay regardless);
3. threshold: a neuron spikes if ``v > v_th + beta * b``, then resets; sources emit;
   a spike is stamped with the step's start time ``k * dt``;
4. propagate: each spike adds its weights to target slots, directly when the delay is 0
   (acting from step ``k + 1``) or into a ring buffer of ``max_delay + 1`` rows; the
   ring row of step ``k`` is then flushed into the slots;
5. record probes (sampled after the step).

Synaptic slots are channel-major: population ``p`` of ``size`` neurons keeps channel
``c`` of its neuron ``j`` at ``slot_base[p] + c * size + j``, so each channel decays in
one contiguous, vectorised loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from snn.kernels.memory import prefetch
from snn.kernels.sync import barrier, first_sense

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


@njit(cache=True, inline="always")
def _integrate(step, state, params, channels, adaptive, source):
    """One exact step for one population's neurons; sets ``fired`` where ``v`` crossed threshold.

    ``state`` = (v, b, held_until, syn_in, fired), views of this population; a neuron is
    refractory in step ``step`` when ``step <= held_until`` (read-only here, so the loop
    stores nothing for it);
    ``params`` = (alpha, const_drive, v_th, rho, beta); ``channels`` = (first slots,
    second slots, their coefficients into v, their decay factors). ``adaptive`` and
    ``source`` are literals at every call site, so each combination compiles to its own
    branch-free loop that vectorises. Refractory neurons hold ``v``.
    """
    v, b, held_until, syn_in, fired = state
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
        hold = step <= held_until[i]
        v_old = v[i]
        v_new = alpha * v_old + const_drive + syn
        threshold = v_th + beta * b[i] if adaptive else v_th
        spike = (not hold) and v_new > threshold
        v[i] = v_old if hold else v_new
        if adaptive:
            b[i] = rho * b[i] + ((1.0 - rho) if spike else 0.0)
        fired[i] = spike


@njit(cache=True, inline="always")
def _update_population(step, pop_begin, size, begin, end, v, b, held_until, i_ext, syn_in, fired, has_current,
                       slots, slot_base, chan_decay, chan_coef, alpha, const_drive, drive_gain, v_reset, v_th,
                       reset_amount, reset_subtract, ref_steps, rho, beta, spiked, n_spikes):  # fmt: skip
    """Advance neurons ``[begin, end)`` of the population that starts at ``pop_begin`` and has
    ``size`` neurons by one step; append their spikes to ``spiked`` from ``n_spikes`` on.

    The population's channels' slots are channel-major: channel ``c`` of neuron
    ``pop_begin + j`` is ``slots[slot_base + c * size + j]``. Returns the new spike count.
    """
    offset = slot_base + begin - pop_begin
    count = end - begin
    n_chan = chan_decay.size
    first = slots[offset : offset + count]
    second = slots[offset + size : offset + size + count] if n_chan >= 2 else first[:0]
    coefs = (chan_coef[0] if n_chan >= 1 else 0.0, chan_coef[1] if n_chan >= 2 else 0.0)
    decays = (chan_decay[0] if n_chan >= 1 else 0.0, chan_decay[1] if n_chan >= 2 else 0.0)
    scratch = syn_in[begin:end]
    from_scratch = has_current or n_chan == 0 or n_chan > 2
    if from_scratch:
        if has_current:
            scratch[:] = drive_gain * i_ext[begin:end]
        else:
            scratch[:] = 0.0
        for c in range(n_chan):
            channel = slots[offset + c * size : offset + c * size + count]
            coef, decay = chan_coef[c], chan_decay[c]
            for j in range(count):
                scratch[j] += coef * channel[j]
                channel[j] *= decay
    state = (v[begin:end], b[begin:end], held_until[begin:end], scratch, fired[begin:end])
    params = (alpha, const_drive, v_th, rho, beta)
    channels = (first, second, coefs[0], coefs[1], decays[0], decays[1])
    if rho < 1.0:
        if from_scratch:
            _integrate(step, state, params, channels, True, FROM_SCRATCH)
        elif n_chan == 1:
            _integrate(step, state, params, channels, True, ONE_CHANNEL)
        else:
            _integrate(step, state, params, channels, True, TWO_CHANNELS)
    elif from_scratch:
        _integrate(step, state, params, channels, False, FROM_SCRATCH)
    elif n_chan == 1:
        _integrate(step, state, params, channels, False, ONE_CHANNEL)
    else:
        _integrate(step, state, params, channels, False, TWO_CHANNELS)
    n_before = n_spikes
    n_spikes = _list_fired(fired, begin, end, spiked, n_spikes)
    for k in range(n_before, n_spikes):
        i = spiked[k]
        v[i] = v[i] - reset_amount if reset_subtract else v_reset
        held_until[i] = step + ref_steps
    return n_spikes


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
    step_begin,
    step_end,
    # the calling worker, and how the work is split: worker w integrates neurons
    # neuron_split[w]:neuron_split[w+1] and owns their synaptic slots; spike_counts (2, workers + 1)
    worker,
    neuron_split,
    sync,
    spike_counts,
    # neuron state (length n_neurons)
    v,
    b,
    held_until,
    i_ext,
    syn_in,
    fired,
    # neuron parameters, one entry per population; pop_start has n_populations + 1 entries
    pop_start,
    alpha,
    const_drive,
    drive_gain,
    v_reset,
    v_th,
    reset_amount,
    reset_subtract,
    ref_steps,
    rho,
    beta,
    # synaptic channels: population p owns channels chan_ptr[p]:chan_ptr[p+1] and slots from
    # slot_base[p]; ring has max_delay + 1 rows (1 row of width 0 when there are no delays)
    chan_ptr,
    slot_base,
    chan_decay,
    chan_coef,
    slots,
    ring,
    # connectivity, rows = nodes (neurons then sources); targets are slot indices, each row
    # grouped by the worker owning the target: worker w's part of row i is
    # row_split[i, w]:row_split[i, w + 1]
    row_split,
    targets,
    weights,
    delays,
    # spike sources: Poisson probability per source channel; given spikes as (step, node)
    n_neurons,
    poisson_prob,
    sched_ptr,
    sched_step,
    sched_node,
    rng,
    # scheduled changes: currents (column -> neuron) and Poisson probabilities
    cur_ptr,
    cur_step,
    cur_col,
    cur_value,
    cur_target,
    cur_level,
    rate_ptr,
    rate_step,
    rate_source,
    rate_value,
    # recording
    record_node,
    spike_steps,
    spike_nodes,
    spike_count,
    spiked,
    probe_every,
    probe_var,
    probe_ptr,
    probe_index,
    probe_out,
    probe_out_ptr,
    probe_rows,
):
    """Advance steps ``[step_begin, step_end)``; return the first step not done.

    Called once per worker, all at the same time (``neuron_split.size - 1`` workers, each on
    its own thread; one worker is the plain serial run). A worker owns its neurons and their
    synaptic slots. Each step: (1) every worker integrates its neurons and lists their spikes
    in this step's half of ``spiked`` (2 n_nodes: even and odd steps alternate, so a worker
    may list step k + 1 while another still reads step k), from its first neuron on; worker 0
    also draws the sources, listed from ``n_neurons`` on; counts in ``spike_counts[step % 2]``;
    one barrier; (2) every worker walks the whole step's list in node order and adds the
    weights that land in its own slots (``row_split`` groups each row by receiving worker),
    so each slot receives its additions in the serial order and the result does not depend
    on the number of workers, bit for bit; then it flushes its slots' delay-ring row and
    samples its neurons' probes. Phase 2 touches only the worker's own state, so the next
    phase 1 needs no second barrier. Worker 0 records the spikes; every worker counts them,
    so all decide alike when the record is full.

    Returns early (before a step) when the spike record could overflow, so the caller can
    grow ``spike_steps`` / ``spike_nodes`` and call again. Counters that persist between
    calls live in the 1-element arrays ``sched_ptr``, ``cur_ptr``, ``rate_ptr``,
    ``spike_count`` and in ``probe_rows``; workers keep their own copies while running and
    worker 0 writes them back.
    """
    workers = neuron_split.size - 1
    lead = worker == 0
    my_first, my_end = neuron_split[worker], neuron_split[worker + 1]
    n_nodes = row_split.shape[0]
    ring_rows = ring.shape[0]
    has_delays = delays.size > 0
    has_current = cur_level.size > 0
    sched_at, cur_at, rate_at = sched_ptr[0], cur_ptr[0], rate_ptr[0]
    recorded = spike_count[0]
    rows_done = probe_rows.copy()
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
            first_chan = chan_ptr[pop]
            last_chan = chan_ptr[pop + 1]
            n_spikes = _update_population(
                step,
                pop_start[pop],
                pop_start[pop + 1] - pop_start[pop],
                begin,
                end,
                v,
                b,
                held_until,
                i_ext,
                syn_in,
                fired,
                has_current,
                slots,
                slot_base[pop],
                chan_decay[first_chan:last_chan],
                chan_coef[first_chan:last_chan],
                alpha[pop],
                const_drive[pop],
                drive_gain[pop],
                v_reset[pop],
                v_th[pop],
                reset_amount[pop],
                reset_subtract[pop],
                ref_steps[pop],
                rho[pop],
                beta[pop],
                spiked,
                n_spikes,
            )
        spike_counts[half, worker] = n_spikes - (listed + my_first)
        if lead:
            n_source = listed + n_neurons
            for s in range(poisson_prob.size):
                if poisson_prob[s] > 0.0 and rng.random() < poisson_prob[s]:
                    spiked[n_source] = n_neurons + s
                    n_source += 1
            while sched_at < sched_step.size and sched_step[sched_at] <= step:
                if sched_step[sched_at] == step:
                    spiked[n_source] = sched_node[sched_at]
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
                    if has_delays and delays[syn] > 0:
                        ring[(step + delays[syn]) % ring_rows, target] += weights[syn]
                    else:
                        slots[target] += weights[syn]
        if ring_rows > 1:
            _flush_ring_row(ring[step % ring_rows], slots, my_first, my_end, pop_start, chan_ptr, slot_base)

        # 5. probes of this worker's neurons (sampled after the step)
        for q in range(probe_every.size):
            if (step + 1) % probe_every[q] != 0:
                continue
            begin = probe_ptr[q]
            width = probe_ptr[q + 1] - begin
            base = probe_out_ptr[q] + rows_done[q] * width
            if base + width > probe_out_ptr[q + 1]:
                continue
            var = probe_var[q]
            for j in range(width):
                i = probe_index[begin + j]
                if i < my_first or i >= my_end:
                    continue
                if var == VAR_V:
                    probe_out[base + j] = v[i]
                elif var == VAR_B:
                    probe_out[base + j] = b[i]
                elif var == VAR_I_EXT:
                    probe_out[base + j] = i_ext[i]
                else:
                    probe_out[base + j] = _synaptic_current(
                        i, pop_start, chan_ptr, slot_base, chan_decay, slots
                    )
            rows_done[q] += 1
        step += 1
    if lead:
        sched_ptr[0], cur_ptr[0], rate_ptr[0] = sched_at, cur_at, rate_at
        spike_count[0] = recorded
        probe_rows[:] = rows_done
    return step


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
