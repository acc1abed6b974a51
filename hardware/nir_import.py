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
  (presynaptic node, target); a chain of weight-like nodes (``Conv1d``, ``Conv2d``, ``SumPool2d``,
  ``AvgPool2d``, ``Flatten``, ``Scale``, ``Linear``, ``Affine``) between two neuron nodes -> one
  ``Sparse`` projection of the chain's map (:mod:`hardware.nir_operators`), multi-dimensional
  neuron nodes flattened row-major; an ``Affine`` bias -> ``i_bias`` (uniform) or a constant current,
  and into a CubaLIF's synaptic current -> a source firing every step into that current.
* a direct spike edge with no weight node -> one-to-one synapses of NIR weight 1.
* ``Output`` -> a probe of the node it reads (spikes, or ``v`` of an LI population).

A neuron node whose neurons differ in their parameters (per-neuron ``tau``, ``r``,
``v_leak``, ``v_threshold``, ``v_reset``, ``tau_syn``: a trained graph) becomes one population
per distinct parameter set, ``<node>_0``, ``<node>_1``, ... (:func:`split_by_parameters`;
``report.parts`` says which neurons each holds and :func:`hardware.nir.run_graph` reports
them under the node again).

Nested ``NIRGraph`` nodes are inlined first (:func:`flatten`). Anything else (Threshold, I,
per-neuron time constants of an LI synaptic-current node, a bias behind a delay or into an
LI current node) raises
:class:`snn.UnsupportedFeature` naming the node (every unknown node type at once, each with
its name and type).

:func:`from_nir_graph` is a sequence of small passes over a shared :class:`GraphMapping`
(:data:`PASSES`), after :func:`flatten`: conventions and adjacency, unknown nodes,
synaptic-current LI nodes, neurons and inputs, projections, biases into CubaLIF currents,
timing, populations with their biases, projections in order, probes.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from dataclasses import dataclass

import nir
import numpy as np
import scipy.sparse

from hardware.base import MappingReport
from hardware.nir_fields import (
    CURRENT_BASED,
    FOREIGN,
    METADATA_KEY,
    MODELS_OF,
    PRODUCERS,
    Conventions,
    conventions_from,
    gain,
    model_parameters,
    spike_area,
)
from hardware.nir_operators import OPERATOR_NODES, compose, operator
from snn.connectivity import AllToAll, Sparse
from snn.errors import UnsupportedFeature, ValidationError
from snn.inputs import Current, PoissonSource, SpikeSource
from snn.network import PROBE_SPIKES, Network, Population
from snn.synapses import Delta, Exponential

NEURON_NODES = tuple(MODELS_OF)
WEIGHT_NODES = OPERATOR_NODES  # Linear, Affine, Conv1d/2d, SumPool2d, AvgPool2d, Flatten, Scale


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
    _check_edges(graph)
    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            check_graph(node)
        else:
            _check_fields(name, node)
    _check_weight_rows(graph)
    _check_stateless_cycles(graph)


def _check_stateless_cycles(graph: nir.NIRGraph) -> None:
    """A loop must pass through a node with state (a neuron or a Delay): a loop of weight
    nodes alone is an equation with no order to evaluate it in."""
    stateful = (*NEURON_NODES, nir.Delay, nir.NIRGraph)
    stateless = {name for name, node in graph.nodes.items() if not isinstance(node, stateful)}
    after = {name: [b for a, b in graph.edges if a == name and b in stateless] for name in stateless}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            loop = path[path.index(name) :] + [name]
            raise ValidationError(
                "edges", f"the loop {' -> '.join(loop)} passes through no neuron or Delay node"
            )
        if name in done:
            return
        for other in after[name]:
            visit(other, [*path, name])
        done.add(name)

    for name in sorted(stateless):
        visit(name, [])


def _check_edges(graph: nir.NIRGraph) -> None:
    for index, edge in enumerate(graph.edges):
        if len(edge) != 2:
            raise ValidationError(f"edges[{index}]", f"must be a (source, target) pair, got {edge!r}")
        for end in edge:
            if end not in graph.nodes and str(end).split(".")[0] not in graph.nodes:
                raise ValidationError(
                    f"edges[{index}]", f"{edge[0]!r} -> {edge[1]!r} names a node not in the graph"
                )


def _check_fields(name: str, node) -> None:
    for field_name, value in vars(node).items():
        if not isinstance(value, np.ndarray) or field_name in ("input_type", "output_type"):
            continue
        if value.dtype.kind not in "biuf":
            raise ValidationError(
                f"nodes.{name}.{field_name}", f"must hold numbers, got {value.dtype} values"
            )
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise ValidationError(f"nodes.{name}.{field_name}", "must be finite (NaN or infinite entries)")


def _check_weight_rows(graph: nir.NIRGraph) -> None:
    nodes = graph.nodes
    for source, target in graph.edges:
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


