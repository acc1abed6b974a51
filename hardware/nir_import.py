"""``nir.NIRGraph`` -> ``snn.Network``: graphs written by us, snnTorch, Norse or any NIR producer.

Nodes map as follows (units in :mod:`hardware.nir_fields`):

* ``Input`` -> an empty :class:`snn.SpikeSource` of the port's size (a leading batch axis of 1, as
  Norse writes, is dropped); the runner supplies its spikes.
* ``LIF`` / ``IF`` / ``LI`` -> a population of our LIF / IF / LI (``tau_ref = 0``, reset to value).
* ``CubaLIF`` -> our :class:`snn.CubaLIF` (1:1); ``CubaLI`` -> our LI whose incoming projections get
  ``Exponential(tau_syn)``.
* an ``LI`` whose every successor is a neuron node -> the ``Exponential(tau)`` synaptic current
  of that neuron (how we export several synaptic time constants into one population).
* ``Linear`` / ``Affine`` (optionally behind or before a ``Delay``) -> an ``AllToAll`` projection per
  (presynaptic node, target); an ``Affine`` bias -> ``i_bias`` (uniform) or a constant current.
* a direct spike edge with no weight node -> one-to-one synapses of NIR weight 1.
* ``Output`` -> a probe of the node it reads (spikes, or ``v`` of an LI population).

Anything else (convolutions, pooling, Flatten, Threshold, I, Scale, subgraphs, per-neuron time
constants, a bias into a current-based node) raises :class:`snn.UnsupportedFeature` naming the node.
"""

from __future__ import annotations

import json

import nir
import numpy as np

from hardware.base import MappingReport
from hardware.nir_fields import METADATA_KEY, MODELS_OF, gain, model_parameters, spike_area
from snn.connectivity import AllToAll
from snn.errors import UnsupportedFeature, ValidationError
from snn.inputs import Current, SpikeSource
from snn.network import PROBE_SPIKES, Network, Population
from snn.synapses import Delta, Exponential

NEURON_NODES = tuple(MODELS_OF)
WEIGHT_NODES = (nir.Linear, nir.Affine)


def array(value) -> np.ndarray:
    """A float64 numpy array from a numpy array, scalar or torch tensor (peers keep tensors in nodes)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def clean_name(name: str) -> str:
    """A name our Network accepts: letters, digits, '_' and '-' (other characters become '_')."""
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in str(name))
    return cleaned or "node"


def metadata(graph: nir.NIRGraph) -> dict:
    """What we stored in the graph's metadata when we wrote it (empty for other producers)."""
    raw = (graph.metadata or {}).get(METADATA_KEY)
    if raw is None:
        return {}
    try:
        if isinstance(raw, bytes):
            raw = raw.decode()
        stored = json.loads(raw) if isinstance(raw, str) else None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationError(f"metadata.{METADATA_KEY}", f"is not valid JSON ({error})") from None
    if not isinstance(stored, dict):
        raise ValidationError(f"metadata.{METADATA_KEY}", f"must be a JSON object, got {type(raw).__name__}")
    return stored


def check_graph(graph: nir.NIRGraph) -> None:
    """Checks of a graph as any producer (or a corrupted file) may hand it over, before mapping.

    Every edge joins two nodes of the graph; every array field of every node holds finite
    numbers; a Linear or Affine node's weight has as many rows as the neuron node it feeds
    has neurons. Each failure is a ValidationError naming the node and the field.
    """
    nodes = graph.nodes
    for index, edge in enumerate(graph.edges):
        if len(edge) != 2:
            raise ValidationError(f"edges[{index}]", f"must be a (source, target) pair, got {edge!r}")
        for end in edge:
            if end not in nodes and str(end).split(".")[0] not in nodes:
                raise ValidationError(
                    f"edges[{index}]", f"{edge[0]!r} -> {edge[1]!r} names a node not in the graph"
                )
    for name, node in nodes.items():
        if isinstance(node, nir.NIRGraph):
            check_graph(node)
            continue
        for field, value in vars(node).items():
            if not isinstance(value, np.ndarray) or field in ("input_type", "output_type"):
                continue
            if value.dtype.kind not in "biuf":
                raise ValidationError(f"nodes.{name}.{field}", f"must hold numbers, got {value.dtype} values")
            if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
                raise ValidationError(f"nodes.{name}.{field}", "must be finite (NaN or infinite entries)")
    for source, target in (edge for edge in graph.edges if len(edge) == 2):
        weight = getattr(nodes.get(source), "weight", None)
        if (
            not isinstance(nodes.get(source), (nir.Linear, nir.Affine))
            or weight is None
            or np.ndim(weight) != 2
        ):
            continue
        size = _neuron_count(nodes.get(target))
        if size is not None and np.shape(weight)[0] != size:
            raise ValidationError(
                f"nodes.{source}.weight",
                f"has {np.shape(weight)[0]} rows but feeds {target!r} with {size} neurons",
            )


