"""The network as concrete numbers, shared by every adapter.

Random connectivity and random initial values are drawn here exactly as the Numba
builder draws them from the same seed, so a backend run of ``(network, seed)`` simulates
the very synapses and starting potentials the reference simulator does. Adapters then
only translate these arrays into their own objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn.build import projection_blocks, seed_streams
from snn.build.neurons import neuron_arrays
from snn.build.schedules import build_schedules
from snn.network import Network


@dataclass
class Synapses:
    """One projection's synapses as coordinate lists (local indices within pre and post)."""

    projection: object  # snn.Projection
    pre: np.ndarray  # int64 (n_synapses,)
    post: np.ndarray  # int64 (n_synapses,)
    weights: np.ndarray  # float64 (n_synapses,), V (Delta) or A (Exponential)
    delay_steps: np.ndarray  # int64 (n_synapses,)

    @property
    def n_synapses(self) -> int:
        return int(self.pre.size)

    def dense(self, n_pre: int, n_post: int) -> np.ndarray:
        """Weights as an ``(n_post, n_pre)`` matrix (repeated pairs summed); delays dropped."""
        matrix = np.zeros((n_post, n_pre))
        np.add.at(matrix, (self.post, self.pre), self.weights)
        return matrix


@dataclass
class Concrete:
    """``network`` at step ``dt`` and ``seed``: initial ``v`` per population and the synapses
    of every projection, in the network's order."""

    network: Network
    dt: float
    seed: int
    initial_v: dict[str, np.ndarray]  # V, (size,) per population
    synapses: list[Synapses]

    @property
    def n_synapses(self) -> int:
        return sum(s.n_synapses for s in self.synapses)


def concrete(network: Network, dt: float, seed: int = 0) -> Concrete:
    """Draw ``network``'s random parts for ``(dt, seed)`` as :class:`snn.Simulator` would."""
    connect_rng, init_rng, _ = seed_streams(seed)
    arrays = neuron_arrays(network, dt, np.float64, init_rng)
    initial_v = {
        name: arrays.initial_v[arrays.start[p] : arrays.start[p + 1]].copy()
        for p, name in enumerate(network.populations)
    }
    synapses = []
    for projection, block in projection_blocks(network, dt, connect_rng, np.float64):
        counts = np.diff(block.indptr)
        pre = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
        delays = np.broadcast_to(np.asarray(block.delays, dtype=np.int64), pre.shape).copy()
        synapses.append(
            Synapses(
                projection, pre, block.indices.astype(np.int64), block.weights.astype(np.float64), delays
            )
        )
    return Concrete(network, dt, seed, initial_v, synapses)


def source_spikes(network: Network, dt: float, n_steps: int, seed: int = 0) -> dict[str, tuple]:
    """Every spike source's spikes over ``n_steps`` steps as ``(steps, ids)`` int64 arrays.

    Given spikes (:class:`~snn.inputs.SpikeSource`, :class:`~snn.inputs.LatencyEncoder`)
    are rounded to steps as the simulator rounds them. Poisson draws (PoissonSource,
    RateEncoder) replay the simulator's own stream: the third child of ``seed``, one
    uniform per active channel per step, channels in node order, so a backend fed these
    spikes sees exactly the reference run's input.
    """
    ranges, start = {}, 0
    for pop in network.populations.values():
        ranges[pop.name] = (start, pop.size)
        start += pop.size
    n_neurons = start
    for source in network.sources.values():
        ranges[source.name] = (start, source.size)
        start += source.size
    schedules = build_schedules(network, ranges, n_neurons, dt, np.float64)
    owner = np.empty(start - n_neurons, dtype=np.int64)  # source index of each channel
    spikes: dict[str, list] = {name: [[], []] for name in network.sources}
    names = list(network.sources)
    for index, name in enumerate(names):
        begin, size = ranges[name]
        owner[begin - n_neurons : begin - n_neurons + size] = index
    for step, node in zip(schedules.spike_step, schedules.spike_node, strict=True):
        if step < n_steps:
            channel = node - n_neurons
            name = names[owner[channel]]
            spikes[name][0].append(step)
            spikes[name][1].append(channel - (ranges[name][0] - n_neurons))
    if schedules.n_poisson and schedules.rate_step.size:
        rng = seed_streams(seed)[2]
        probability = np.zeros(schedules.n_poisson)
        pointer = 0
        for step in range(n_steps):
            while pointer < schedules.rate_step.size and schedules.rate_step[pointer] <= step:
                probability[schedules.rate_source[pointer]] = schedules.rate_value[pointer]
                pointer += 1
            active = np.flatnonzero(probability > 0.0)
            fired = active[rng.random(active.size) < probability[active]]
            for channel in fired:
                name = names[owner[channel]]
                spikes[name][0].append(step)
                spikes[name][1].append(channel - (ranges[name][0] - n_neurons))
    out = {}
    for name, (steps, ids) in spikes.items():
        steps, ids = np.asarray(steps, dtype=np.int64), np.asarray(ids, dtype=np.int64)
        order = np.lexsort((ids, steps))
        out[name] = (steps[order], ids[order])
    return out