@dataclass
class GraphMapping:
    """What the passes of :func:`from_nir_graph` share, filled in pass by pass.

    ``pre_of`` / ``post_of``: per node, the nodes its edges come from / go to; ``names``: per
    node, the name it gets in the network; ``currents``: per LI node that is a synaptic current,
    the neuron node it feeds; ``populations``: per neuron node, its population (not yet added);
    ``biases``: per population, the Affine biases into it (A); ``projections``: per projection
    ``(rank, name, pre, post, weights (n_pre, n_post), delays, synapse)``.
    """

    nodes: dict
    dt: float
    area: float
    meta: dict
    report: MappingReport
    network: Network
    conventions: Conventions = dataclasses.field(default_factory=Conventions)
    integration_of: dict[str, str] = dataclasses.field(default_factory=dict)  # recorded per node by us
    pre_of: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    post_of: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    names: dict[str, str] = dataclasses.field(default_factory=dict)
    currents: dict[str, str] = dataclasses.field(default_factory=dict)
    populations: dict[str, Population] = dataclasses.field(default_factory=dict)
    biases: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    current_biases: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # into CubaLIF currents
    depths: dict[str, int] = dataclasses.field(default_factory=dict)  # steps behind the producer
    projections: list = dataclasses.field(default_factory=list)
    # per neuron node whose neurons differ: its parts (snn.transform.Part), one per parameter set
    parts: dict[str, list] = dataclasses.field(default_factory=dict)

    def uniform(self, where: str, field_name: str, values: np.ndarray) -> float:
        """The one value of a per-neuron field (our populations share one value per field)."""
        if values.size and np.any(values != values.flat[0]):
            raise UnsupportedFeature(
                f"per-neuron {field_name} (node {where!r})",
                "nir",
                "our populations share one value per field",
            )
        return float(values.flat[0])

    def spiking(self, name: str) -> bool:
        """Whether node ``name`` emits spikes here (an Input, or a spiking population)."""
        return isinstance(self.nodes[name], nir.Input) or (
            name in self.populations and self.populations[name].model.spiking
        )

    def through_delay(self, name: str, forward: bool) -> list[tuple[str, str | None]]:
        """Neighbours of ``name``, looking through Delay nodes: ``(neighbour, delay node or None)``."""
        found = []
        edges = self.post_of if forward else self.pre_of
        for other in edges[name]:
            if isinstance(self.nodes[other], nir.Delay):
                found += [(far, other) for far in edges[other]]
            else:
                found.append((other, None))
        return found

    def delay_of(self, name: str | None, size: int) -> np.ndarray:
        """The delays (s) of Delay node ``name`` (none: zeros), one per neuron of ``size``."""
        return np.zeros(size) if name is None else array(self.nodes[name].delay) * np.ones(size)


class NIRConventionWarning(UserWarning):
    """A graph that does not say who wrote it is run under the producers' conventions."""


def choose_conventions(meta: dict, conventions=None, spikes: str | None = None) -> tuple[Conventions, str]:
    """The conventions to run a graph under, and where they come from: given (a producer's
    name, a mapping or a :class:`Conventions`), else recorded by us when we wrote the graph,
    else the producers' (:data:`hardware.nir_fields.FOREIGN`, with a :class:`NIRConventionWarning`:
    NIR graphs do not say who wrote them). ``spikes`` overrides the spike convention."""
    if conventions is not None:
        chosen, source = conventions_from(conventions), "given"
    elif meta:
        recorded = meta.get("conventions") or {"spikes": meta.get("spikes", "dirac")}
        chosen, source = conventions_from(dict(recorded)), "recorded by neurobridge"
    else:
        chosen, source = FOREIGN, "the producers' (the graph does not say who wrote it)"
        warnings.warn(
            f"this NIR graph does not say who wrote it: running it as snnTorch and Norse do "
            f"({chosen.describe()}); pass conventions= (a producer's name: "
            f"{', '.join(PRODUCERS)}) or --nir-convention to choose",
            NIRConventionWarning,
            stacklevel=5,  # the caller of hardware.nir.from_nir
        )
    if spikes is not None:
        chosen = dataclasses.replace(chosen, spikes=spikes)
    return chosen, source


