"""Network transforms: rewrite an :class:`snn.Network` into an equivalent one.

:func:`split_population` replaces one population by several parts, each with its own model
(a neuron model holds one value per parameter; neurons that differ — per-neuron time
constants of a trained NIR graph, say — become parts), and rewires everything that touched
it: projections (rows / columns of their weights), currents, initial potentials and probes.
The parts run the same dynamics as the neurons they hold, so the split network gives the
same spikes; :func:`merge_parts` maps a result back to the original population.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from snn.connectivity import AllToAll, Sparse
from snn.errors import ValidationError
from snn.inputs import Current
from snn.network import Network, Population, Probe, Projection, Uniform
from snn.result import Result


@dataclasses.dataclass(frozen=True)
class Part:
    """One part of a split population: its name, model and the original indices it holds
    (sorted), and the synapse of the projections into it (None: keep each projection's)."""

    name: str
    model: object
    neurons: np.ndarray
    synapse: object = None

    def __post_init__(self) -> None:
        neurons = np.asarray(self.neurons)
        if neurons.ndim != 1 or not np.issubdtype(neurons.dtype, np.integer):
            raise ValidationError(f"Part({self.name!r}).neurons", "must be a 1-D array of neuron indices")
        object.__setattr__(self, "neurons", neurons.astype(np.int64))


def split_population(network: Network, population: str, parts: list[Part]) -> Network:
    """A new network in which ``population`` is replaced by ``parts`` (which together hold
    each of its neurons once), in its place in the population order."""
    old = network.populations.get(population)
    if old is None:
        raise ValidationError("population", f"no population {population!r} in the network")
    if old.dendrites is not None:
        raise ValidationError(f"populations[{population}].dendrites", "dendritic segments cannot be split")
    if isinstance(old.initial_v, Uniform):
        raise ValidationError(
            f"populations[{population}].initial_v",
            "a random start would be drawn again per part: give values",
        )
    for k, part in enumerate(parts):
        if part.neurons.size and (part.neurons.min() < 0 or part.neurons.max() >= old.size):
            raise ValidationError(f"parts[{k}].neurons", f"must be in [0, {old.size})")
    owner = np.full(old.size, -1)
    local = np.zeros(old.size, dtype=np.int64)
    for k, part in enumerate(parts):
        ids = np.asarray(part.neurons, dtype=np.int64)
        if ids.size == 0 or np.any(owner[ids] >= 0) or np.any(np.diff(ids) <= 0):
            raise ValidationError(f"parts[{k}].neurons", "must be sorted, non-empty and not shared")
        owner[ids], local[ids] = k, np.arange(ids.size)
    if np.any(owner < 0):
        raise ValidationError("parts", f"must cover all {old.size} neurons of {population!r}")
    out = Network(network.name)
    for name, node in {**network.populations, **network.sources}.items():
        if name != population:
            out.add(node)
            continue
        for part in parts:
            initial = old.initial_v
            if initial is not None and np.ndim(initial):
                initial = np.asarray(initial)[part.neurons]
            out.add(
                Population(name=part.name, size=int(part.neurons.size), model=part.model, initial_v=initial)
            )
    for projection in network.projections:
        for piece in _split_projection(projection, population, parts, network):
            out.add_projection(piece)
    for current in network.currents:
        for piece in _split_current(current, population, parts, owner, local):
            out.inject(piece)
    for reward in network.rewards:  # learning projections are never split
        out.add_reward(reward)
    for probe in network.probes:
        for piece in _split_probe(probe, population, parts):
            out.probe(piece.target, piece.variable, neurons=piece.neurons, every=piece.every, name=piece.name)
    return out


def _split_projection(projection: Projection, population: str, parts: list[Part], network: Network):
    if population not in (projection.pre, projection.post):
        return [projection]
    if projection.plasticity is not None:
        raise ValidationError(f"projections[{projection.name}]", "a learning projection cannot be split")
    rule = projection.connectivity
    n_pre = network.node_size(projection.pre, "pre")
    n_post = network.populations[projection.post].size
    if isinstance(rule, AllToAll):
        weights = np.broadcast_to(np.asarray(rule.weights, dtype=np.float64), (n_pre, n_post))
        delays = np.broadcast_to(np.asarray(rule.delays, dtype=np.float64), (n_pre, n_post))
        pre, post = np.nonzero(weights != 0)  # as AllToAll makes no synapse for a zero weight
        weights, delays = weights[pre, post], delays[pre, post]
    elif isinstance(rule, Sparse):
        pre, post = np.asarray(rule.pre, dtype=np.int64), np.asarray(rule.post, dtype=np.int64)
        weights = np.broadcast_to(np.asarray(rule.weights, dtype=np.float64), pre.shape)
        delays = np.broadcast_to(np.asarray(rule.delays, dtype=np.float64), pre.shape)
    else:
        raise ValidationError(
            f"projections[{projection.name}].connectivity",
            f"a {type(rule).__name__} rule cannot be split (its synapses are drawn at build time)",
        )
    pre_parts = parts if projection.pre == population else [None]
    post_parts = parts if projection.post == population else [None]
    pieces = []
    for a in pre_parts:
        for b in post_parts:
            keep = np.ones(pre.size, dtype=bool)
            new_pre, new_post = pre, post
            if a is not None:
                keep &= np.isin(pre, a.neurons)
                new_pre = np.searchsorted(a.neurons, pre)
            if b is not None:
                keep &= np.isin(post, b.neurons)
                new_post = np.searchsorted(b.neurons, post)
            if not np.any(keep):
                continue
            connectivity = Sparse(pre=new_pre[keep], post=new_post[keep], weights=weights[keep],
                                  delays=delays[keep])  # fmt: skip
            suffix = "_".join(p.name for p in (a, b) if p is not None)
            synapse = b.synapse if b is not None and b.synapse is not None else projection.synapse
            pieces.append(
                dataclasses.replace(
                    projection,
                    name=f"{projection.name}_{suffix}",
                    pre=a.name if a is not None else projection.pre,
                    post=b.name if b is not None else projection.post,
                    connectivity=connectivity,
                    synapse=synapse,
                )
            )
    return pieces


def _split_current(current: Current, population: str, parts, owner, local) -> list[Current]:
    if current.target != population:
        return [current]
    targets = np.arange(owner.size) if current.neurons is None else np.asarray(current.neurons)
    amplitudes = np.asarray(current.amplitudes)
    out = []
    for k, part in enumerate(parts):
        mine = owner[targets] == k
        if not np.any(mine):
            continue
        columns = amplitudes[:, mine] if amplitudes.shape[1] == targets.size else amplitudes
        neurons = None if current.neurons is None else local[targets[mine]]
        out.append(dataclasses.replace(current, target=part.name, amplitudes=columns, neurons=neurons))
    return out


def _split_probe(probe: Probe, population: str, parts) -> list[Probe]:
    if probe.target != population:
        return [probe]
    out = []
    for part in parts:
        neurons = None
        if probe.neurons is not None:
            mine = np.isin(probe.neurons, part.neurons)
            if not np.any(mine):
                continue
            neurons = np.searchsorted(part.neurons, probe.neurons[mine])
        out.append(
            dataclasses.replace(probe, name=f"{probe.name}_{part.name}", target=part.name, neurons=neurons)
        )
    return out


def merge_parts(result: Result, population: str, parts: list[Part], size: int) -> Result:
    """``result`` with the parts' spikes, sizes and traces put back under ``population``
    (its original neuron indices; spikes in time order, ties by index; a trace's columns in
    ascending neuron order, as its ``neurons`` says)."""
    spikes = {k: v for k, v in result.spikes.items() if k not in {p.name for p in parts}}
    found = [
        (result.spikes[p.name][0], p.neurons[result.spikes[p.name][1]])
        for p in parts
        if p.name in result.spikes
    ]
    if found:
        times = np.concatenate([t for t, _ in found])
        ids = np.concatenate([i for _, i in found])
        order = np.lexsort((ids, times))
        spikes[population] = (times[order], ids[order])
    sizes = {k: v for k, v in result.sizes.items() if k not in {p.name for p in parts}}
    sizes[population] = size
    traces = {}
    grouped: dict[str, list] = {}
    for name, trace in result.traces.items():
        part = next((p for p in parts if trace.target == p.name), None)
        if part is None:
            traces[name] = trace
            continue
        grouped.setdefault(name[: -len(part.name) - 1], []).append((part, trace))
    for name, pieces in grouped.items():
        neurons = np.concatenate([part.neurons[trace.neurons] for part, trace in pieces])
        values = np.concatenate([trace.values for _, trace in pieces], axis=1)
        order = np.argsort(neurons)
        first = pieces[0][1]
        traces[name] = dataclasses.replace(
            first, values=values[:, order], neurons=neurons[order], target=population
        )
    return dataclasses.replace(result, spikes=spikes, sizes=sizes, traces=traces)
