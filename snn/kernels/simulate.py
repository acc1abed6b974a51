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

from numba import njit

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
def _update_population(step, begin, end, v, b, held_until, i_ext, syn_in, fired, has_current, slots,
                       slot_base, chan_decay, chan_coef, alpha, const_drive, drive_gain, v_reset, v_th,
                       reset_amount, reset_subtract, ref_steps, rho, beta, spiked, n_spikes):  # fmt: skip
    """Advance one population ``[begin, end)`` by one step; append its spikes to ``spiked``.

    Its channels' slots are channel-major: channel ``c`` of neuron ``begin + j`` is
    ``slots[slot_base + c * size + j]``. Returns the new spike count.
    """
    size = end - begin
    n_chan = chan_decay.size
    first = slots[slot_base : slot_base + size]
    second = slots[slot_base + size : slot_base + 2 * size] if n_chan >= 2 else first[:0]
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
            channel = slots[slot_base + c * size : slot_base + (c + 1) * size]
            coef, decay = chan_coef[c], chan_decay[c]
            for j in range(size):
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
    v = v[begin:end]
    held_until = held_until[begin:end]
    for j in range(size):
        if fired[begin + j]:
            spiked[n_spikes] = begin + j
            n_spikes += 1
            v[j] = v[j] - reset_amount if reset_subtract else v_reset
            held_until[j] = step + ref_steps
    return n_spikes


@njit(cache=True)
def run_block(
    step_begin,
    step_end,
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
    # connectivity, rows = nodes (neurons then sources); targets are slot indices
    indptr,
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

    Returns early (before a step) when the spike record could overflow, so the caller can
    grow ``spike_steps`` / ``spike_nodes`` and call again. Counters that persist between
    calls live in the 1-element arrays ``sched_ptr``, ``cur_ptr``, ``rate_ptr``,
    ``spike_count`` and in ``probe_rows``.
    """
    n_nodes = indptr.size - 1
    ring_rows = ring.shape[0]
    has_delays = delays.size > 0
    has_current = cur_level.size > 0
    for step in range(step_begin, step_end):
        if spike_count[0] + n_nodes > spike_steps.size:
            return step

        # 1. scheduled changes
        p = cur_ptr[0]
        while p < cur_step.size and cur_step[p] <= step:
            cur_level[cur_col[p]] = cur_value[p]
            p += 1
        cur_ptr[0] = p
        p = rate_ptr[0]
        while p < rate_step.size and rate_step[p] <= step:
            poisson_prob[rate_source[p]] = rate_value[p]
            p += 1
        rate_ptr[0] = p
        if has_current:
            i_ext[:] = 0.0
            for col in range(cur_level.size):
                i_ext[cur_target[col]] += cur_level[col]

        # 2.-3. integrate, threshold, reset
        n_spikes = 0
        for pop in range(pop_start.size - 1):
            first_chan = chan_ptr[pop]
            last_chan = chan_ptr[pop + 1]
            n_spikes = _update_population(
                step,
                pop_start[pop],
                pop_start[pop + 1],
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
        for s in range(poisson_prob.size):
            if poisson_prob[s] > 0.0 and rng.random() < poisson_prob[s]:
                spiked[n_spikes] = n_neurons + s
                n_spikes += 1
        p = sched_ptr[0]
        while p < sched_step.size and sched_step[p] <= step:
            if sched_step[p] == step:
                spiked[n_spikes] = sched_node[p]
                n_spikes += 1
            p += 1
        sched_ptr[0] = p

        # 4. propagate
        for k in range(n_spikes):
            node = spiked[k]
            if record_node[node]:
                spike_steps[spike_count[0]] = step
                spike_nodes[spike_count[0]] = node
                spike_count[0] += 1
            for syn in range(indptr[node], indptr[node + 1]):
                if has_delays and delays[syn] > 0:
                    ring[(step + delays[syn]) % ring_rows, targets[syn]] += weights[syn]
                else:
                    slots[targets[syn]] += weights[syn]
        if ring_rows > 1:
            row = ring[step % ring_rows]
            for j in range(row.size):
                if row[j] != 0.0:
                    slots[j] += row[j]
                    row[j] = 0.0

        # 5. probes
        for q in range(probe_every.size):
            if (step + 1) % probe_every[q] != 0:
                continue
            begin = probe_ptr[q]
            width = probe_ptr[q + 1] - begin
            base = probe_out_ptr[q] + probe_rows[q] * width
            if base + width > probe_out_ptr[q + 1]:
                continue
            var = probe_var[q]
            for j in range(width):
                i = probe_index[begin + j]
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
            probe_rows[q] += 1
    return step_end


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