def flatten(graph: nir.NIRGraph) -> nir.NIRGraph:
    """``graph`` with every nested ``NIRGraph`` node inlined: its nodes become ``<sub>.<node>``,
    an edge into the subgraph (``sub``, or ``sub.<input>``) goes to what its Input node feeds,
    an edge out of it (``sub``, or ``sub.<output>``) leaves from what feeds its Output node.
    Nested subgraphs are inlined first; the metadata of the outer graph is kept."""
    if not any(isinstance(node, nir.NIRGraph) for node in graph.nodes.values()):
        return graph
    nodes: dict = {}
    edges: list[tuple[str, str]] = []
    entries: dict[str, list[str]] = {}  # an outer reference to a subgraph input -> inner targets
    exits: dict[str, list[str]] = {}  # an outer reference to a subgraph output -> inner sources
    for name, node in graph.nodes.items():
        if not isinstance(node, nir.NIRGraph):
            nodes[name] = node
            continue
        inner = flatten(node)
        inputs = [n for n, x in inner.nodes.items() if isinstance(x, nir.Input)]
        outputs = [n for n, x in inner.nodes.items() if isinstance(x, nir.Output)]
        for n, x in inner.nodes.items():
            if n not in inputs and n not in outputs:
                nodes[f"{name}.{n}"] = x
        inner_edges = [(f"{name}.{a}", f"{name}.{b}") for a, b in inner.edges]
        for port in inputs:
            targets = [b for a, b in inner_edges if a == f"{name}.{port}"]
            entries[f"{name}.{port}"] = targets
            if len(inputs) == 1:
                entries[name] = targets
        for port in outputs:
            sources = [a for a, b in inner_edges if b == f"{name}.{port}"]
            exits[f"{name}.{port}"] = sources
            if len(outputs) == 1:
                exits[name] = sources
        ports = {f"{name}.{p}" for p in (*inputs, *outputs)}
        edges += [(a, b) for a, b in inner_edges if a not in ports and b not in ports]
    for a, b in graph.edges:
        for source in exits.get(a, [a]):
            for target in entries.get(b, [b]):
                edges.append((source, target))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=dict(graph.metadata or {}), type_check=False)


def broadcast_scalar_neurons(graph: nir.NIRGraph) -> nir.NIRGraph:
    """``graph`` with each neuron node whose parameters are all scalars (Sinabs writes them
    so; its importer turns them into arrays of one) given one value per neuron, its size
    read from a neighbouring Linear / Affine (rows of the one feeding it, else columns of
    the one it feeds). A node that no such neighbour sizes is refused, naming it."""
    nodes = dict(graph.nodes)
    changed = False
    for name, node in graph.nodes.items():
        if not isinstance(node, NEURON_NODES):
            continue
        fields = neuron_fields(node)
        # scalars, or arrays of one as Sinabs's importer leaves them
        if any(array(value).size != 1 for _, value in fields):
            continue
        sizes = [np.shape(array(graph.nodes[a].weight))[0] for a, b in graph.edges
                 if b == name and isinstance(graph.nodes[a], (nir.Linear, nir.Affine))]  # fmt: skip
        sizes += [np.shape(array(graph.nodes[b].weight))[1] for a, b in graph.edges
                  if a == name and isinstance(graph.nodes[b], (nir.Linear, nir.Affine))]  # fmt: skip
        if not sizes:
            raise UnsupportedFeature(
                f"neuron node {name!r} with scalar parameters and no Linear / Affine neighbour to size it",
                "nir",
            )
        if sizes[0] == 1:
            continue
        values = {field: np.full(sizes[0], float(array(value).ravel()[0])) for field, value in fields}
        nodes[name] = type(node)(**values, metadata=dict(node.metadata or {}))
        changed = True
    if not changed:
        return graph
    return nir.NIRGraph(
        nodes=nodes, edges=list(graph.edges), metadata=dict(graph.metadata or {}), type_check=False
    )


def neuron_fields(node) -> list[tuple[str, object]]:
    """A NIR neuron node's parameter fields and values (its dataclass fields but the types
    and metadata)."""
    skip = {"input_type", "output_type", "metadata"}
    return [(f.name, getattr(node, f.name)) for f in dataclasses.fields(node) if f.name not in skip]


def start_mapping(graph: nir.NIRGraph, dt: float, spikes: str | None, conventions=None) -> GraphMapping:
    """Pass 1: the conventions (:func:`choose_conventions`), the edges as adjacency lists
    and each node's name in the network."""
    meta = metadata(graph)
    chosen, source = choose_conventions(meta, conventions, spikes)
    area = spike_area(chosen.spikes, dt)
    report = MappingReport(backend="nir")
    report.converted.append(
        f"conventions ({source}): {chosen.describe()}; one spike has area {area} (dt = {dt} s)"
    )
    mapping = GraphMapping(
        graph.nodes, dt, area, meta, report, Network(clean_name(meta.get("name", "nir"))), chosen
    )
    if conventions is None and meta:
        mapping.integration_of = dict(meta.get("integration", {}))
    mapping.pre_of = {name: [] for name in graph.nodes}
    mapping.post_of = {name: [] for name in graph.nodes}
    for a, b in graph.edges:
        mapping.post_of[a].append(b)
        mapping.pre_of[b].append(a)
    mapping.names = {name: clean_name(name) for name in graph.nodes}
    return mapping


def refuse_unknown_nodes(mapping: GraphMapping) -> None:
    """Pass 2: every node type we do not map, all listed in one :class:`UnsupportedFeature`."""
    known = (nir.Input, nir.Output, nir.Delay, *NEURON_NODES, *WEIGHT_NODES)
    unknown = [f"{name!r} ({type(node).__name__})" for name, node in mapping.nodes.items()
               if not isinstance(node, known)]  # fmt: skip
    if unknown:
        what = "NIR node" if len(unknown) == 1 else f"{len(unknown)} NIR nodes"
        raise UnsupportedFeature(f"{what} {', '.join(unknown)}", "nir")


