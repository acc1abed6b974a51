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

from snn.build import projection_blocks, seed_streams
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


def _synapses(network: Network, dt: float, seed: int):
    """``(projection, CSR block)`` with the simulator's very synapses for ``seed``."""
    connect_rng, _, _ = seed_streams(seed)
    return list(projection_blocks(network, dt, connect_rng, np.float64))


def probe_for_workload(network: Network, readouts=()) -> Network:
    """Add what the workload metrics read, where it is not probed yet: the spikes of every
    node that feeds a projection and of every spiking population, and ``v`` of every
    spiking population (every step). Returns ``network``."""
    probed = {(p.target, p.variable) for p in network.probes if p.neurons is None and p.every == 1}
    spiking = _spiking_populations(network, readouts)
    wanted = {(name, "spikes") for name in spiking} | {(name, "v") for name in spiking}
    wanted |= {(proj.pre, "spikes") for proj in network.projections}
    for target, variable in sorted(wanted - probed):
        network.probe(target, variable)
    return network


def static_metrics(network: Network, dt: float, seed: int = 0) -> dict:
    """``Footprint`` (bytes), ``ConnectionSparsity`` and ``ParameterCount`` of ``network``."""
    weights = [block.weights for _, block in _synapses(network, dt, seed)]
    n_weights = int(sum(w.size for w in weights))
    zeros = int(sum(np.count_nonzero(w == 0) for w in weights))
    biases = sum(_bias_count(network, name) for name in network.populations)
    # weight (float64) and target index (int32) per synapse, row pointers, one float64 per
    # neuron constant
    indptr = sum(network.node_size(proj.pre, "pre") + 1 for proj in network.projections)
    footprint = n_weights * (8 + 4) + indptr * 8 + biases * 8
    return {
        "Footprint": int(footprint),
        "ConnectionSparsity": zeros / n_weights if n_weights else 0.0,
        "ParameterCount": n_weights + biases,
    }


def _bias_count(network: Network, population: str) -> int:
    """Neurons of ``population`` driven by a constant current (a layer's bias)."""
    for current in network.currents:
        if current.target == population and len(current.times) == 1:  # Current.constant
            return network.populations[population].size if current.neurons is None else len(current.neurons)
    return 0


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
    blocks = _synapses(network, dt, seed)
    spiking = _spiking_populations(network, readouts)
    steps = [int(round(r.duration / dt)) for r in results]
    acs = dense = 0.0
    for projection, block in blocks:
        # per presynaptic neuron: how many of its synapses carry a nonzero weight
        nonzero = np.add.reduceat(block.weights != 0, block.indptr[:-1]) if block.indices.size else None
        counts = np.diff(block.indptr)
        fan_out = np.where(counts > 0, nonzero if nonzero is not None else 0, 0)
        for result in results:
            _, ids = _spikes(result, projection.pre)
            acs += float(fan_out[ids].sum())
        dense += float(block.indices.size) * sum(steps)
    fired = neurons_steps = updates = 0
    for name in spiking:
        size = network.populations[name].size
        for result, n_steps in zip(results, steps, strict=True):
            fired += _spikes(result, name)[1].size
            neurons_steps += size * n_steps
            updates += _membrane_updates(result, name, size)
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


def _membrane_updates(result: Result, population: str, size: int) -> int:
    trace = next((t for t in result.traces.values() if t.target == population and t.variable == "v"), None)
    if trace is None or trace.values.shape[1] != size:
        raise ValidationError(
            f"results.traces[{population!r}]",
            "needs v of every neuron every step: probe it (snn.workload.probe_for_workload)",
        )
    # NeuroBench: the first step counts every neuron, later steps each changed potential
    changed = np.count_nonzero(np.diff(trace.values, axis=0))
    return size + int(changed)
