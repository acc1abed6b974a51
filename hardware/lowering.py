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
from snn.build.schedules import Schedules, build_schedules
from snn.network import Network

CHUNK_STEPS = 2048  # input rows generated at a time for nengo's per-step node calls
SPIKE_BLOCK_STEPS = 16384  # steps of source spikes listed at a time by source_spikes


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
    """``network`` at step ``dt`` and ``seed``: initial ``v`` and second state (ALIF's ``b``,
    AdEx's ``w``, Izhikevich's ``u``) per population, and the synapses of every projection,
    in the network's order."""

    network: Network
    dt: float
    seed: int
    initial_v: dict[str, np.ndarray]  # V, (size,) per population
    synapses: list[Synapses]
    initial_w: dict[str, np.ndarray]  # the model's unit, (size,) per population

    @property
    def n_synapses(self) -> int:
        return sum(s.n_synapses for s in self.synapses)


def concrete(network: Network, dt: float, seed: int = 0) -> Concrete:
    """Draw ``network``'s random parts for ``(dt, seed)`` as :class:`snn.Simulator` would."""
    connect_rng, init_rng, _ = seed_streams(seed)
    arrays = neuron_arrays(network, dt, np.float64, init_rng)

    def per_population(values: np.ndarray) -> dict[str, np.ndarray]:
        return {
            name: values[arrays.start[p] : arrays.start[p + 1]].copy()
            for p, name in enumerate(network.populations)
        }

    initial_v, initial_w = per_population(arrays.initial_v), per_population(arrays.initial_w)
    synapses = []
    for projection, block in projection_blocks(network, dt, connect_rng, np.float64):
        pre = block.pre()
        delays = np.broadcast_to(np.asarray(block.delays, dtype=np.int64), pre.shape).copy()
        synapses.append(
            Synapses(
                projection, pre, block.indices.astype(np.int64), block.weights.astype(np.float64), delays
            )
        )
    return Concrete(network, dt, seed, initial_v, synapses, initial_w)


class Stimulus:
    """Rows of every source's spikes and every current column, step by step.

    Poisson-like sources draw from the seed's simulation stream exactly as the
    reference's kernel does: per step, one uniform number per channel whose probability
    is > 0, channels in global order. Rows are produced in order; :meth:`rows` may only
    be asked for steps not yet discarded (nengo's nodes ask for each step once).
    """

    def __init__(self, network: Network, dt: float, seed: int) -> None:
        ranges, begin = {}, 0
        for pop in network.populations.values():
            ranges[pop.name] = (begin, pop.size)
            begin += pop.size
        self.n_neurons = begin
        for source in network.sources.values():
            ranges[source.name] = (begin, source.size)
            begin += source.size
        self.ranges = ranges
        self.sources = list(network.sources)
        self.schedules: Schedules = build_schedules(network, ranges, self.n_neurons, dt, np.float64)
        self.n_sources = begin - self.n_neurons
        self.n_currents = int(self.schedules.cur_target.size)
        self.rng = seed_streams(seed)[2]
        self.probability = np.zeros(self.schedules.n_poisson)
        self.level = np.zeros(self.n_currents)
        self.pointers = [0, 0, 0]  # rate events, current events, given spikes
        self.first = 0  # first step held in the buffers
        self.spikes = np.zeros((0, self.n_sources))
        self.currents = np.zeros((0, self.n_currents))

    def _generate(self, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        s = self.schedules
        start = self.first + self.spikes.shape[0]
        spikes = np.zeros((n_steps, self.n_sources))
        currents = np.zeros((n_steps, self.n_currents))
        step = start
        while step < start + n_steps:
            p = self.pointers[0]
            while p < s.rate_step.size and s.rate_step[p] <= step:
                self.probability[s.rate_source[p]] = s.rate_value[p]
                p += 1
            self.pointers[0] = p
            q = self.pointers[1]
            while q < s.cur_step.size and s.cur_step[q] <= step:
                self.level[s.cur_col[q]] = s.cur_value[q]
                q += 1
            self.pointers[1] = q
            # the rates and currents hold until the next scheduled change
            changes = [s.rate_step[p] if p < s.rate_step.size else np.inf,
                       s.cur_step[q] if q < s.cur_step.size else np.inf]  # fmt: skip
            end = int(min(start + n_steps, *changes))
            rows = slice(step - start, end - start)
            active = np.flatnonzero(self.probability > 0.0)
            if active.size:
                draws = self.rng.random((end - step, active.size))
                spikes[rows, active] = draws < self.probability[active]
            currents[rows] = self.level
            step = end
        g = self.pointers[2]
        while g < s.spike_step.size and s.spike_step[g] < start + n_steps:
            if s.spike_step[g] >= start:
                spikes[s.spike_step[g] - start, s.spike_node[g] - self.n_neurons] = 1.0
            g += 1
        self.pointers[2] = g
        return spikes, currents

    def rows(self, begin: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Spikes (0/1, shape ``(end - begin, n_source_channels)``) and current levels
        (A, shape ``(end - begin, n_current_columns)``) of steps ``[begin, end)``."""
        if begin < self.first:
            raise ValueError(f"step {begin} was already discarded (first held: {self.first})")
        have = self.first + self.spikes.shape[0]
        if end > have:
            spikes, currents = self._generate(max(end - have, CHUNK_STEPS))
            keep = begin - self.first
            self.spikes = np.concatenate([self.spikes[keep:], spikes])
            self.currents = np.concatenate([self.currents[keep:], currents])
            self.first = begin
        return self.spikes[begin - self.first : end - self.first], self.currents[
            begin - self.first : end - self.first
        ]

    def source_columns(self, name: str) -> slice:
        begin, size = self.ranges[name]
        return slice(begin - self.n_neurons, begin - self.n_neurons + size)


def source_spikes(network: Network, dt: float, n_steps: int, seed: int = 0) -> dict[str, tuple]:
    """Every spike source's spikes over ``n_steps`` steps as ``(steps, ids)`` int64 arrays, sorted
    by step then id: the reference run's input exactly (see :class:`Stimulus`)."""
    stimulus = Stimulus(network, dt, seed)
    found: dict[str, tuple[list, list]] = {name: ([], []) for name in network.sources}
    # a block at a time: the dense 0/1 rows of a whole run can be many GB (1000 sources x 1e6
    # steps: 8 GB); the random stream is the same however the steps are cut
    for begin in range(0, n_steps, SPIKE_BLOCK_STEPS):
        end = min(begin + SPIKE_BLOCK_STEPS, n_steps)
        spikes, _ = stimulus.rows(begin, end)
        column = 0
        for source in network.sources.values():
            steps, ids = np.nonzero(spikes[:, column : column + source.size])
            found[source.name][0].append(steps.astype(np.int64) + begin)
            found[source.name][1].append(ids.astype(np.int64))
            column += source.size
    empty = np.zeros(0, dtype=np.int64)
    return {
        name: (np.concatenate([empty, *steps]), np.concatenate([empty, *ids]))
        for name, (steps, ids) in found.items()
    }