def find_synaptic_currents(mapping: GraphMapping) -> None:
    """Pass 3: an LI node whose one successor is a neuron node is that neuron's synaptic
    current (``Exponential(tau)``), the way we export several time constants into one population."""
    nodes, post_of = mapping.nodes, mapping.post_of
    mapping.currents = {
        name: post_of[name][0]
        for name, node in nodes.items()
        if isinstance(node, nir.LI)
        and len(post_of[name]) == 1
        and isinstance(nodes[post_of[name][0]], NEURON_NODES)
    }
    for name, target in mapping.currents.items():
        if np.any(array(nodes[name].v_leak) != 0):
            raise UnsupportedFeature(f"an LI node feeding {target!r} with v_leak != 0 ({name!r})", "nir")


def map_neurons_and_inputs(mapping: GraphMapping) -> None:
    """Pass 4: a population per neuron node (in our written order when we wrote the graph)
    and a spike source per Input (:func:`port_shape`)."""
    nodes, report = mapping.nodes, mapping.report
    order = mapping.meta.get("nodes", [])
    for name in sorted(nodes, key=lambda n: order.index(n) if n in order else len(order)):
        node = nodes[name]
        if isinstance(node, NEURON_NODES) and name not in mapping.currents:
            conventions = mapping.conventions
            if name in mapping.integration_of:
                conventions = dataclasses.replace(conventions, discretisation=mapping.integration_of[name])
            size = int(np.prod(neuron_shape(node)))
            groups = parameter_groups(node, size)
            models = [
                _model_of(node, conventions, size, np.flatnonzero(groups == g)[0])
                for g in range(groups.max() + 1)
            ]
            mapping.populations[name] = Population(name=mapping.names[name], size=size, model=models[0])
            report.converted.append(
                f"nir.{type(node).__name__} {name!r} -> {type(models[0]).__name__} population ({size})"
            )
            if len(models) > 1:
                mapping.parts[name] = _parts(mapping, name, node, groups, models)
        elif isinstance(node, nir.Input):
            shape = array(node.input_type["input"]).astype(int)
            size = int(np.prod(port_shape(node)))
            mapping.network.add(SpikeSource(name=mapping.names[name], size=size))
            report.converted.append(f"nir.Input {name!r} (shape {shape.tolist()}) -> spike source of {size}")
    mapping.biases = {name: np.zeros(p.size) for name, p in mapping.populations.items()}


def _synapse_into(mapping: GraphMapping, target: str, post: str):
    """The synapse of an edge into neuron node ``target`` (population ``post``; a split one's
    parts set their own, :func:`split_by_parameters`)."""
    nodes = mapping.nodes
    if isinstance(nodes[post], CURRENT_BASED):
        if post in mapping.parts:
            return mapping.parts[post][0].synapse
        return Exponential(tau_syn=mapping.uniform(post, "tau_syn", array(nodes[post].tau_syn)))
    if target != post:  # through an LI synaptic-current node
        return Exponential(tau_syn=mapping.uniform(target, "tau", array(nodes[target].tau)))
    return Delta()


def _add_bias(mapping: GraphMapping, name: str, bias, target: str, post: str, post_delay: str | None) -> None:
    """The bias (a constant current, A, per neuron of ``post``) that the weight nodes ending
    in ``name`` add to population ``post``: into its membrane, or into a CubaLIF's current."""
    if bias is None or not np.any(bias != 0):
        return
    if target != post or post_delay:
        raise UnsupportedFeature(
            f"a bias on {name!r} into an LI synaptic-current node or behind a delay ({target!r})",
            "nir",
            "a constant current drives the membrane or a CubaLIF's own current directly",
        )
    if isinstance(mapping.nodes[post], CURRENT_BASED):  # into the synaptic current
        mapping.current_biases[post] = mapping.current_biases.get(post, 0.0) + bias
    else:
        mapping.biases[post] = mapping.biases[post] + bias


def add_current_biases(mapping: GraphMapping) -> None:
    """Pass 6: an Affine bias ``b`` into a CubaLIF's synaptic current, ``tau_syn dI/dt = -I +
    w_in (W S + b)``, is an input to that current in every step: a source that fires every
    step (a Poisson source at ``1 / dt``, probability 1) with weights ``w_in b dt / tau_syn``,
    the bias's share of one step, so the current rises from 0 as it does in the producer."""
    for post, bias in mapping.current_biases.items():
        source = f"{post}.bias"
        mapping.names[source] = clean_name(f"{post}_bias")
        mapping.network.add(PoissonSource(name=mapping.names[source], size=1, rate=1.0 / mapping.dt))
        # NIR's equation, or (the "unit" input convention) the bias enters the current as an input
        unit = mapping.conventions.input == "unit"
        g = _unit_gain(mapping, post, post) if unit else gain(mapping.nodes[post], mapping.dt)
        weights = (g * bias)[None, :]  # (1, n_post)
        mapping.projections.append(
            (
                len(mapping.projections),
                f"{mapping.names[source]}_to_{mapping.names[post]}",
                source,
                post,
                weights,
                0.0,
                Delta(),
            )
        )
        mapping.report.converted.append(
            f"Affine bias into the synaptic current of {post!r} -> source {mapping.names[source]!r} firing "
            "every step into it (w_in b dt / tau_syn per step)"
        )


