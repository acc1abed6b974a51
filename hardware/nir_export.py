"""``snn.Network`` -> ``nir.NIRGraph`` (the conversion itself; see :mod:`hardware.nir_fields` for units).

Node names: populations and spike sources keep their names; projection ``p`` becomes the weight node
``w.p`` (``w.p.d<k>`` per group of synapses sharing a delay of ``k`` steps, each behind a
``delay.p.d<k>`` node on the presynaptic side); population ``x``'s synaptic-current nodes are
``syn.x.<i>``; outputs are ``out.<probe name>``. Our names never hold a dot, so these never clash.
"""

from __future__ import annotations

import json

import nir
import numpy as np

from hardware.base import MappingReport, constant_current
from hardware.lowering import concrete
from hardware.nir_fields import METADATA_KEY, Conventions, gain, node_for, spike_area, synaptic_current_node
from snn.build import population_synapses
from snn.inputs import LatencyEncoder, SpikeSource
from snn.network import PROBE_SPIKES, Network
from snn.synapses import Delta, Exponential


def uses_current_node(network: Network, population: str) -> bool:
    """Whether the population is one NIR CubaLIF/CubaLI node (one exponential channel, no bias)."""
    found = population_synapses(network, population)
    model = network.populations[population].model
    return (
        len(found) == 1
        and isinstance(found[0], Exponential)
        and type(model).__name__ in ("LIF", "LI", "CubaLIF")
        and not np.any(constant_current(network, population))
    )


