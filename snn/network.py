"""``snn.Network``: the backend-neutral description of a spiking model.

A Network is data: populations of neurons, spike sources, projections between them,
injected currents and probes. Each piece validates itself on construction and the
Network checks how the pieces fit (names exist, shapes match) as they are added, so a
bad description fails at the line that made it, naming the field.

Example
-------
>>> import snn
>>> net = snn.Network()
>>> net.add(snn.Population(name="exc", size=10, model=snn.LIF()))
Population(name='exc', size=10, ...)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snn import validate
from snn.connectivity import Connectivity
from snn.errors import ValidationError
from snn.inputs import SPIKE_SOURCES, Current, Reward, SpikeSourceBase
from snn.neurons import NeuronModel
from snn.synapses import Delta, Exponential, Synapse


@dataclass(frozen=True, kw_only=True)
class Uniform:
    """Values drawn independently and uniformly from ``[low, high)`` (same units as the field)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "low", validate.finite("Uniform.low", self.low))
        object.__setattr__(self, "high", validate.finite("Uniform.high", self.high))
        if self.high < self.low:
            raise ValidationError("Uniform.high", f"must be >= low ({self.low}), got {self.high}")


@dataclass(frozen=True, kw_only=True, eq=False)
class Population:
    """``size`` neurons sharing one neuron ``model``.

    ``initial_v`` (V): None (every neuron starts at its reset (IF) or resting (LIF, LI)
    value), a scalar, one value per neuron, or :class:`Uniform` drawn from the run's seed.
    ``dendrites``: None, or :class:`snn.htm.spiking.DistalSegments`, which makes the
    neurons dendritic-segment cells of a temporal memory (see :mod:`snn.htm.spiking`).
    """

    name: str
    size: int
    model: NeuronModel
    initial_v: object = None
    dendrites: object = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", validate.name("Population.name", self.name))
        object.__setattr__(self, "size", validate.count("Population.size", self.size))
        if not isinstance(self.model, NeuronModel):
            raise ValidationError(
                "Population.model", f"must be a neuron model (LIF, ALIF, IF, LI), got {self.model!r}"
            )
        if self.initial_v is not None and not isinstance(self.initial_v, Uniform):
            initial = validate.finite_array("Population.initial_v", self.initial_v)
            if initial.ndim and initial.shape != (self.size,):
                raise ValidationError(
                    "Population.initial_v", f"must be a scalar or have shape ({self.size},)"
                )
            object.__setattr__(self, "initial_v", initial if initial.ndim else float(initial))
        if self.dendrites is not None:
            from snn.htm.spiking import DistalSegments

            if not isinstance(self.dendrites, DistalSegments):
                raise ValidationError(
                    "Population.dendrites",
                    f"must be None or snn.htm.spiking.DistalSegments, got {type(self.dendrites).__name__}",
                )
            self.dendrites.check_population("Population", self.size, self.model)

    def __repr__(self) -> str:
        return f"Population(name={self.name!r}, size={self.size}, model={self.model!r})"


@dataclass(frozen=True, kw_only=True, eq=False)
class Projection:
    """Synapses from node ``pre`` (population or spike source) to population ``post``.

    ``plasticity``: a learning rule (:mod:`snn.plasticity`) that changes the weights
    online, or None (static weights).
    """

    name: str
    pre: str
    post: str
    connectivity: Connectivity
    synapse: Synapse = field(default_factory=Delta)
    plasticity: object = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", validate.name("Projection.name", self.name))
        object.__setattr__(self, "pre", validate.name("Projection.pre", self.pre))
        object.__setattr__(self, "post", validate.name("Projection.post", self.post))
        from snn.connectivity import CONNECTIVITIES

        if not isinstance(self.connectivity, tuple(CONNECTIVITIES.values())):
            raise ValidationError(
                "Projection.connectivity",
                f"must be one of {sorted(CONNECTIVITIES)}, got {type(self.connectivity).__name__}",
            )
        if not isinstance(self.synapse, (Delta, Exponential)):
            raise ValidationError(
                "Projection.synapse", f"must be Delta() or Exponential(tau_syn), got {self.synapse!r}"
            )
        if self.plasticity is not None:
            from snn.plasticity import RULES

            if not isinstance(self.plasticity, tuple(RULES.values())):
                raise ValidationError(
                    "Projection.plasticity",
                    f"must be a rule of snn.plasticity ({', '.join(RULES)}) or None, got {self.plasticity!r}",
                )