def _projection_delays(mapping: GraphMapping, name: str, pre_delay, post_delay, n_pre: int, n_post: int):
    """Delays (s) of a projection through weight node ``name`` behind/before Delay nodes:
    a scalar when all are equal, else ``(n_pre, n_post)``."""
    delays = mapping.delay_of(pre_delay, n_pre)[:, None] + mapping.delay_of(post_delay, n_post)[None, :]
    steps = delays / mapping.dt
    if np.any(np.abs(steps - np.rint(steps)) > 1e-6):
        mapping.report.approximated.append(f"delays of {name!r} rounded to whole steps of {mapping.dt} s")
    return float(delays.flat[0]) if np.all(delays == delays.flat[0]) else delays


def _projection_name(mapping: GraphMapping, name: str, pre: str, post: str, several: bool) -> tuple[int, str]:
    """(rank, name) of a projection: our written order and name where we wrote the graph
    (``w.<projection>``), else ``<weight node>_to_<post>``; unique within the network."""
    written = mapping.meta.get("projections", [])
    label = name[2:] if name.startswith("w.") else f"{name}_to_{post}"
    base = label.split(".d")[0]
    rank = written.index(base) if base in written else len(written) + len(mapping.projections)
    taken = {p[1] for p in mapping.projections}
    projection_name = clean_name(f"{label}_{pre}" if several else label)
    while projection_name in taken:
        projection_name += "_"
    return rank, projection_name


def port_shape(node: nir.Input) -> tuple[int, ...]:
    """An Input node's shape without a leading batch axis of 1 (Norse writes ``(1, n)`` and
    ``(1, C, H, W)``); its spike source has ``prod(shape)`` channels, row-major."""
    shape = tuple(int(n) for n in array(node.input_type["input"]).astype(int))
    return shape[1:] if len(shape) in (2, 4) and shape[0] == 1 else shape


def neuron_shape(node) -> tuple[int, ...]:
    """A neuron node's shape: that of its ``v_leak`` (``r`` for IF), which every neuron node
    has; its population has ``prod(shape)`` neurons, row-major."""
    return np.shape(array(node.v_leak if hasattr(node, "v_leak") else node.r))


def node_shape(mapping: GraphMapping, name: str) -> tuple[int, ...]:
    """The shape of what node ``name`` emits: an Input's port or a neuron node's shape."""
    node = mapping.nodes[name]
    if isinstance(node, nir.Input):
        return port_shape(node)
    if name in mapping.populations:
        return neuron_shape(node)
    raise ValidationError(f"nodes.{name}", "has no shape (not an Input or a neuron node)")


def _chain(mapping: GraphMapping, head: str) -> list[str]:
    """Weight nodes from ``head`` on, while each leads (with no Delay) to exactly one more."""
    chain = [head]
    while True:
        after = mapping.post_of[chain[-1]]
        if len(after) != 1 or not isinstance(mapping.nodes[after[0]], WEIGHT_NODES):
            return chain
        chain.append(after[0])


def _chain_map(mapping: GraphMapping, chain: list[str], in_shape: tuple[int, ...]):
    """``(M, b)`` of the chain for input shape ``in_shape``: ``M`` dense for one Linear/Affine
    (``(n_out, n_in)``, as before), sparse otherwise."""
    steps, shape = [], in_shape
    for name in chain:
        try:
            matrix, bias, shape = operator(mapping.nodes[name], shape)
        except ValidationError as error:
            raise ValidationError(f"nodes.{name}.{error.field}", error.message) from None
        steps.append((matrix, bias))
    matrix, bias = compose(steps)
    if len(chain) == 1 and isinstance(mapping.nodes[chain[0]], (nir.Linear, nir.Affine)):
        return matrix.toarray(), bias
    return matrix, bias


