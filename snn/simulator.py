"""``snn.Simulator``: the reference simulator (Numba).

>>> import snn
>>> net = snn.Network()
>>> _ = net.add(snn.Population(name="n", size=1, model=snn.LIF(i_bias=0.03)))
>>> _ = net.probe("n")
>>> result = snn.Simulator(net, dt=1e-4, progress=False).run(0.1)
>>> result.spikes["n"][0].size > 0
True
"""

from __future__ import annotations

import functools
import platform
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from snn import resources, validate
from snn.build import Model, build, neuron_of_slot, seed_streams
from snn.errors import ValidationError
from snn.network import PROBE_WEIGHTS
from snn.result import Result, Trace
from snn.workers import WorkerChoice, Workers, even_split, max_workers

#: Steps after which the spike rate so far is trusted to project the whole run's spike record
SPIKE_RATE_SAMPLE_STEPS = 1000

DTYPES = {"float64": np.float64, "float32": np.float32}
RING_LIMIT_BYTES = 4 * 2**30  # the delay ring buffer is dense: rows = longest delay + 1
# Below this many neurons per worker, a step is too short for a second core to pay for its
# barrier (measured on CUBA, 1 s: 8000 neurons 0.0325 s on one thread, 0.0319 s on two;
# 16 000 neurons 0.068 s on one, 0.049 s on two).
NEURONS_PER_THREAD = 8000
# A run on several workers goes in blocks of CONTENTION_CHECK_STEPS steps, after each of which
# snn.workers.WorkerChoice may move it to one worker (same result bit for bit): when the
# workers were short of cores (more threads than free cores; two processes with two workers
# each ran 3.3x slower than with one each), or when a trial block of TRIAL_STEPS steps on one
# worker was faster per step. A trial costs, where two workers are the better choice, about
# 0.6 % of a 1 s CUBA run of 32 000 neurons (100 steps at 14 instead of 8.5 us).
CONTENTION_CHECK_STEPS = 1000
TRIAL_STEPS = 100