def _neuron_count(node) -> int | None:
    """Neurons of a neuron node (the size of its threshold or time constant), else None."""
    for field in ("v_threshold", "tau", "tau_mem", "r"):
        value = getattr(node, field, None)
        if isinstance(value, np.ndarray) and value.ndim == 1:
            return value.size
    return None


def from_nir_graph(graph: nir.NIRGraph, dt: float, spikes: str | None) -> tuple[Network, MappingReport]:
    """The conversion proper (see the module docstring)."""
    meta = metadata(graph)
    spikes = spikes or meta.get("spikes", "dirac")
    area = spike_area(spikes, dt)
    report = MappingReport(backend="nir")
    report.converted.append(f"spike convention {spikes!r}: one spike has area {area} (dt = {dt} s)")
    nodes = graph.nodes
    for name, node in nodes.items():
        if not isinstance(node, (nir.Input, nir.Output, nir.Delay, *NEURON_NODES, *WEIGHT_NODES)):
            raise UnsupportedFeature(f"NIR node {name!r} of type {type(node).__name__}", "nir")
    pre_of: dict[str, list[str]] = {name: [] for name in nodes}
    post_of: dict[str, list[str]] = {name: [] for name in nodes}
    for a, b in graph.edges:
        post_of[a].append(b)
        pre_of[b].append(a)

    currents = {
        name: post_of[name][0]
        for name, node in nodes.items()
        if isinstance(node, nir.LI)
        and len(post_of[name]) == 1
        and isinstance(nodes[post_of[name][0]], NEURON_NODES)
    }
    for name, target in currents.items():
        if np.any(array(nodes[name].v_leak) != 0):
            raise UnsupportedFeature(f"an LI node feeding {target!r} with v_leak != 0 ({name!r})", "nir")

    def uniform(where: str, field: str, values: np.ndarray) -> float:
        if values.size and np.any(values != values.flat[0]):
            raise UnsupportedFeature(
                f"per-neuron {field} (node {where!r})", "nir", "our populations share one value per field"
            )
        return float(values.flat[0])

    populations: dict[str, Population] = {}
    order = meta.get("nodes", [])
    ranked = sorted(nodes, key=lambda n: order.index(n) if n in order else len(order))
    names = {name: clean_name(name) for name in nodes}
    network = Network(clean_name(meta.get("name", "nir")))
    for name in ranked:
        node = nodes[name]
        if isinstance(node, NEURON_NODES) and name not in currents:
            cls, kwargs = model_parameters(node, lambda field, values, n=name: uniform(n, field, values))
            size = int(array(node.v_leak if hasattr(node, "v_leak") else node.r).size)
            populations[name] = Population(name=names[name], size=size, model=cls(**kwargs))
            report.converted.append(
                f"nir.{type(node).__name__} {name!r} -> {cls.__name__} population ({size})"
            )
        elif isinstance(node, nir.Input):
            shape = array(node.input_type["input"]).astype(int)
            size = int(shape[-1]) if shape.size > 1 and np.prod(shape[:-1]) == 1 else int(np.prod(shape))
            network.add(SpikeSource(name=names[name], size=size))
            report.converted.append(f"nir.Input {name!r} (shape {shape.tolist()}) -> spike source of {size}")

    def delay_of(name: str | None, size: int) -> np.ndarray:
        return np.zeros(size) if name is None else array(nodes[name].delay) * np.ones(size)

    def through_delay(name: str, forward: bool) -> list[tuple[str, str | None]]:
        """Neighbours of ``name``, looking through Delay nodes: ``(neighbour, delay node or None)``."""
        found = []
        for other in (post_of if forward else pre_of)[name]:
            if isinstance(nodes[other], nir.Delay):
                found += [(far, other) for far in (post_of if forward else pre_of)[other]]
            else:
                found.append((other, None))
        return found

    biases: dict[str, np.ndarray] = {name: np.zeros(p.size) for name, p in populations.items()}
    projections = []  # (rank, name, pre, post, weights (n_pre, n_post), delays, synapse)
    written = meta.get("projections", [])  # our projection order, so channels sum in the same order
    taken: set[str] = set()
    weight_nodes = [n for n in nodes if isinstance(nodes[n], WEIGHT_NODES)]
    # spike edges without a weight node are one-to-one with weight 1
    direct = [
        n
        for n in nodes
        if isinstance(nodes[n], nir.Input) or (n in populations and populations[n].model.spiking)
    ]
    for name in [*weight_nodes, *direct]:
        node = nodes[name]
        is_weight = name in weight_nodes
        sources = through_delay(name, forward=False) if is_weight else [(name, None)]
        for target, post_delay in through_delay(name, forward=True):
            if not is_weight and not isinstance(nodes[target], NEURON_NODES):
                continue  # edges into weight nodes are read from the weight node; Outputs below
            if not isinstance(nodes[target], NEURON_NODES):
                raise UnsupportedFeature(
                    f"an edge from {name!r} into {type(nodes[target]).__name__} {target!r}", "nir"
                )
            post = currents.get(target, target)
            if post not in populations:
                raise UnsupportedFeature(
                    f"an edge into the synaptic-current node {target!r} from {name!r}", "nir"
                )
            weight = array(node.weight) if is_weight else np.eye(populations[post].size)
            n_post, n_pre = weight.shape
            if is_weight and isinstance(node, nir.Affine) and np.any(array(node.bias) != 0):
                if target != post or isinstance(nodes[post], (nir.CubaLIF, nir.CubaLI)) or post_delay:
                    raise UnsupportedFeature(
                        f"a bias on {name!r} into the synaptic current or behind a delay ({target!r})",
                        "nir",
                        "our constant currents drive the membrane directly",
                    )
                biases[post] = biases[post] + array(node.bias)
            if isinstance(nodes[post], (nir.CubaLIF, nir.CubaLI)):
                synapse = Exponential(tau_syn=uniform(post, "tau_syn", array(nodes[post].tau_syn)))
            elif target != post:
                synapse = Exponential(tau_syn=uniform(target, "tau", array(nodes[target].tau)))
            else:
                synapse = Delta()
            g = gain(nodes[target], area)
            for pre, pre_delay in sources:
                pre_node = nodes[pre]
                if not (
                    isinstance(pre_node, nir.Input) or (pre in populations and populations[pre].model.spiking)
                ):
                    raise UnsupportedFeature(f"a non-spike signal from {pre!r} into {name!r}", "nir")
                delays = delay_of(pre_delay, n_pre)[:, None] + delay_of(post_delay, n_post)[None, :]
                steps = delays / dt
                if np.any(np.abs(steps - np.rint(steps)) > 1e-6):
                    report.approximated.append(f"delays of {name!r} rounded to whole steps of {dt} s")
                label = name[2:] if name.startswith("w.") else f"{name}_to_{post}"
                base = label.split(".d")[0]
                rank = written.index(base) if base in written else len(written) + len(projections)
                projection_name = clean_name(label if len(sources) == 1 else f"{label}_{pre}")
                while projection_name in taken:
                    projection_name += "_"
                taken.add(projection_name)
                delays_value = float(delays.flat[0]) if np.all(delays == delays.flat[0]) else delays
                projections.append(
                    (rank, projection_name, pre, post, (weight * g[:, None]).T, delays_value, synapse)
                )

    for name, pop in populations.items():
        b = biases[name]
        if np.any(b) and np.all(b == b[0]):
            model = type(pop.model)(**{**_fields(pop.model), "i_bias": float(b[0])})
            pop = Population(name=pop.name, size=pop.size, model=model)
        network.add(pop)
        if np.any(b):
            if np.any(b != b[0]):
                network.inject(Current.constant(pop.name, b))
            report.converted.append(f"Affine bias into {name!r} -> constant input current (A)")
    for _, name, pre, post, weights, delays, synapse in sorted(projections, key=lambda p: p[0]):
        network.connect(names[pre], names[post], AllToAll(weights=weights, delays=delays), synapse, name=name)
        report.converted.append(
            f"{name!r}: {names[pre]!r} -> {names[post]!r}, {type(synapse).__name__} synapses, weights w = g W"
        )
        report.synapses += int(np.count_nonzero(weights))
    for name, node in nodes.items():
        if not isinstance(node, nir.Output):
            continue
        for pre in pre_of[name]:
            label = name[4:] if name.startswith("out.") else name
            variable = PROBE_SPIKES
            if pre in populations and not populations[pre].model.spiking:
                variable = "v"
            elif pre not in populations and not isinstance(nodes[pre], nir.Input):
                raise UnsupportedFeature(f"an Output {name!r} of {type(nodes[pre]).__name__} {pre!r}", "nir")
            network.probe(names[pre], variable, name=clean_name(label))
            report.converted.append(f"nir.Output {name!r} -> probe {variable!r} of {names[pre]!r}")
    report.neurons = network.n_neurons
    return network, report


def _fields(model) -> dict:
    values = model.to_dict()
    values.pop("model")
    return values