def map_projections(mapping: GraphMapping) -> None:
    """Pass 5: a projection per (presynaptic node, chain of weight nodes or a direct spike
    edge, target): the chain's one map ``M`` (:mod:`hardware.nir_operators`: ``Conv2d ->
    SumPool2d -> Flatten -> Affine`` is one matrix), weights ``g M``
    (:func:`hardware.nir_fields.gain`), delays from Delay nodes on either side."""
    nodes = mapping.nodes
    weight_nodes = [n for n in nodes if isinstance(nodes[n], WEIGHT_NODES)]
    # a chain starts at a weight node fed by no other weight node; the rest ride along
    heads = [
        n for n in weight_nodes if not any(isinstance(nodes[p], WEIGHT_NODES) for p in mapping.pre_of[n])
    ]
    direct = [n for n in nodes if mapping.spiking(n)]  # spike edges with no weight node: one-to-one, weight 1
    for name in [*heads, *direct]:
        is_weight = name in weight_nodes
        chain = _chain(mapping, name) if is_weight else [name]
        last = chain[-1]
        sources = mapping.through_delay(name, forward=False) if is_weight else [(name, None)]
        for target, post_delay in mapping.through_delay(last, forward=True):
            if not isinstance(nodes[target], NEURON_NODES):
                if not is_weight:
                    continue  # edges into weight nodes are read from the weight node; Outputs later
                raise UnsupportedFeature(
                    f"an edge from {last!r} into {type(nodes[target]).__name__} {target!r}", "nir"
                )
            post = mapping.currents.get(target, target)
            if post not in mapping.populations:
                raise UnsupportedFeature(
                    f"an edge into the synaptic-current node {target!r} from {last!r}", "nir"
                )
            for pre, _ in sources:
                if not mapping.spiking(pre):
                    raise UnsupportedFeature(f"a non-spike signal from {pre!r} into {name!r}", "nir")
            if is_weight:
                matrix, bias = _chain_map(mapping, chain, node_shape(mapping, sources[0][0]))
                _add_bias(mapping, last, bias, target, post, post_delay)
            else:
                matrix = np.eye(mapping.populations[post].size)
            if matrix.shape[0] != mapping.populations[post].size:
                raise ValidationError(
                    f"nodes.{last}", f"gives {matrix.shape[0]} values but feeds {target!r} with "
                    f"{mapping.populations[post].size} neurons"
                )  # fmt: skip
            synapse = _synapse_into(mapping, target, post)
            g = (
                _unit_gain(mapping, target, post)
                if mapping.conventions.input == "unit"
                else gain(nodes[target], mapping.area).ravel()
            )
            if isinstance(matrix, np.ndarray):
                weights = (matrix * g[:, None]).T  # (n_pre, n_post)
            else:
                weights = (scipy.sparse.diags(g) @ matrix).T.tocsr()
            for pre, pre_delay in sources:
                delays = _projection_delays(mapping, last, pre_delay, post_delay, *weights.shape)
                rank, projection_name = _projection_name(mapping, last, pre, post, len(sources) > 1)
                mapping.projections.append((rank, projection_name, pre, post, weights, delays, synapse))


def apply_timing(mapping: GraphMapping) -> None:
    """Pass 7: the producer's timing. Under ``"same-step"`` a layer sees its inputs' spikes of
    the same step, here of the step before; so each population runs ``depth`` steps behind
    the producer (its longest feed-forward path from an input), a projection that skips
    layers gets the missing steps as a delay, a population's own recurrent projection (one
    step in both) stays, and the report's ``step_offsets`` say how far behind each node is
    (:func:`hardware.nir.run_graph` shifts the results back). A loop through several
    populations cannot be reproduced this way and is refused."""
    if mapping.conventions.timing != "same-step":
        return
    depth = _depths(mapping)
    for index, (rank, name, pre, post, weights, delays, synapse) in enumerate(mapping.projections):
        if pre == post:
            continue
        missing = depth[post] - depth[pre] - 1
        if missing:
            mapping.projections[index] = (
                rank,
                name,
                pre,
                post,
                weights,
                delays + missing * mapping.dt,
                synapse,
            )
    mapping.depths = depth
    mapping.report.step_offsets = {mapping.names[node]: d for node, d in depth.items()}
    if any(depth.values()):
        mapping.report.converted.append(
            "same-step timing: each population runs as many steps behind the producer as its depth "
            f"({', '.join(f'{mapping.names[n]} {d}' for n, d in depth.items() if n in mapping.populations)})"
        )


def _depths(mapping: GraphMapping) -> dict[str, int]:
    """Per population and input: the longest path of projections from an input (inputs 0)."""
    feeds: dict[str, set[str]] = {name: set() for name in mapping.populations}
    for _, _, pre, post, *_ in mapping.projections:
        if pre != post:
            feeds[post].add(pre)
    depth = {name: 0 for name, node in mapping.nodes.items() if isinstance(node, nir.Input)}
    depth.update({f"{post}.bias": 0 for post in mapping.current_biases})  # sources, as inputs are
    visiting: list[str] = []

    def visit(name: str) -> int:
        if name in depth:
            return depth[name]
        if name in visiting:
            loop = visiting[visiting.index(name) :]
            raise UnsupportedFeature(
                f"same-step timing around the loop {' -> '.join(loop + [name])}",
                "nir",
                "a loop through several populations has no same-step order; import with timing='next-step'",
            )
        visiting.append(name)
        depth[name] = 1 + max((visit(pre) for pre in feeds[name]), default=-1)
        visiting.pop()
        return depth[name]

    for name in mapping.populations:
        visit(name)
    return depth


