"""NeuroBench's metrics counted on a network and its runs, on any backend.

NeuroBench (Yik et al. 2025, package ``neurobench`` 2.3) defines its metrics on torch
models through forward hooks on ``nn.Linear``/``nn.Conv*`` layers and activation modules.
Here the same definitions are counted from an :class:`snn.Network` and the
:class:`snn.Result` of each sample's run, so a run on the Numba simulator (or any backend)
reports them under NeuroBench's names and can be checked against NeuroBench's own figures
on a torch twin of the same model (:mod:`ann_bridge.neurobench_twin`):

- ``SynapticOperations`` (per sample): ``Effective_ACs`` = every spike of a node that
  feeds a projection times the number of its synapses with a nonzero weight (NeuroBench
  binarises inputs and weights and counts the products); ``Effective_MACs`` = the same for
  non-binary inputs, which a spiking network does not have (0); ``Dense`` = every synapse,
  zero weights included, once per step (NeuroBench's all-ones count; bias excluded).
- ``ActivationSparsity``: 1 - spikes / (neurons x steps) over the spiking populations
  (NeuroBench's activation modules: the spiking layers, not the inputs, not LI readouts).
- ``MembraneUpdates`` (per sample): NeuroBench's count for a spiking layer — every neuron
  in the first step, then each (neuron, step) whose membrane potential changed. It needs
  ``v`` of each spiking population probed every step (:func:`probe_for_workload`).
- ``ConnectionSparsity``: zero weights / all weights of the projections.
- ``ParameterCount``: weights of the projections plus constant per-neuron currents (a
  layer's bias). A convolution appears here as its expanded synapses, so this exceeds a
  torch layer's shared-kernel count; the difference is a property of the representation.
- ``Footprint``: bytes of the synapses as the simulator stores them (weight, target index)
  plus the per-neuron constants: a storage figure of this simulator, not comparable with
  NeuroBench's bytes of torch parameters and buffers.
"""

from __future__ import annotations

import numpy as np

from snn.build import drawn_blocks
from snn.connectivity import AllToAll, Sparse
from snn.errors import ValidationError
from snn.network import Network
from snn.result import Result

#: The names NeuroBench 2.3 gives its metrics (``Benchmark.run``'s keys, its classes' names).
STATIC = ("Footprint", "ConnectionSparsity", "ParameterCount")
WORKLOAD = ("ActivationSparsity", "SynapticOperations", "MembraneUpdates")


def _spiking_populations(network: Network, readouts=()) -> list[str]:
    """NeuroBench's activation layers: populations of spiking models, but ``readouts``."""
    for name in readouts:
        network.node_size(name, "readouts")
    return [name for name, p in network.populations.items() if p.model.spiking and name not in readouts]


def _complete(probe, size: int) -> bool:
    return probe.neurons is None or np.array_equal(np.sort(probe.neurons), np.arange(size))


def probe_for_workload(network: Network, readouts=()) -> Network:
    """Add what the workload metrics read, where it is not probed yet (every neuron, every
    step): the spikes of every node that feeds a projection and of every spiking
    population, and ``v`` of every spiking population. Returns ``network``."""
    probed = {
        (p.target, p.variable)
        for p in network.probes
        if p.every == 1 and _complete(p, network.node_size(p.target, "probes.target"))
    }
    spiking = _spiking_populations(network, readouts)
    wanted = {(name, "spikes") for name in spiking} | {(name, "v") for name in spiking}
    wanted |= {(proj.pre, "spikes") for proj in network.projections}
    taken = {p.name for p in network.probes}
    for target, variable in sorted(wanted - probed):
        name = f"workload_{target}_{variable}"
        while name in taken:
            name += "_"
        network.probe(target, variable, name=name)
    return network


def _entries(network: Network, projection, block) -> tuple[int, int]:
    """``(weights, zero weights)`` of a projection as a torch layer holds them: an AllToAll's
    full ``n_pre x n_post`` matrix and a Sparse list's entries, zeros included (the simulator
    drops zero weights, so they are read off the rule); a random rule's drawn synapses."""
    rule = projection.connectivity
    if isinstance(rule, AllToAll):
        n = network.node_size(projection.pre, "pre") * network.populations[projection.post].size
        weights = np.broadcast_to(np.asarray(rule.weights, dtype=np.float64).ravel(), (n,))
        return n, int(np.count_nonzero(weights == 0))
    if isinstance(rule, Sparse):
        pre = np.asarray(rule.pre).ravel()
        weights = np.broadcast_to(np.asarray(rule.weights, dtype=np.float64).ravel(), pre.shape)
        return int(pre.size), int(np.count_nonzero(weights == 0))
    return int(block.indices.size), int(np.count_nonzero(block.weights == 0))


