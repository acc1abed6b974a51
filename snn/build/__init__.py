"""The builder: ``snn.Network`` (data) -> flat arrays the kernels run on.

Nodes are numbered globally: every population's neurons first (in insertion order),
then every spike source's channels. Synaptic inputs live in *channels*, one per
(target population, synapse type); a channel's *slots* hold one value per target
neuron (a current in A for exponential synapses, a pending voltage jump in V for delta
synapses). A synapse therefore stores only its target slot, weight and delay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snn import resources
from snn.build.connect import CSRBlock, build_block
from snn.build.neurons import NeuronArrays, neuron_arrays
from snn.build.schedules import Schedules, build_schedules
from snn.connectivity import AllToAll, FixedInDegree, FixedProbability, Sparse
from snn.errors import ValidationError
from snn.kernels import connect as connect_kernels
from snn.network import PROBE_SPIKES, PROBE_WEIGHTS, Network


@dataclass
class Channels:
    """Synaptic channels grouped by population: population ``p`` owns channels
    ``ptr[p]:ptr[p+1]`` and the slots from ``slot_base[p]`` (channel-major).
    Per channel: the per-step decay factor of its slots and their coefficient into ``v``."""

    ptr: np.ndarray
    slot_base: np.ndarray
    decay: np.ndarray
    coef: np.ndarray
    n_slots: int
    keys: list = field(default_factory=list)  # (population, synapse) per channel


@dataclass
class Connectivity:
    """All synapses as one CSR over nodes: target slot (int32), weight, delay (steps)."""

    indptr: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    delays: np.ndarray  # uint16 per synapse, or empty when every delay is 0
    max_delay: int
    per_projection: dict
    #: per synapse, the index of its projection in ``network.projections`` (int32); built
    #: only when a projection learns (empty otherwise)
    projection: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))


@dataclass
class Probes:
    """State probes, flattened: per probe the sampling period, variable code, and the
    slice ``index[ptr[q]:ptr[q+1]]`` of global neuron ids it records."""

    names: list
    every: np.ndarray
    var: np.ndarray
    ptr: np.ndarray
    index: np.ndarray
    record_node: np.ndarray  # bool per node: whether its spikes are recorded


@dataclass
class Model:
    """Everything the simulator needs, as arrays; built once per (network, dt, dtype, seed)."""

    dt: float
    dtype: np.dtype
    node_names: list  # per node range: (name, start, size, kind)
    n_neurons: int
    n_nodes: int
    neurons: NeuronArrays
    channels: Channels
    connectivity: Connectivity
    schedules: Schedules
    probes: Probes
    plasticity: object = None  # snn.plasticity.build.PlasticModel when a projection learns

    @property
    def nbytes_synapses(self) -> int:
        c = self.connectivity
        return int(c.indptr.nbytes + c.targets.nbytes + c.weights.nbytes + c.delays.nbytes)


def neuron_of_slot(model: Model) -> np.ndarray:
    """The global neuron index each synaptic slot of ``model`` belongs to (int32)."""
    owner = np.empty(model.channels.n_slots, dtype=np.int32)
    starts = model.neurons.start
    for pop in range(starts.size - 1):
        size = starts[pop + 1] - starts[pop]
        for channel in range(model.channels.ptr[pop + 1] - model.channels.ptr[pop]):
            begin = model.channels.slot_base[pop] + channel * size
            owner[begin : begin + size] = np.arange(starts[pop], starts[pop + 1], dtype=np.int32)
    return owner


def channel_coefficients(model, synapse, dt: float) -> tuple[float, float]:
    """(decay of a synaptic slot over ``dt``, contribution of the slot's value to the step):
    the model's own answer (:meth:`snn.models.base.NeuronModel.channel`).

    Shared by the Numba builder and the PyTorch layers.
    """
    return model.channel(synapse, dt)


def projection_blocks(network: Network, dt: float, rng: np.random.Generator, dtype=np.float64):
    """Yield ``(projection, CSRBlock)`` for every projection, in the network's order.

    Random rules draw from ``rng`` in this order, so anyone who needs the simulator's
    synapses (the builder, :func:`ann_bridge.network.from_network`) gets the same ones.
    """
    for projection in network.projections:
        post = network.populations[projection.post]
        block = build_block(
            projection.connectivity,
            network.node_size(projection.pre, "pre"),
            post.size,
            projection.pre == projection.post,
            dt,
            rng,
            dtype,
            f"projections[{projection.name}].connectivity",
        )
        yield projection, block


def drawn_blocks(network: Network, dt: float, seed: int | None = 0, dtype=np.float64) -> list:
    """``(projection, CSRBlock)`` per projection: the very synapses :class:`snn.Simulator`
    builds for ``(dt, seed)``."""
    connect_rng, _, _ = seed_streams(seed)
    return list(projection_blocks(network, dt, connect_rng, dtype))


def population_synapses(network: Network, population: str) -> list:
    """The distinct synapse types of the projections into ``population``, in projection order:
    the population's channels, numbered as the builder numbers them."""
    found: list = []
    for projection in network.projections:
        if projection.post == population:
            synapse = effective_synapse(network, projection)
            if synapse not in found:
                found.append(synapse)
    return found


def effective_synapse(network: Network, projection):
    """The synapse ``projection``'s spikes go through: its own, unless the target model has
    one of its own (:meth:`snn.models.base.NeuronModel.input_synapse`)."""
    return network.populations[projection.post].model.input_synapse(projection.synapse)


def seed_streams(seed: int | None) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """The three independent generators a seed stands for: connectivity, initial values,
    and the simulation's own draws (Poisson sources), in that order."""
    return tuple(np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(3))


#: Bytes per neuron of the state, parameter and scratch arrays (simulator and builder)
BYTES_PER_NEURON = 104
#: Bytes per node (population neuron or source channel): CSR row pointers of the blocks and
#: the merged CSR, the worker row split, the recorded flag, Poisson probabilities
BYTES_PER_NODE = 48


def _synapse_estimate(rule, n_pre: int, n_post: int) -> float:
    """Expected synapses of a rule (floats: 10^6 x 10^6 must not overflow)."""
    if isinstance(rule, FixedProbability):
        return float(rule.p) * n_pre * n_post
    if isinstance(rule, FixedInDegree):
        return float(rule.in_degree) * n_post
    if isinstance(rule, AllToAll):
        return float(n_pre) * n_post
    if isinstance(rule, Sparse):
        return float(np.size(rule.pre))
    return 0.0


def estimate_memory(network: Network, dt: float, dtype=np.float64) -> None:
    """Refuse, before anything is allocated, a network whose arrays will not fit in memory
    (:func:`snn.resources.require`, one line naming the part and its field). O(populations +
    projections): sizes and rule parameters only, nothing is drawn."""
    itemsize = np.dtype(dtype).itemsize
    total = 0.0
    n_neurons = 0
    for pop in network.populations.values():
        need = float(pop.size) * BYTES_PER_NEURON
        resources.require(
            need, f"the state of population {pop.name!r} ({pop.size} neurons)", f"populations.{pop.name}.size"
        )
        total += need
        n_neurons += pop.size
    for source in network.sources.values():
        need = float(source.size) * BYTES_PER_NODE
        resources.require(
            need, f"the channels of source {source.name!r} ({source.size})", f"sources.{source.name}.size"
        )
        total += need
    n_nodes = n_neurons + sum(s.size for s in network.sources.values())
    total += float(n_nodes) * BYTES_PER_NODE
    resources.require(total, f"the neurons and nodes of the network ({n_nodes})", "populations")
    slots = 0.0
    max_delay = 0.0
    for k, projection in enumerate(network.projections):
        rule = projection.connectivity
        n_pre = network.node_size(projection.pre, "pre")
        n_post = network.populations[projection.post].size
        synapses = _synapse_estimate(rule, n_pre, n_post)
        # a block (targets int32, weights, delays uint16) and its copy in the merged CSR
        per_synapse = 2 * (4 + itemsize + 2)
        if isinstance(rule, (AllToAll, Sparse)):
            per_synapse += 40  # COO pre/post int64, weights, lexsort order
        delays = getattr(rule, "delay", getattr(rule, "delays", 0.0))
        with np.errstate(all="ignore"):
            longest = float(np.max(np.asarray(delays, dtype=np.float64))) / dt if np.size(delays) else 0.0
        if np.isfinite(longest):
            max_delay = max(max_delay, longest)
        total += synapses * per_synapse + float(n_pre + 1) * 8
        resources.require(
            total,
            f"the synapses of projections[{k}] ({projection.pre} -> {projection.post}, "
            f"about {synapses:.3g} at {per_synapse} B each, with the network built so far)",
            f"projections[{k}]",
        )
    for pop in network.populations.values():
        slots += float(pop.size) * len(population_synapses(network, pop.name))
    rows = np.rint(max_delay) + 1
    total += slots * itemsize * (rows + 1 if rows > 1 else 1)
    resources.require(
        total, f"the synaptic slots and delay buffer ({slots:.3g} slots x {rows:.0f} steps)", "delays"
    )


def build(network: Network, dt: float, dtype=np.float64, seed: int | None = 0) -> Model:
    """Build ``network`` for step ``dt`` (s). Random connectivity draws from ``seed``.

    ``SeedSequence(seed)`` is split into three children: connectivity, initial values
    and the simulation's own draws (Poisson sources), so each stream is independent of
    how much the others consume.
    """
    dtype = np.dtype(dtype)
    if not network.populations:
        raise ValidationError("Network.populations", "must hold at least one population")
    estimate_memory(network, dt, dtype)
    node_names = []
    start = 0
    for pop in network.populations.values():
        node_names.append((pop.name, start, pop.size, "population"))
        start += pop.size
    n_neurons = start
    for source in network.sources.values():
        node_names.append((source.name, start, source.size, type(source).__name__))
        start += source.size
    n_nodes = start
    ranges = {name: (begin, size) for name, begin, size, _ in node_names}

    connect_rng, init_rng, _ = seed_streams(seed)
    neurons = neuron_arrays(network, dt, dtype, init_rng)

    # channels: one per (target population, synapse type), grouped by population
    per_population = {name: population_synapses(network, name) for name in network.populations}
    keys, decays, coefs, chan_ptr, slot_base = [], [], [], [0], []
    n_slots = 0
    for pop in network.populations.values():
        slot_base.append(n_slots)
        for synapse in per_population[pop.name]:
            keys.append((pop.name, synapse))
            decay, coef = channel_coefficients(pop.model, synapse, dt)
            decays.append(decay)
            coefs.append(coef)
        chan_ptr.append(len(keys))
        n_slots += pop.size * len(per_population[pop.name])
    channels = Channels(
        ptr=np.asarray(chan_ptr, dtype=np.int64),
        slot_base=np.asarray(slot_base, dtype=np.int64),
        decay=np.asarray(decays, dtype=dtype),
        coef=np.asarray(coefs, dtype=dtype),
        n_slots=n_slots,
        keys=keys,
    )
    pop_index = {name: k for k, name in enumerate(network.populations)}

    if n_slots >= np.iinfo(np.int32).max:
        raise ValidationError(
            "Network", f"needs {n_slots} synaptic slots; at most 2**31 - 1 fit int32 targets"
        )
    blocks: list[tuple[int, CSRBlock]] = []  # (first global row, block with slot targets)
    per_projection = {}
    for projection, block in projection_blocks(network, dt, connect_rng, dtype):
        post = network.populations[projection.post]
        p = pop_index[post.name]
        local_channel = keys.index((post.name, effective_synapse(network, projection))) - chan_ptr[p]
        pre_start = ranges[projection.pre][0]
        block.indices += np.int32(slot_base[p] + local_channel * post.size)  # post index -> slot
        blocks.append((pre_start, block))
        per_projection[projection.name] = block.n_synapses
    plastic = any(projection.plasticity is not None for projection in network.projections)
    connectivity = _merge(blocks, n_nodes, dtype, per_projection, with_projection=plastic)
    schedules = build_schedules(network, ranges, n_neurons, dt, dtype)
    probes = _probes(network, ranges, n_nodes)
    model = Model(
        dt=dt,
        dtype=dtype,
        node_names=node_names,
        n_neurons=n_neurons,
        n_nodes=n_nodes,
        neurons=neurons,
        channels=channels,
        connectivity=connectivity,
        schedules=schedules,
        probes=probes,
    )
    if plastic:
        from snn.plasticity.build import build_plasticity

        model.plasticity = build_plasticity(network, model, ranges)
    return model


def _merge(
    blocks: list[tuple[int, CSRBlock]], n_nodes: int, dtype, per_projection, with_projection: bool = False
) -> Connectivity:
    """One CSR over all nodes; rows of projections that share a pre node are concatenated."""
    total = sum(b.n_synapses for _, b in blocks)
    max_delay = max((int(np.max(b.delays)) if np.size(b.delays) else 0 for _, b in blocks), default=0)
    if not blocks:
        return Connectivity(
            np.zeros(n_nodes + 1, dtype=np.int64),
            np.zeros(0, np.int32),
            np.zeros(0, dtype),
            np.zeros(0, np.uint16),
            0,
            per_projection,
        )
    row_offsets = np.asarray([offset for offset, _ in blocks], dtype=np.int64)
    indptr_starts = np.cumsum([0] + [b.indptr.size for _, b in blocks]).astype(np.int64)
    source_starts = np.cumsum([0] + [b.n_synapses for _, b in blocks]).astype(np.int64)
    indptrs = np.concatenate([b.indptr for _, b in blocks])

    def merged(values: list[np.ndarray], out_dtype) -> tuple[np.ndarray, np.ndarray]:
        out = np.empty(total, dtype=out_dtype)
        source = values[0] if len(values) == 1 else np.concatenate(values)
        indptr = connect_kernels.merge_rows(
            n_nodes, row_offsets, indptrs, indptr_starts, source, source_starts, out
        )
        return indptr, out

    indptr, targets = merged([b.indices for _, b in blocks], np.int32)
    _, weights = merged([b.weights for _, b in blocks], dtype)
    delays = np.zeros(0, dtype=np.uint16)
    if max_delay > 0:
        per_synapse = [
            np.broadcast_to(np.asarray(b.delays, dtype=np.uint16), b.indices.shape) for _, b in blocks
        ]
        _, delays = merged(per_synapse, np.uint16)
    connectivity = Connectivity(indptr, targets, weights, delays, max_delay, per_projection)
    if with_projection:
        _, connectivity.projection = merged(
            [np.full(b.n_synapses, k, dtype=np.int32) for k, (_, b) in enumerate(blocks)], np.int32
        )
    return connectivity


def _probes(network: Network, ranges, n_nodes: int) -> Probes:
    from snn.kernels.simulate import VAR_B, VAR_I_EXT, VAR_I_SYN, VAR_V

    codes = {"v": VAR_V, "i_syn": VAR_I_SYN, "i_ext": VAR_I_EXT}
    record_node = np.zeros(n_nodes, dtype=np.bool_)
    names, every, var, index = [], [], [], []
    for probe in network.probes:
        if probe.variable == PROBE_WEIGHTS:  # the plasticity kernels sample those
            continue
        begin, size = ranges[probe.target]
        local = np.arange(size) if probe.neurons is None else probe.neurons
        if probe.variable == PROBE_SPIKES:
            record_node[begin + local] = True
            continue
        names.append(probe.name)
        every.append(probe.every)
        # a model's second state variable (ALIF b, AdEx w, Izhikevich u) is the kernel's second array
        var.append(codes.get(probe.variable, VAR_B))
        index.append(begin + local)
    ptr = np.cumsum([0] + [len(i) for i in index]).astype(np.int64)
    flat = np.concatenate(index).astype(np.int64) if index else np.zeros(0, dtype=np.int64)
    return Probes(
        names, np.asarray(every, dtype=np.int64), np.asarray(var, dtype=np.int64), ptr, flat, record_node
    )


__all__ = ["Model", "build", "effective_synapse", "population_synapses"]
