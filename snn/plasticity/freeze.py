"""Learning projections made static: for backends without plasticity (NIR) or to keep
what a run learned."""

from __future__ import annotations

import dataclasses

import numpy as np

from snn.connectivity import Sparse
from snn.network import PROBE_WEIGHTS, Network


def freeze(network: Network, simulator=None) -> Network:
    """A copy of ``network`` whose learning projections have no rule. With ``simulator``
    (an :class:`snn.Simulator` of this network), each carries that simulator's weights now,
    as an explicit :class:`snn.Sparse` list (same synapses, delays kept); without, the
    projections keep their connectivity as described. Weight probes and reward schedules
    are dropped."""
    frozen = Network(network.name)
    for node in [*network.populations.values(), *network.sources.values()]:
        frozen.add(node)
    for projection in network.projections:
        if projection.plasticity is not None:
            connectivity = projection.connectivity
            if simulator is not None:
                pre, post, weights = simulator.weights(projection.name)
                positions = simulator.plastic.positions[projection.name]
                delays = simulator.model.connectivity.delays
                steps = delays[positions] if delays.size else np.zeros(positions.size)
                connectivity = Sparse(pre=pre, post=post, weights=weights, delays=steps * simulator.dt)
            projection = dataclasses.replace(projection, connectivity=connectivity, plasticity=None)
        frozen.add_projection(projection)
    for current in network.currents:
        frozen.inject(current)
    for probe in network.probes:
        if probe.variable != PROBE_WEIGHTS:
            frozen.add_probe(probe)
    return frozen