def to_nir_graph(network: Network, dt: float, seed: int, spikes: str) -> tuple[nir.NIRGraph, MappingReport]:
    """The conversion proper; the caller has run the pre-flight check."""
    area = spike_area(spikes, dt)
    drawn = concrete(network, dt, seed)
    report = MappingReport(backend="nir", neurons=network.n_neurons, synapses=drawn.n_synapses)
    nodes: dict[str, nir.NIRNode] = {}
    edges: list[tuple[str, str]] = []
    inlet: dict[tuple[str, object], str] = {}  # (population, synapse) -> node that takes its spikes

    for name, source in network.sources.items():
        nodes[name] = nir.Input(input_type=np.array([source.size]))
        kind = type(source).__name__
        if isinstance(source, (SpikeSource, LatencyEncoder)):
            report.converted.append(
                f"spike source {name!r} ({kind}, {source.size}) -> nir.Input {name!r}; its spike trains "
                "are run-time input data, not part of the graph"
            )
        else:
            report.refused.append(
                f"spike source {name!r} ({kind}): NIR has no stochastic spike generator; exported as the "
                f"nir.Input port {name!r} of {source.size} channels, whose spikes the receiver must supply"
            )
    for name, pop in network.populations.items():
        found = population_synapses(network, name)
        model = type(pop.model).__name__
        if uses_current_node(network, name):
            node = nodes[name] = node_for(pop.model, pop.size, found[0].tau_syn)
            inlet[(name, found[0])] = name
            report.converted.append(
                f"population {name!r} ({model}, {pop.size}) with Exponential(tau_syn={found[0].tau_syn}) "
                f"synapses -> nir.{type(node).__name__} {name!r} (w_in = 1)"
            )
            continue
        node = nodes[name] = node_for(pop.model, pop.size)
        report.converted.append(
            f"population {name!r} ({model}, {pop.size}) -> nir.{type(node).__name__} {name!r}"
        )
        for synapse in found:
            if isinstance(synapse, Delta):
                inlet[(name, synapse)] = name
                continue
            current = f"syn.{name}.{len([k for k in inlet if k[0] == name])}"
            nodes[current] = synaptic_current_node(pop.size, synapse.tau_syn)
            edges.append((current, name))
            inlet[(name, synapse)] = current
            report.converted.append(
                f"Exponential(tau_syn={synapse.tau_syn}) synapses into {name!r} -> synaptic-current node "
                f"nir.LI {current!r} (tau = tau_syn, r = 1, v_leak = 0) feeding {name!r}"
            )

    biased = {name for name in network.populations if np.any(constant_current(network, name))}
    for synapses in drawn.synapses:
        projection = synapses.projection
        target = inlet[(projection.post, projection.synapse)]
        n_pre = network.node_size(projection.pre, "pre")
        n_post = network.populations[projection.post].size
        g = gain(nodes[target], area)
        steps = np.unique(synapses.delay_steps) if synapses.n_synapses else np.zeros(1, np.int64)
        for k in steps:
            chosen = synapses.delay_steps == k
            matrix = np.zeros((n_post, n_pre))
            np.add.at(matrix, (synapses.post[chosen], synapses.pre[chosen]), synapses.weights[chosen])
            weight = matrix / g[:, None]
            suffix = f".d{k}" if steps.size > 1 else ""
            name = f"w.{projection.name}{suffix}"
            if projection.post in biased and isinstance(projection.synapse, Delta):
                b = constant_current(network, projection.post)
                nodes[name] = nir.Affine(weight=weight, bias=b)
                biased.discard(projection.post)
                report.converted.append(
                    f"bias current of {projection.post!r} (i_bias and constant currents, A) -> bias of "
                    f"nir.Affine {name!r}"
                )
            else:
                nodes[name] = nir.Linear(weight=weight)
            if k > 0:
                delay = f"delay.{projection.name}.d{k}"
                nodes[delay] = nir.Delay(delay=np.full(n_pre, k * dt))
                edges += [(projection.pre, delay), (delay, name)]
            else:
                edges.append((projection.pre, name))
            edges.append((name, target))
        report.converted.append(
            f"projection {projection.name!r} ({synapses.n_synapses} synapses, "
            f"{type(projection.synapse).__name__}) -> dense nir.Linear/Affine weights W = w / g "
            f"(g = {_describe(g)}), delays {sorted(int(k) * dt for k in steps)} s (nir.Delay, pre side)"
        )

    has_outgoing = {p.pre for p in network.projections}
    probed = set()
    for probe in network.probes:
        out = f"out.{probe.name}"
        nodes[out] = nir.Output(output_type=np.array([network.node_size(probe.target, "probe")]))
        edges.append((probe.target, out))
        probed.add(probe.target)
        report.converted.append(
            f"probe {probe.name!r} ({probe.variable} of {probe.target!r}) -> nir.Output {out!r}"
        )
    for name, pop in network.populations.items():
        if name not in probed and name not in has_outgoing:
            out = f"out.{name}_{PROBE_SPIKES if pop.model.spiking else 'v'}"
            nodes[out] = nir.Output(output_type=np.array([pop.size]))
            edges.append((name, out))
            report.converted.append(f"population {name!r} has no outgoing edge -> nir.Output {out!r}")
    report.converted.append(
        f"spike convention {spikes!r}: one spike has area {area} in the NIR equations (dt = {dt} s)"
    )
    metadata = {
        METADATA_KEY: json.dumps(
            {
                "format": 1,
                "name": network.name,
                "dt": dt,
                "seed": seed,
                "spikes": spikes,
                "conventions": export_conventions(network, spikes).to_dict(),
                # per population, when they differ (an importer that reads one mode takes "conventions")
                "integration": {
                    n: getattr(p.model, "integration", "exact") for n, p in network.populations.items()
                },
                "nodes": [*network.populations, *network.sources],
                "projections": [p.name for p in network.projections],
            }
        )
    }
    # type_check would add Input nodes in front of populations nobody drives; check types only
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=False)
    graph.check_types()
    return graph, report


def export_conventions(network: Network, spikes: str) -> Conventions:
    """How this network runs here, recorded in the graph so any importer can run it alike:
    our timing (a spike acts from the next step), reset to value (NIR's), and forward Euler
    when every linear population integrates with it (else exact)."""
    modes = {getattr(p.model, "integration", None) for p in network.populations.values()} - {None}
    return Conventions(spikes=spikes, discretisation="euler" if modes == {"euler"} else "exact")


def _describe(values: np.ndarray) -> str:
    unique = np.unique(values)
    return f"{unique[0]:.6g}" if unique.size == 1 else f"{unique.min():.6g}..{unique.max():.6g}"