def default_threads(n_neurons: int) -> int:
    """Workers for a network of ``n_neurons``: one per free core (see
    :func:`snn.workers.max_workers`), fewer when each would get less than ``NEURONS_PER_THREAD``."""
    return max(1, min(max_workers(), n_neurons // NEURONS_PER_THREAD))


def _record_buffers(every: np.ndarray, widths: np.ndarray, step: int, n_steps: int, dtype, what: str):
    """(flat output, its offsets per probe, rows so far) for probes of ``widths`` values
    sampled every ``every`` steps over steps ``[step, step + n_steps)``; refuses, naming
    ``what``, a record larger than memory."""
    rows_total = np.array([(step + n_steps) // e - step // e for e in every], dtype=np.int64)
    # in floats: a probe over 10^9 steps must be refused, not overflow or allocate 373 GiB
    need = float(np.sum(rows_total.astype(np.float64) * widths)) * np.dtype(dtype).itemsize
    resources.require(need, f"the {what} of {n_steps} steps", field="duration")
    out_ptr = np.concatenate([[0], np.cumsum(rows_total * widths)]).astype(np.int64)
    return np.zeros(int(out_ptr[-1]), dtype=dtype), out_ptr, np.zeros(every.size, dtype=np.int64)


def _sampled(out, out_ptr, rows, width, q: int, every: int, first_step: int, dt: float):
    """(times, values (rows, width)) of probe ``q`` of a run that began at ``first_step``:
    a sample is taken at the end of every ``every``-th step."""
    values = out[out_ptr[q] : out_ptr[q] + rows * width].reshape(rows, width)
    first = (first_step // every + 1) * every
    return (np.arange(rows) * every + first - first_step) * dt, values.copy()


def _versions() -> dict:
    import numba

    from snn import __version__

    return {
        "neurobridge": __version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "python": platform.python_version(),
    }


@dataclass
class _WorkSplit:
    """How the workers share a step: worker w integrates neurons ``neurons[w]:neurons[w + 1]``,
    owns their synaptic slots and reads row i's synapses ``rows[i, w]:rows[i, w + 1]`` (those
    into its slots); ``spike_counts`` (2, workers + 1) is the kernels' scratch."""

    neurons: np.ndarray
    rows: np.ndarray
    spike_counts: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.spike_counts = np.zeros((2, self.workers + 1), dtype=np.int64)

    @property
    def workers(self) -> int:
        return self.neurons.size - 1

    def single(self) -> _WorkSplit:
        """The same work on one worker: each row's parts are contiguous, so its first part's
        start and last part's end bound the whole row."""
        return _WorkSplit(self.neurons[[0, -1]].copy(), np.ascontiguousarray(self.rows[:, [0, -1]]))


def _slot_owners(model: Model, neuron_split: np.ndarray) -> np.ndarray:
    """The worker owning each synaptic slot: the one that integrates the slot's neuron."""
    owner_of_neuron = np.searchsorted(neuron_split, np.arange(model.n_neurons), side="right") - 1
    return owner_of_neuron[neuron_of_slot(model)].astype(np.int64)


@dataclass
class _Dendrites:
    """A population with dendrites in a run: its segment layer, first neuron, the first slot of
    its delta channel and of its interneurons' (-1: none)."""

    layer: object
    start: int
    slot: int
    interneuron_slot: int


class Simulator:
    """Builds ``network`` for time step ``dt`` (s) and runs it.

    Parameters
    ----------
    network: the model description.
    dt: time step (s), > 0.
    seed: integer seed; the same seed and inputs give bit-identical results.
    dtype: ``"float64"`` (default) or ``"float32"`` for state and weights.
    progress: show a tqdm bar; ``None`` (default) shows it only on a terminal.
    threads: worker threads stepping the network together, each integrating a share of the
        neurons and receiving a share of the synapses; ``None`` (default) picks one per free
        core for networks of at least ``2 * NEURONS_PER_THREAD`` neurons, else 1. Results are
        bit-identical for any number of threads. When the cores are busy elsewhere (more
        threads than free cores, or several simulations in parallel processes: pass
        ``threads=1`` there, or set ``NUMBA_NUM_THREADS=1``) a run notices that its workers
        were short of a core and goes on with one thread; ``Result.metadata["threads"]`` says how it ended.

    Repeated :meth:`run` calls continue from the current state.
    """

    def __init__(
        self,
        network,
        dt: float = 1e-4,
        seed: int | None = 0,
        dtype: str = "float64",
        progress: bool | None = None,
        threads: int | None = None,
    ) -> None:
        self.dt = validate.positive("Simulator.dt", dt)
        if threads is not None:
            threads = validate.count("Simulator.threads", threads, low=1)
        if dtype not in DTYPES:
            raise ValidationError("Simulator.dtype", f"must be one of {tuple(DTYPES)}, got {dtype!r}")
        if seed is not None:
            seed = validate.count("Simulator.seed", seed, low=0)
        self.seed = seed
        self.progress = progress
        start = time.perf_counter()
        self.model: Model = build(network, self.dt, DTYPES[dtype], seed)
        self.build_s = time.perf_counter() - start
        self.compile_s = 0.0
        self.network_name = network.name
        n_neurons = self.model.n_neurons
        self.threads = default_threads(n_neurons) if threads is None else min(threads, max(n_neurons, 1))
        self.plastic = self.model.plasticity
        if self.plastic is not None:
            self.threads = 1  # learning rules run on one worker (see snn.plasticity.kernels)
            self._weight_probes = self._check_weight_probes(network)
        self._rewards = self._reward_schedule(network)
        self.dendrites = self._dendrites(network)
        cycles = {d.layer.segments.cycle_steps for d in self.dendrites.values()}
        if len(cycles) > 1:
            raise ValidationError(
                "dendrites.cycle_steps", "every population with dendrites needs the same cycle_steps"
            )
        self._cycle = cycles.pop() if cycles else 0  # simulator steps per cycle (0: no dendrites)
        if self.dendrites:
            self.threads = 1  # the segments learn between cycles, on one worker
        self._probe_specs = {
            p.name: (
                p.target,
                p.variable,
                np.arange(network.node_size(p.target, "probe")) if p.neurons is None else p.neurons,
            )
            for p in network.probes
            if p.variable != PROBE_WEIGHTS  # weight probes: see _check_weight_probes
        }
        self.step = 0
        self.rng = seed_streams(seed)[2]
        self._init_state()
        for dendrites in self.dendrites.values():  # a trained memory's last prediction holds for cycle 0
            self._plateau(dendrites, dendrites.layer.memory.predictive_cells)

    # ---- state -------------------------------------------------------------------
    def _init_state(self) -> None:
        m = self.model
        dtype = m.dtype
        n = m.n_neurons
        self.v = m.neurons.initial_v.astype(dtype).copy()
        self.b = m.neurons.initial_w.astype(dtype).copy()  # the second state: ALIF b, AdEx w, Izhikevich u
        self.refractory_left = np.zeros(n, dtype=np.int64)  # steps still held (snn.models.lif.holding)
        self.i_ext = np.zeros(n, dtype=dtype)
        self.syn_in = np.zeros(n, dtype=dtype)  # scratch: synaptic drive of the current step
        # scratch: threshold crossings of the step; padded to whole 8-byte words, which the kernel scans
        self.fired = np.zeros(-(-n // 8) * 8, dtype=np.bool_)
        self.slots = np.zeros(m.channels.n_slots, dtype=dtype)
        rows = m.connectivity.max_delay + 1
        ring_bytes = rows * m.channels.n_slots * m.dtype.itemsize if rows > 1 else 0
        if ring_bytes > RING_LIMIT_BYTES:
            raise ValidationError(
                "delays",
                f"the longest delay ({m.connectivity.max_delay} steps) needs a {ring_bytes / 2**30:.1f} GiB "
                f"delay buffer (limit {RING_LIMIT_BYTES / 2**30:.0f} GiB); use shorter delays or a larger dt",
            )
        self.ring = np.zeros((rows, m.channels.n_slots if rows > 1 else 0), dtype=dtype)
        self.poisson_prob = np.zeros(m.schedules.n_poisson, dtype=dtype)
        self.cur_level = np.zeros(m.schedules.cur_target.size, dtype=dtype)
        self.pointers = {k: np.zeros(1, dtype=np.int64) for k in ("sched", "cur", "rate")}
        self.spiked = np.zeros(2 * m.n_nodes, dtype=np.int64)  # even and odd steps' spike lists
        from snn.kernels.connect import partition_rows

        c = m.connectivity  # each row grouped by receiving worker (in place: the model is this simulator's)
        neurons = even_split(n, self.threads)
        owners = _slot_owners(m, neurons)
        self._split = _WorkSplit(
            neurons, partition_rows(c.indptr, c.targets, c.weights, c.delays, owners, self.threads)
        )

    def _dendrites(self, network) -> dict:
        """Per population with :class:`~snn.htm.spiking.DistalSegments`: its
        :class:`_Dendrites` (segment layer, first neuron, the delta slots its plateau enters
        by). Their spikes are always recorded (the segments read them)."""
        from snn.htm.spiking import SegmentLayer

        m = self.model
        populations = [n for n in m.node_names if n[3] == "population"]
        index = {name: (p, start, size) for p, (name, start, size, _) in enumerate(populations)}

        def delta_slot(name: str, where: str) -> int:
            p, _, size = index[name]
            delta = [c for c in range(m.channels.ptr[p], m.channels.ptr[p + 1]) if m.channels.decay[c] == 0.0]
            if not delta:
                raise ValidationError(where, f"{name!r} needs a delta-synapse input (its feed-forward "
                                      "projection) for the plateau to enter by")  # fmt: skip
            return int(m.channels.slot_base[p] + (delta[0] - m.channels.ptr[p]) * size)

        layers = {}
        for name, (_, start, size) in index.items():
            segments = network.populations[name].dendrites
            if segments is None:
                continue
            where = f"populations[{name}].dendrites"
            if not np.isclose(segments.dt, self.dt, rtol=1e-9, atol=0.0):
                raise ValidationError(f"{where}.dt", f"the cells are built for dt = {segments.dt} s; "
                                      f"run the simulator at it (got dt = {self.dt} s)")  # fmt: skip
            interneuron_slot = -1
            if segments.interneurons is not None:
                found = index.get(segments.interneurons)
                if found is None or found[2] != segments.params.columns:
                    raise ValidationError(
                        f"{where}.interneurons",
                        f"must name a population of one neuron per column ({segments.params.columns}), "
                        f"got {segments.interneurons!r}",
                    )
                interneuron_slot = delta_slot(segments.interneurons, f"{where}.interneurons")
            m.probes.record_node[start : start + size] = True
            layers[name] = _Dendrites(
                SegmentLayer(segments), start, delta_slot(name, where), interneuron_slot
            )
        return layers

    def _plateau(self, dendrites: _Dendrites, cells: np.ndarray, sign: float = 1.0) -> None:
        """Put (sign +1) or take back (-1) the plateau of the predicted ``cells`` and of their
        columns' interneurons."""
        plateau = sign * dendrites.layer.segments.plateau
        self.slots[dendrites.slot + cells] += plateau
        self.slots[dendrites.interneuron_slot + dendrites.layer.interneuron_columns(cells)] += plateau

    def temporal_memory(self, population: str):
        """The :class:`~snn.htm.temporal_memory.TemporalMemory` of a population with
        dendrites (its segments as learned so far; save it with its ``save``)."""
        if population not in self.dendrites:
            raise ValidationError("population", f"{population!r} has no dendrites; those here: "
                                  f"{sorted(self.dendrites)}")  # fmt: skip
        return self.dendrites[population].layer.memory

    def segment_layer(self, population: str):
        """The running :class:`~snn.htm.spiking.SegmentLayer` of a population with dendrites."""
        self.temporal_memory(population)
        return self.dendrites[population].layer

    def reset_context(self, population: str) -> None:
        """Start a new sequence on a population with dendrites: its temporal memory forgets the
        previous cells (:meth:`~snn.htm.temporal_memory.TemporalMemory.reset`, keeping what it
        learned) and the plateau it put into the cells it predicted is taken back. Only
        between cycles (after a whole number of cycles)."""
        layer = self.segment_layer(population)
        cycle = layer.segments.cycle_steps
        if self.step % cycle or layer.fired.any():
            raise ValidationError(
                "reset_context", f"only between cycles: step {self.step} is not a multiple of {cycle}"
            )
        self._plateau(self.dendrites[population], layer.memory.predictive_cells, sign=-1.0)
        layer.memory.reset()

    def _end_cycles(self, spike_nodes: np.ndarray) -> None:
        """Hand each dendritic population the spikes since the last call (``spike_nodes``);
        at a cycle's end, let its segments learn and put the plateau into the predicted cells."""
        for dendrites in self.dendrites.values():
            layer, start = dendrites.layer, dendrites.start
            size = layer.segments.params.cells
            mine = spike_nodes[(spike_nodes >= start) & (spike_nodes < start + size)]
            layer.fire(mine - start)
            if self.step % layer.segments.cycle_steps == 0:
                self._plateau(dendrites, layer.end_cycle())

    def _check_weight_probes(self, network) -> list:
        """(name, projection, synapse indices, every) per weight probe, indices checked."""
        probes = []
        for probe in network.probes:
            if probe.variable != PROBE_WEIGHTS:
                continue
            count = self.plastic.positions[probe.target].size
            chosen = np.arange(count) if probe.neurons is None else probe.neurons
            if chosen.size and (chosen.min() < 0 or chosen.max() >= count):
                raise ValidationError(
                    f"probes[{probe.name}].neurons",
                    f"synapse indices must be in [0, {count}) for projection {probe.target!r}",
                )
            probes.append((probe.name, probe.target, chosen, probe.every))
        return probes

    def _rule_index(self, projection: str, field: str) -> int:
        if self.plastic is None or projection not in self.plastic.names:
            names = [] if self.plastic is None else self.plastic.names
            raise ValidationError(field, f"{projection!r} is not a learning projection; those here: {names}")
        return self.plastic.names.index(projection)

    def weights(self, projection: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pre, post, w) of a learning projection's synapses now: indices within its pre
        and post nodes, and the weights (a copy), in the projection's own synapse order."""
        self._rule_index(projection, "projection")
        pre, post = self.plastic.pre_post[projection]
        return (
            pre.copy(),
            post.copy(),
            self.model.connectivity.weights[self.plastic.positions[projection]].copy(),
        )

    def _reward_schedule(self, network) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The network's reward schedules merged: (step, rule index, amount), by step (the
        schedules' order within a step). Delivered by :meth:`run` as :meth:`reward` would."""
        steps, rules, amounts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
        for reward in network.rewards:
            steps.append(reward.steps(self.dt))
            rules.append(np.full(steps[-1].size, self._rule_index(reward.projection, "Reward.projection")))
            amounts.append(reward.amounts)
        order = np.argsort(np.concatenate(steps), kind="stable")
        return tuple(np.concatenate(part)[order] for part in (steps, rules, amounts))

    def reward(self, projection: str, amount: float) -> None:
        """Deliver ``amount`` of dopamine to a :class:`~snn.plasticity.RewardSTDP`
        projection (it acts from the next step; see the rule)."""
        from snn.plasticity import RewardSTDP
        from snn.plasticity.kernels import REWARD

        r = self._rule_index(projection, "projection")
        if self.plastic.arrays["kind"][r] != REWARD:
            raise ValidationError("projection", f"{projection!r} does not learn with {RewardSTDP.__name__}")
        self.plastic.arrays["dopamine"][r] += validate.finite("amount", amount)

    @property
    def nbytes_connectivity(self) -> int:
        """Bytes of the synapse arrays the run reads, with the per-worker row split."""
        return self.model.nbytes_synapses + self._split.rows.nbytes

    @property
    def t(self) -> float:
        """Simulated time so far (s)."""
        return self.step * self.dt

    # ---- running -----------------------------------------------------------------
    def _check_spike_record(self, recorded: int, new_size: int, first_step: int, n_steps: int) -> None:
        """Refuse a run whose spike record will not fit, as soon as its rate shows it.

        The record (16 bytes a spike) grows by doubling. Once ``SPIKE_RATE_SAMPLE_STEPS`` have
        run, the spikes so far are extrapolated to the whole run, so ``--duration 100000``
        on CUBA is refused within a second instead of growing until MemoryError.
        """
        elapsed = self.step - first_step
        needed = 16.0 * new_size
        if elapsed >= min(SPIKE_RATE_SAMPLE_STEPS, n_steps):
            needed = max(needed, 16.0 * recorded / elapsed * n_steps)
        resources.require(
            needed, f"the spike record of {n_steps} steps (at the spike rate so far)", field="duration"
        )

    def run(self, duration: float, progress: bool | None = None) -> Result:
        """Advance by ``duration`` seconds (rounded to whole steps); return this run's Result."""
        n_steps = validate.steps(duration, self.dt)
        from snn.kernels import simulate as kernels

        m = self.model
        probes = m.probes
        probe_out, probe_out_ptr, probe_rows = _record_buffers(
            probes.every, np.diff(probes.ptr), self.step, n_steps, m.dtype, "probe records"
        )
        capacity = max(4 * m.n_nodes, 1024)
        spike_steps = np.empty(capacity, dtype=np.int64)
        spike_nodes = np.empty(capacity, dtype=np.int64)
        spike_count = np.zeros(1, dtype=np.int64)

        neurons = kernels.Neurons(**{name: getattr(m.neurons, name) for name in kernels.Neurons._fields})
        channels = kernels.Channels(m.channels.ptr, m.channels.slot_base, m.channels.decay, m.channels.coef)
        delays = m.connectivity.delays
        if self.plastic is not None and self.plastic.kernel_delays is not None:
            delays = self.plastic.kernel_delays  # delayed learning synapses deliver on arrival
        synapses = kernels.Synapses(m.connectivity.targets, m.connectivity.weights, delays)
        # the refractory neurons, listed by each worker (-1: list them anew, as on a change of split)
        held, held_count = np.empty(m.n_neurons, dtype=np.int64), np.full(m.n_neurons + 1, -1, dtype=np.int64)
        state = kernels.State(
            self.v, self.b, self.refractory_left, self.i_ext, self.syn_in, self.fired, self.slots, self.ring,
            self.poisson_prob, self.cur_level, self.spiked,
            held, held_count,
        )  # fmt: skip
        sc = m.schedules
        schedule = kernels.Schedule(
            m.n_neurons, self.pointers["sched"], sc.spike_step, sc.spike_node,
            self.pointers["cur"], sc.cur_step, sc.cur_col, sc.cur_value, sc.cur_target,
            self.pointers["rate"], sc.rate_step, sc.rate_source, sc.rate_value,
        )  # fmt: skip

        plastic, weight_rows = self._plastic_arrays(n_steps) if self.plastic is not None else (None, None)

        def work(worker: int, split: _WorkSplit, begin: int, end: int, sync: np.ndarray) -> int:
            recording = kernels.Recording(
                probes.record_node, spike_steps, spike_nodes, spike_count,
                probes.every, probes.var, probes.ptr, probes.index, probe_out, probe_out_ptr, probe_rows,
            )  # fmt: skip
            layout = kernels.Work(split.neurons, split.rows, sync, split.spike_counts)
            return kernels.run_block(
                begin, end, worker, layout, state, neurons, channels, synapses, schedule, self.rng, recording,
                plastic,
            )  # fmt: skip

        start = time.perf_counter()
        # compiles, or loads the cached machine code (0 steps: no barrier)
        work(0, self._split, self.step, self.step, np.zeros(3, dtype=np.int64))
        self.compile_s = time.perf_counter() - start

        wanted = progress if progress is not None else self.progress
        show = sys.stderr.isatty() if wanted is None else bool(wanted)
        block = max(1, n_steps // 100) if show else n_steps
        bar = None
        if show:
            from tqdm import tqdm

            bar = tqdm(total=n_steps, unit="step", desc=f"simulate {self.network_name}", leave=False)
        first_step = self.step
        end = first_step + n_steps
        start = time.perf_counter()
        splits = {self._split.workers: self._split}
        if self._split.workers > 1:
            splits[1] = self._split.single()
            block = min(block, CONTENTION_CHECK_STEPS)
        cycle = self._cycle
        seen = 0  # spikes handed to the dendrites so far
        with Workers(self._split.workers) as workers:
            choice = WorkerChoice(workers, block, trial=TRIAL_STEPS)  # each run starts on every worker
            listed_by = self._split.workers
            while self.step < end:
                count, steps = choice.plan(end - self.step)
                if cycle:  # stop at each cycle's end: the segments learn there
                    steps = min(steps, cycle - self.step % cycle)
                steps = self._deliver_rewards(steps)
                if count != listed_by:  # the held lists belong to the other split's workers
                    held_count[:], listed_by = -1, count
                share = functools.partial(
                    work, split=splits[count], begin=self.step, end=self.step + steps, sync=workers.sync
                )
                started = time.perf_counter()
                done = workers.run(share, count)  # fewer steps when the spike record must grow
                choice.record(done - self.step, time.perf_counter() - started)
                if bar is not None:
                    bar.update(done - self.step)
                self.step = done
                if cycle:
                    self._end_cycles(spike_nodes[seen : spike_count[0]])
                    seen = spike_count[0]
                if spike_count[0] + m.n_nodes > spike_steps.size:
                    self._check_spike_record(
                        spike_count[0], 2 * spike_steps.size + m.n_nodes, first_step, n_steps
                    )
                    spike_steps = np.resize(spike_steps, 2 * spike_steps.size + m.n_nodes)
                    spike_nodes = np.resize(spike_nodes, spike_steps.size)
        run_s = time.perf_counter() - start
        if bar is not None:
            bar.close()
        self._check_finite()
        result = self._result(
            first_step,
            n_steps,
            spike_steps[: spike_count[0]],
            spike_nodes[: spike_count[0]],
            probe_out,
            probe_out_ptr,
            probe_rows,
            run_s,
            choice.count,
        )
        if plastic is not None:
            self._add_plasticity(result, first_step, plastic, weight_rows)
        if self.dendrites:
            self._add_dendrites(result, first_step, n_steps)
        return result

    def _deliver_rewards(self, steps: int) -> int:
        """Add the scheduled rewards due at this step to their rules' dopamine; returns
        ``steps`` cut to end where the next reward is due."""
        due, rules, amounts = self._rewards
        if due.size == 0:
            return steps
        first, last = np.searchsorted(due, [self.step, self.step + 1])
        dopamine = self.plastic.arrays["dopamine"]
        for k in range(first, last):  # in order: the same sum as the calls of reward() it replaces
            dopamine[rules[k]] += amounts[k]
        if last < due.size:
            steps = min(steps, int(due[last]) - self.step)
        return steps

    def _add_dendrites(self, result: Result, first_step: int, n_steps: int) -> None:
        """Each dendritic population's raw anomaly score per cycle ended in this run (trace
        ``<population>_anomaly``, at the cycle's end) and its segment and synapse counts."""
        cycle = self._cycle
        ends = np.arange((first_step // cycle + 1) * cycle, first_step + n_steps + 1, cycle)
        for name, dendrites in self.dendrites.items():
            result.traces[f"{name}_anomaly"] = dendrites.layer.anomaly_trace(
                name, (ends - first_step) * self.dt
            )
        result.metadata["dendrites"] = {name: d.layer.summary() for name, d in self.dendrites.items()}

    def _plastic_arrays(self, n_steps: int):
        """The kernels' :class:`~snn.plasticity.kernels.Plastic` for a run of ``n_steps``
        (the rules' state persists across runs; weight probe buffers are this run's)."""
        from snn.plasticity.kernels import REWARD, Plastic

        every = np.array([e for *_, e in self._weight_probes], dtype=np.int64)
        chosen = [self.plastic.positions[target][index] for _, target, index, _ in self._weight_probes]
        widths = np.array([c.size for c in chosen], dtype=np.int64)
        out, out_ptr, rows = _record_buffers(
            every, widths, self.step, n_steps, self.model.dtype, "weight probe records"
        )
        plastic = Plastic(
            **self.plastic.arrays,
            probe_every=every,
            probe_ptr=np.concatenate([[0], np.cumsum(widths)]).astype(np.int64),
            probe_syn=np.concatenate(chosen).astype(np.int64) if chosen else np.zeros(0, np.int64),
            probe_out=out,
            probe_out_ptr=out_ptr,
            probe_rows=rows,
            every_step=bool(np.any(self.plastic.arrays["kind"] >= REWARD)),
            dt=self.dt,
        )
        return plastic, widths

    def _add_plasticity(self, result: Result, first_step: int, plastic, widths) -> None:
        """Final weights of every learning projection and the weight probes' traces."""
        weights = self.model.connectivity.weights
        result.weights = {name: weights[self.plastic.positions[name]].copy() for name in self.plastic.names}
        for q, (name, target, index, every) in enumerate(self._weight_probes):
            t, values = _sampled(
                plastic.probe_out, plastic.probe_out_ptr, plastic.probe_rows[q], widths[q], q, every,
                first_step, self.dt,
            )  # fmt: skip
            result.traces[name] = Trace(
                t=t, values=values, neurons=index, target=target, variable=PROBE_WEIGHTS
            )

    def _check_finite(self) -> None:
        """Refuse to return a run whose state went NaN or infinite (one numpy pass over the
        state, once per run): names the population and the variable."""
        m = self.model
        populations = [node for node in m.node_names if node[3] == "population"]
        for p, (pop, start, size, _) in enumerate(populations):
            base = m.channels.slot_base[p]
            width = (m.channels.ptr[p + 1] - m.channels.ptr[p]) * size
            parts = {
                "v": self.v[start : start + size],
                "b": self.b[start : start + size],
                "i_syn": self.slots[base : base + width],
            }
            for name, part in parts.items():
                if not np.isfinite(part).all():
                    raise ValidationError(
                        f"populations.{pop}",
                        f"state {name} became non-finite (NaN or inf) by t = {self.t:.6g} s; "
                        "check its time constants against dt, its weights and currents",
                    )

    def _result(
        self, first_step, n_steps, steps, nodes, probe_out, probe_out_ptr, probe_rows, run_s, threads
    ) -> Result:
        m = self.model
        spikes, sizes = {}, {}
        recorded = {n: None for n in self._recorded_nodes()}
        for name, start, size, _ in m.node_names:
            sizes[name] = size
            if name not in recorded:
                continue
            mine = (nodes >= start) & (nodes < start + size)
            spikes[name] = ((steps[mine] - first_step) * self.dt, nodes[mine] - start)
        traces = {}
        probes = m.probes
        for q, name in enumerate(probes.names):
            width = probes.ptr[q + 1] - probes.ptr[q]
            t, values = _sampled(
                probe_out, probe_out_ptr, probe_rows[q], width, q, probes.every[q], first_step, self.dt
            )
            spec = self._probe_specs[name]
            traces[name] = Trace(t=t, values=values, neurons=spec[2], target=spec[0], variable=spec[1])
        metadata = {
            "backend": "numba",
            "dt": self.dt,
            "seed": self.seed,
            "dtype": str(m.dtype),
            "t_start": first_step * self.dt,
            "n_steps": n_steps,
            "neurons": m.n_neurons,
            "synapses": int(m.connectivity.targets.size),
            "threads": threads,  # the workers the run ended on
            "build_s": self.build_s,
            "compile_s": self.compile_s,
            "run_s": run_s,
            "versions": _versions(),
        }
        return Result(
            spikes=spikes, traces=traces, sizes=sizes, duration=n_steps * self.dt, metadata=metadata
        )

    def _recorded_nodes(self) -> list[str]:
        record = self.model.probes.record_node
        return [name for name, start, size, _ in self.model.node_names if record[start : start + size].any()]
