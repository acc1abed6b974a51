"""Time schedules: spike-source spikes, Poisson probabilities and injected currents as
step-sorted event lists the kernel walks with a pointer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn.errors import ValidationError
from snn.inputs import LatencyEncoder, PoissonSource, RateEncoder, SpikeSource


@dataclass
class Schedules:
    # spikes of given-time sources: step and global node id, sorted by step
    spike_step: np.ndarray
    spike_node: np.ndarray
    # Poisson: per source channel probability per step, changed by (step, source, value) events
    n_poisson: int
    rate_step: np.ndarray
    rate_source: np.ndarray
    rate_value: np.ndarray
    # currents: per column a target neuron; (step, column, value) events set the column's level
    cur_target: np.ndarray
    cur_step: np.ndarray
    cur_col: np.ndarray
    cur_value: np.ndarray


def _steps(times: np.ndarray, dt: float) -> np.ndarray:
    return np.rint(np.asarray(times) / dt).astype(np.int64)


def build_schedules(network, ranges, n_neurons: int, dt: float, dtype) -> Schedules:
    spike_steps, spike_nodes = [], []
    rate_steps, rate_sources, rate_values = [], [], []
    for source in network.sources.values():
        begin, size = ranges[source.name]
        where = f"sources[{source.name}]"
        if isinstance(source, (SpikeSource, LatencyEncoder)):
            times, ids = (
                (source.times, source.ids) if isinstance(source, SpikeSource) else source.spike_times()
            )
            steps = _steps(times, dt)
            pairs = steps * size + ids
            if np.unique(pairs).size != pairs.size:
                raise ValidationError(
                    f"{where}.times", f"a channel has two spikes within one step of dt={dt} s"
                )
            spike_steps.append(steps)
            spike_nodes.append(begin + ids)
            continue
        # Poisson-like: probabilities indexed by (node - n_neurons)
        if isinstance(source, PoissonSource):
            windows, window = source.rate[None, :], 1.0
        else:
            assert isinstance(source, RateEncoder)
            windows, window = source.values * source.max_rate, source.window
        # a rate of 1/dt fires every step (``(1 / dt) * dt`` may round to 1 + 2e-16)
        probability = windows * dt
        probability[np.abs(probability - 1.0) < 1e-12] = 1.0
        if np.any(probability > 1.0):
            field = "rate" if isinstance(source, PoissonSource) else "max_rate"
            raise ValidationError(
                f"{where}.{field}", f"rate * dt must be <= 1 (rate <= {1 / dt:g} Hz at dt={dt} s)"
            )
        for w, row in enumerate(probability):
            rate_steps.append(np.full(size, int(round(w * window / dt)), dtype=np.int64))
            rate_sources.append(begin - n_neurons + np.arange(size))
            rate_values.append(row)
    spike_step, spike_node = _sorted(spike_steps, spike_nodes)
    n_poisson = sum(size for name, (begin, size) in ranges.items() if name in network.sources)
    rate_step, order = _concat_sorted(rate_steps)
    rate_source = _cat(rate_sources, np.int64)[order]
    rate_value = _cat(rate_values, dtype)[order]

    targets, cur_steps, cur_cols, cur_values = [], [], [], []
    column = 0
    for current in network.currents:
        begin, size = ranges[current.target]
        neurons = np.arange(size) if current.neurons is None else current.neurons
        amplitudes = np.broadcast_to(current.amplitudes, (current.times.size, neurons.size))
        steps = _steps(current.times, dt)
        cols = column + np.arange(neurons.size)
        targets.append(begin + neurons)
        cur_steps.append(np.repeat(steps, neurons.size))
        cur_cols.append(np.tile(cols, steps.size))
        cur_values.append(amplitudes.ravel())
        column += neurons.size
    cur_step, order = _concat_sorted(cur_steps)
    return Schedules(
        spike_step=spike_step,
        spike_node=spike_node,
        n_poisson=n_poisson,
        rate_step=rate_step,
        rate_source=rate_source,
        rate_value=rate_value,
        cur_target=_cat(targets, np.int64),
        cur_step=cur_step,
        cur_col=_cat(cur_cols, np.int64)[order],
        cur_value=_cat(cur_values, dtype)[order],
    )


def _cat(parts, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _concat_sorted(step_parts) -> tuple[np.ndarray, np.ndarray]:
    steps = _cat(step_parts, np.int64)
    order = np.argsort(steps, kind="stable")
    return steps[order], order


def _sorted(step_parts, node_parts) -> tuple[np.ndarray, np.ndarray]:
    steps, order = _concat_sorted(step_parts)
    return steps, _cat(node_parts, np.int64)[order]