PROBE_SPIKES = "spikes"
PROBE_WEIGHTS = "weights"  # a learning projection's weights (Network.probe_weights); AdEx has a "w"


@dataclass(frozen=True, kw_only=True, eq=False)
class Probe:
    """Records ``variable`` of node ``target``.

    ``variable``: ``"spikes"``, a state variable of the neuron model (``"v"``, ``"b"`` for
    ALIF), ``"i_syn"`` (sum of the exponential synapses' currents, A; delta synapses carry
    no current) or ``"i_ext"`` (injected current, A).
    ``neurons``: indices to record (default all). ``every``: record each ``every``-th step
    (state probes only).
    """

    name: str
    target: str
    variable: str = PROBE_SPIKES
    neurons: object = None
    every: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", validate.name("Probe.name", self.name))
        object.__setattr__(self, "target", validate.name("Probe.target", self.target))
        object.__setattr__(self, "every", validate.count("Probe.every", self.every))
        if self.neurons is not None:
            neurons = validate.as_array("Probe.neurons", self.neurons).ravel()
            if neurons.size == 0 or not np.issubdtype(neurons.dtype, np.integer):
                raise ValidationError("Probe.neurons", "must be a non-empty list of integer indices")
            object.__setattr__(self, "neurons", neurons.astype(np.int64))