def static_metrics(network: Network, dt: float, seed: int = 0) -> dict:
    """``Footprint`` (bytes), ``ConnectionSparsity`` and ``ParameterCount`` of ``network``."""
    blocks = drawn_blocks(network, dt, seed)
    entries = [_entries(network, projection, block) for projection, block in blocks]
    n_weights, zeros = sum(e[0] for e in entries), sum(e[1] for e in entries)
    stored = sum(block.indices.size for _, block in blocks)
    biases = sum(_bias_count(network, name) for name in network.populations)
    # weight (float64) and target index (int32) per stored synapse, row pointers, one
    # float64 per neuron constant
    indptr = sum(network.node_size(proj.pre, "pre") + 1 for proj in network.projections)
    footprint = stored * (8 + 4) + indptr * 8 + biases * 8
    return {
        "Footprint": int(footprint),
        "ConnectionSparsity": zeros / n_weights if n_weights else 0.0,
        "ParameterCount": int(n_weights + biases),
    }


def _bias_count(network: Network, population: str) -> int:
    """Neurons of ``population`` driven by constant currents (a layer's bias; each current
    counted: they are separate parameters)."""
    size = network.populations[population].size
    return sum(
        size if current.neurons is None else len(current.neurons)
        for current in network.currents
        if current.target == population and len(current.times) == 1  # Current.constant
    )


def workload_metrics(
    network: Network, results: list[Result], dt: float, seed: int = 0, samples_per_run: int = 1, readouts=()
) -> dict:
    """NeuroBench's workload metrics per sample over ``results``: runs of ``network``, each
    with the probes :func:`probe_for_workload` adds, each holding ``samples_per_run``
    samples side by side. ``readouts``: spiking-model populations used as readouts (a
    never-firing integrator), which NeuroBench would not count as activations.

    Returns ``ActivationSparsity``, ``SynapticOperations`` (a dict with
    ``Effective_MACs``, ``Effective_ACs``, ``Dense``) and ``MembraneUpdates``.
    """
    if not results:
        raise ValidationError("results", "must hold at least one run")
    blocks = drawn_blocks(network, dt, seed)
    spiking = _spiking_populations(network, readouts)
    steps = [int(round(r.duration / dt)) for r in results]
    acs = dense = 0.0
    for projection, block in blocks:
        # per presynaptic neuron: how many of its synapses carry a nonzero weight
        fan_out = np.bincount(
            block.pre(), weights=(block.weights != 0).astype(np.float64), minlength=block.indptr.size - 1
        )
        for result in results:
            _, ids = _spikes(result, projection.pre)
            acs += float(fan_out[ids].sum())
        dense += float(_entries(network, projection, block)[0]) * sum(steps)
    fired = neurons_steps = updates = 0
    for name in spiking:
        size = network.populations[name].size
        for result, n_steps in zip(results, steps, strict=True):
            fired += _spikes(result, name)[1].size
            neurons_steps += size * n_steps
            updates += _membrane_updates(result, name, size, n_steps)
    n = len(results) * samples_per_run
    return {
        "ActivationSparsity": 1.0 - fired / neurons_steps if neurons_steps else 0.0,
        "SynapticOperations": {"Effective_MACs": 0.0, "Effective_ACs": acs / n, "Dense": dense / n},
        "MembraneUpdates": updates / n,
    }


def _spikes(result: Result, node: str) -> tuple[np.ndarray, np.ndarray]:
    if node not in result.spikes:
        raise ValidationError(
            f"results.spikes[{node!r}]", "is not recorded: probe it (snn.workload.probe_for_workload)"
        )
    return result.spikes[node]


def _membrane_updates(result: Result, population: str, size: int, steps: int) -> int:
    trace = next(
        (t for t in result.traces.values()
         if t.target == population and t.variable == "v" and t.values.shape == (steps, size)
         and np.array_equal(t.neurons, np.arange(size))),
        None,
    )  # fmt: skip
    if trace is None:
        raise ValidationError(
            f"results.traces[{population!r}]",
            "needs v of every neuron every step: probe it (snn.workload.probe_for_workload)",
        )
    # NeuroBench: the first step counts every neuron, later steps each changed potential
    changed = np.count_nonzero(np.diff(trace.values, axis=0))
    return size + int(changed)