def add_populations(mapping: GraphMapping) -> None:
    """Pass 8: the populations into the network, each with its biases (a uniform one as
    ``i_bias``, per-neuron ones as a constant current)."""
    for name, pop in mapping.populations.items():
        bias = _bias_current(mapping, name, mapping.biases[name])
        depth = mapping.depths.get(name, 0)
        start = None
        if depth and np.any(bias):  # each part starts behind by its own free step
            start = np.empty(pop.size)
            for part in parts_of(mapping, name):
                behind = _start_behind(mapping, part.model, bias[part.neurons], depth)
                start[part.neurons] = (
                    part.model.constants(mapping.dt)["initial_v"] if behind is None else behind
                )
        if np.any(bias) and np.all(bias == bias[0]) and name not in mapping.parts:
            model = type(pop.model)(**{**_fields(pop.model), "i_bias": float(bias[0])})
            pop = Population(name=pop.name, size=pop.size, model=model, initial_v=start)
        elif start is not None:
            pop = Population(name=pop.name, size=pop.size, model=pop.model, initial_v=start)
        mapping.network.add(pop)
        if np.any(bias):
            if np.any(bias != bias[0]) or name in mapping.parts:  # the parts' models hold no i_bias
                mapping.network.inject(Current.constant(pop.name, bias))
            mapping.report.converted.append(f"Affine bias into {name!r} -> constant input current (A)")


def _unit_gain(mapping: GraphMapping, target: str, post: str) -> np.ndarray:
    """Per neuron of ``post``, our weight per NIR weight under the ``"unit"`` input convention:
    a spike adds its weight to v in the step it arrives (Sinabs), or, into a current-based
    node, to the synaptic current, which decays once before it adds to v in that step
    (Rockpool: ``i <- beta (i + W x)``, ``v <- alpha v + i``). With ``(decay, c)`` our
    model's channel (:meth:`~snn.models.base.NeuronModel.channel`: the slot's decay and its
    coefficient into v), that is ``1 / c`` for a delta jump and ``decay / c`` for a current."""
    if target != post:
        raise UnsupportedFeature(
            f"the 'unit' input convention through the synaptic-current node {target!r}", "nir",
            "Sinabs's and Rockpool's graphs feed a neuron node directly",
        )  # fmt: skip
    node = mapping.nodes[post]
    g = np.ones(mapping.populations[post].size)
    for part in parts_of(mapping, post):
        if isinstance(node, CURRENT_BASED):
            decay, coefficient = part.model.channel(_part_synapse(part, node, g.size), mapping.dt)
            g[part.neurons] = decay / coefficient
        else:
            g[part.neurons] = 1.0 / part.model.channel(Delta(), mapping.dt)[1]
    return g


def parts_of(mapping: GraphMapping, name: str) -> list:
    """Neuron node ``name``'s parts (:func:`split_by_parameters`), or the whole population as
    its one part."""
    from snn.transform import Part

    population = mapping.populations[name]
    return mapping.parts.get(name) or [Part(population.name, population.model, np.arange(population.size))]


def _part_synapse(part, node, size: int) -> Exponential:
    """The exponential current of a current-based node's ``part`` (its first neuron's tau_syn)."""
    if part.synapse is not None:
        return part.synapse
    return Exponential(tau_syn=float(np.broadcast_to(array(node.tau_syn).ravel(), (size,))[part.neurons[0]]))


def _bias_current(mapping: GraphMapping, name: str, bias: np.ndarray) -> np.ndarray:
    """The constant current (A) of node ``name``'s Affine biases ``bias``: the bias itself
    (NIR's equation), or under the ``"unit"`` input convention the current that adds ``b`` to
    v every step (``b / drive_gain`` of the neuron's model)."""
    if mapping.conventions.input != "unit" or not np.any(bias):
        return bias
    current = np.array(bias, dtype=np.float64)
    for part in parts_of(mapping, name):
        current[part.neurons] = bias[part.neurons] / part.model.constants(mapping.dt)["drive_gain"]
    return current


def _start_behind(mapping: GraphMapping, model, bias: np.ndarray, depth: int):
    """Initial potentials of a population that runs ``depth`` steps behind its producer
    (same-step timing) with a constant drive: its first ``depth`` steps, before any input
    can reach it, must bring it exactly to the producer's start, so it starts that many
    steps of its own free step earlier (``v <- (v - const_drive) / alpha``). None when no
    drive moves it (it rests at its start)."""
    if depth == 0 or not np.any(bias):
        return None
    values = model.constants(mapping.dt)
    drive = values["const_drive"] + values["drive_gain"] * bias
    v = np.full(bias.shape, float(values["initial_v"]))
    for _ in range(depth):
        v = (v - drive) / values["alpha"]
    return v