class Network:
    """A container of populations, spike sources, projections, currents, reward schedules
    and probes.

    Nodes (populations and spike sources) share one namespace. Methods return what they
    add, so ``exc = net.add(Population(...))`` reads naturally.
    """

    def __init__(self, name: str = "network") -> None:
        self.name = validate.name("Network.name", name)
        self.populations: dict[str, Population] = {}
        self.sources: dict[str, SpikeSourceBase] = {}
        self.projections: list[Projection] = []
        self.currents: list[Current] = []
        self.rewards: list[Reward] = []
        self.probes: list[Probe] = []

    # ---- nodes -------------------------------------------------------------------
    def add(self, node):
        """Add a Population or a spike source; names must be unique."""
        if not isinstance(node, (Population, *SPIKE_SOURCES)):
            raise ValidationError(
                "Network.add", f"expects a Population or spike source, got {type(node).__name__}"
            )
        if node.name in self.populations or node.name in self.sources:
            raise ValidationError(
                f"{type(node).__name__}.name", f"{node.name!r} is already used in this network"
            )
        if isinstance(node, Population):
            self.populations[node.name] = node
        else:
            self.sources[node.name] = node
        return node

    def node_size(self, name: str, field_name: str) -> int:
        if name in self.populations:
            return self.populations[name].size
        if name in self.sources:
            return self.sources[name].size
        known = sorted([*self.populations, *self.sources])
        raise ValidationError(field_name, f"no node named {name!r}; known nodes: {known}")

    # ---- edges -------------------------------------------------------------------
    def connect(
        self,
        pre: str,
        post: str,
        connectivity: Connectivity,
        synapse: Synapse | None = None,
        name: str | None = None,
        plasticity=None,
    ) -> Projection:
        """Add a projection from node ``pre`` to population ``post`` (``plasticity``: a
        learning rule of :mod:`snn.plasticity`, or None)."""
        index = len(self.projections)
        projection = Projection(
            name=name or f"{pre}_to_{post}_{index}",
            pre=pre,
            post=post,
            connectivity=connectivity,
            synapse=synapse if synapse is not None else Delta(),
            plasticity=plasticity,
        )
        return self.add_projection(projection)

    def add_projection(self, projection: Projection) -> Projection:
        where = f"projections[{projection.name}]"
        n_pre = self.node_size(projection.pre, f"{where}.pre")
        if projection.post not in self.populations:
            raise ValidationError(
                f"{where}.post", f"must name a population; known: {sorted(self.populations)}"
            )
        post = self.populations[projection.post]
        if not post.model.spiking and projection.pre == projection.post:
            raise ValidationError(f"{where}.pre", "a non-spiking population cannot project to itself")
        if projection.pre in self.populations and not self.populations[projection.pre].model.spiking:
            raise ValidationError(
                f"{where}.pre", f"{projection.pre!r} is non-spiking (LI) and emits no spikes"
            )
        if any(p.name == projection.name for p in self.projections):
            raise ValidationError(f"{where}.name", "is already used")
        if projection.plasticity is not None and not post.model.spiking:
            raise ValidationError(
                f"{where}.plasticity",
                f"{type(projection.plasticity).__name__} needs the postsynaptic spikes, and "
                f"{projection.post!r} ({type(post.model).__name__}) emits none",
            )
        try:  # a model with its own synaptic current (CubaLIF) accepts only that one
            post.model.input_synapse(projection.synapse)
        except ValidationError as error:
            raise error.located(where) from None
        projection.connectivity.check_shape(
            f"{where}.connectivity", n_pre, post.size, same=projection.pre == projection.post
        )
        self.projections.append(projection)
        return projection

    def inject(self, current: Current) -> Current:
        """Add an injected current; its target must be a population."""
        if current.target not in self.populations:
            raise ValidationError(
                "Current.target", f"must name a population; known: {sorted(self.populations)}"
            )
        size = self.populations[current.target].size
        columns = current.amplitudes.shape[1]
        if current.neurons is not None:
            validate.indices("Current.neurons", current.neurons, size)
        elif columns not in (1, size):
            raise ValidationError(
                "Current.amplitudes", f"must have 1 or {size} columns (population size), got {columns}"
            )
        self.currents.append(current)
        return current

    def add_reward(self, reward: Reward) -> Reward:
        """Add a reward schedule; its projection must learn with
        :class:`~snn.plasticity.RewardSTDP`."""
        from snn.plasticity import RewardSTDP

        rewarded = [p.name for p in self.projections if isinstance(p.plasticity, RewardSTDP)]
        if reward.projection not in rewarded:
            raise ValidationError(
                "Reward.projection", f"must name a RewardSTDP projection; those here: {rewarded}"
            )
        self.rewards.append(reward)
        return reward

    def probe(
        self,
        target: str,
        variable: str = PROBE_SPIKES,
        *,
        neurons=None,
        every: int = 1,
        name: str | None = None,
    ) -> Probe:
        """Record ``variable`` of ``target``; see :class:`Probe`."""
        probe = Probe(
            name=name or f"{target}_{variable}",
            target=target,
            variable=variable,
            neurons=neurons,
            every=every,
        )
        return self.add_probe(probe)

    def probe_weights(
        self, projection: str, *, synapses=None, every: int = 1, name: str | None = None
    ) -> Probe:
        """Record the weights of a learning projection every ``every`` steps; ``synapses``:
        indices into the projection's synapses (its own order, as
        :meth:`snn.Simulator.weights` lists them; default all)."""
        probe = Probe(
            name=name or f"{projection}_weights",
            target=projection,
            variable=PROBE_WEIGHTS,
            neurons=synapses,
            every=every,
        )
        return self.add_probe(probe)

    def add_probe(self, probe: Probe) -> Probe:
        where = f"probes[{probe.name}]"
        if probe.variable == PROBE_WEIGHTS:
            learning = [p for p in self.projections if p.name == probe.target and p.plasticity is not None]
            if not learning:
                names = [p.name for p in self.projections if p.plasticity is not None]
                raise ValidationError(
                    f"{where}.target", f"weights are probed on a learning projection; those here: {names}"
                )
            if any(p.name == probe.name for p in self.probes):
                raise ValidationError(f"{where}.name", "is already used")
            self.probes.append(probe)  # synapse indices are checked when built (random connectivity)
            return probe
        size = self.node_size(probe.target, f"{where}.target")
        if probe.variable != PROBE_SPIKES:
            if probe.target not in self.populations:
                raise ValidationError(f"{where}.variable", "spike sources only have 'spikes'")
            allowed = (*self.populations[probe.target].model.state_variables, "i_syn", "i_ext")
            if probe.variable not in allowed:
                raise ValidationError(
                    f"{where}.variable", f"must be one of {(PROBE_SPIKES, *allowed)}, got {probe.variable!r}"
                )
        elif probe.target in self.populations and not self.populations[probe.target].model.spiking:
            raise ValidationError(f"{where}.variable", f"{probe.target!r} is non-spiking; probe 'v' instead")
        if probe.neurons is not None:
            validate.indices(f"{where}.neurons", probe.neurons, size)
        if any(p.name == probe.name for p in self.probes):
            raise ValidationError(f"{where}.name", "is already used")
        self.probes.append(probe)
        return probe

    # ---- summaries ---------------------------------------------------------------
    @property
    def n_neurons(self) -> int:
        return sum(p.size for p in self.populations.values())

    def __repr__(self) -> str:
        return (
            f"Network({self.name!r}: {len(self.populations)} populations, {self.n_neurons} neurons, "
            f"{len(self.sources)} sources, {len(self.projections)} projections, {len(self.probes)} probes)"
        )