def add_projections(mapping: GraphMapping) -> None:
    """Pass 9: the projections into the network, in our written order where we wrote the graph
    (so the channels sum in the same order as in the exported network)."""
    names, report = mapping.names, mapping.report
    for _, name, pre, post, weights, delays, synapse in sorted(mapping.projections, key=lambda p: p[0]):
        if scipy.sparse.issparse(weights):  # a chain through convolutions or pooling: its synapses only
            coo = weights.tocoo()
            per_synapse = delays if np.ndim(delays) == 0 else np.asarray(delays)[coo.row, coo.col]
            connectivity = Sparse(pre=coo.row, post=coo.col, weights=coo.data, delays=per_synapse)
        else:
            connectivity = AllToAll(weights=weights, delays=delays)
        mapping.network.connect(names[pre], names[post], connectivity, synapse, name=name)
        report.converted.append(
            f"{name!r}: {names[pre]!r} -> {names[post]!r}, {type(synapse).__name__} synapses, weights w = g W"
        )
        report.synapses += int(weights.nnz if scipy.sparse.issparse(weights) else np.count_nonzero(weights))


def add_probes(mapping: GraphMapping) -> None:
    """Pass 10: each Output becomes a probe of the node it reads (spikes, or ``v`` of an LI)."""
    for name, node in mapping.nodes.items():
        if not isinstance(node, nir.Output):
            continue
        for pre in mapping.pre_of[name]:
            label = name[4:] if name.startswith("out.") else name
            variable = PROBE_SPIKES
            if pre in mapping.populations and not mapping.populations[pre].model.spiking:
                variable = "v"
            elif pre not in mapping.populations and not isinstance(mapping.nodes[pre], nir.Input):
                raise UnsupportedFeature(
                    f"an Output {name!r} of {type(mapping.nodes[pre]).__name__} {pre!r}", "nir"
                )
            mapping.network.probe(mapping.names[pre], variable, name=clean_name(label))
            mapping.report.converted.append(
                f"nir.Output {name!r} -> probe {variable!r} of {mapping.names[pre]!r}"
            )


def split_by_parameters(mapping: GraphMapping) -> None:
    """Pass 11: each population whose neurons differ in their parameters becomes its parts
    (:func:`snn.transform.split_population`: projections, currents, initial potentials and
    probes follow), recorded in ``report.parts`` and ``report.step_offsets``."""
    from snn.transform import split_population

    for node, parts in mapping.parts.items():
        population = mapping.names[node]
        mapping.network = split_population(mapping.network, population, parts)
        mapping.report.parts[population] = [{"name": p.name, "neurons": p.neurons.tolist()} for p in parts]
        if population in mapping.report.step_offsets:
            for part in parts:
                mapping.report.step_offsets[part.name] = mapping.report.step_offsets[population]
        mapping.report.converted.append(
            f"per-neuron parameters of {node!r} -> {len(parts)} populations "
            f"({', '.join(f'{p.name} ({p.neurons.size})' for p in parts)})"
        )


def parameter_groups(node, size: int) -> np.ndarray:
    """Per neuron (row-major), the index of its parameter set among the node's distinct
    ones, numbered by first appearance (all 0 when the neurons share one set)."""
    names = [f for f in ("tau", "tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "v_reset", "w_in")
             if hasattr(node, f)]  # fmt: skip
    table = np.stack([np.broadcast_to(array(getattr(node, f)).ravel(), (size,)) for f in names], axis=1)
    _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))  # renumber the groups by their first neuron
    return rank[inverse.ravel()]


def _model_of(node, conventions, size: int, neuron: int):
    """Our model for the parameters of ``neuron`` of ``node``."""
    cls, kwargs = model_parameters(
        node, lambda _field, values: float(np.broadcast_to(np.ravel(values), (size,))[neuron]), conventions
    )
    return cls(**kwargs)


def _parts(mapping: GraphMapping, name: str, node, groups: np.ndarray, models: list) -> list:
    from snn.transform import Part

    parts = []
    for g, model in enumerate(models):
        neurons = np.flatnonzero(groups == g)
        part = Part(f"{mapping.names[name]}_{g}", model, neurons)
        if isinstance(node, CURRENT_BASED):
            part = dataclasses.replace(part, synapse=_part_synapse(part, node, groups.size))
        parts.append(part)
    return parts


#: The passes of :func:`from_nir_graph`, in order (each one small and tested on its own)
PASSES = (
    refuse_unknown_nodes,
    find_synaptic_currents,
    map_neurons_and_inputs,
    map_projections,
    add_current_biases,
    apply_timing,
    add_populations,
    add_projections,
    add_probes,
    split_by_parameters,
)


def from_nir_graph(graph: nir.NIRGraph, dt: float, spikes: str | None,
                   conventions=None) -> tuple[Network, MappingReport]:  # fmt: skip
    """The conversion proper (see the module docstring): :func:`start_mapping`, then :data:`PASSES`."""
    mapping = start_mapping(broadcast_scalar_neurons(flatten(graph)), dt, spikes, conventions)
    for run_pass in PASSES:
        run_pass(mapping)
    mapping.report.neurons = mapping.network.n_neurons
    return mapping.network, mapping.report


def _fields(model) -> dict:
    values = model.to_dict()
    values.pop("model")
    return values
