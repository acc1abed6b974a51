"""What every backend adapter offers: capabilities, a pre-flight check, run, deploy.

An adapter translates the one :class:`snn.Network` into its simulator's objects; it never
keeps a second model description. :meth:`Backend.check` walks the network against
:class:`Capabilities` and raises :class:`snn.UnsupportedFeature` naming the first part the
backend cannot express, *before* anything is built or written (no silent approximation).
What an adapter converts, approximates or refuses is listed in a :class:`MappingReport`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from snn import validate
from snn.errors import UnsupportedFeature, ValidationError
from snn.models.base import RESETS
from snn.models.lif import INTEGRATIONS
from snn.network import Network


@dataclass(frozen=True, kw_only=True)
class ModelSupport:
    """How a backend runs one neuron model (a row of :attr:`Capabilities.models`).

    resets: the ``reset`` modes it reproduces; refractory: whether it holds a refractory
    period (``tau_ref > 0``); negative_input: whether input (weights, currents, ``i_bias``)
    may be negative; currents: whether injected currents into it map; substeps: whether a
    nonlinear model's ``substeps > 1`` runs; synapses: the synapse kinds it takes (None: the
    backend's :attr:`Capabilities.synapses`); integrations: the linear models' ``integration``
    modes it reproduces; as: what the model becomes there (shown in refusals and the docs).
    """

    resets: tuple[str, ...] = RESETS
    refractory: bool = True
    negative_input: bool = True
    currents: bool = True
    substeps: bool = True
    synapses: tuple[str, ...] | None = None
    integrations: tuple[str, ...] = INTEGRATIONS
    as_: str = ""


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What a backend can express: the one table its pre-flight :meth:`Backend.check`,
    the refusals in its mapping reports and its documentation (:meth:`to_markdown`) read.

    neuron_models, synapses, sources: class names of :mod:`snn.neurons`, :mod:`snn.synapses`
    and :mod:`snn.inputs` spike sources the backend runs. models: per neuron model, how
    (:class:`ModelSupport`; a model missing here gets the backend-wide ``resets`` and
    ``refractory``). refused_models: per model it does not run, why and what to use instead.
    probe_variables: recordable state (``"spikes"``, ``"v"``, ...). currents: injected
    currents. delays: per-synapse integer-step delays. resets: ``"value"`` and/or
    ``"subtract"``. plasticity: the learning rules (:mod:`snn.plasticity` class names) run
    online. max_neurons / max_synapses: size limits (None: memory only). exact: whether runs match the Numba
    reference spike for spike (else: statistically).
    """

    neuron_models: tuple[str, ...]
    synapses: tuple[str, ...]
    sources: tuple[str, ...]
    probe_variables: tuple[str, ...]
    currents: bool
    delays: bool
    resets: tuple[str, ...] = ("value", "subtract")
    refractory: bool = True
    plasticity: tuple[str, ...] = ()
    max_neurons: int | None = None
    max_synapses: int | None = None
    exact: bool = False
    notes: tuple[str, ...] = ()
    models: Mapping[str, ModelSupport] = field(default_factory=dict)
    refused_models: Mapping[str, str] = field(default_factory=dict)
    state_probes_of_spiking: bool = True  # False: only non-spiking populations' state can be probed
    time_varying_currents: bool = True  # False: only constant injected currents
    initial_state: bool = True  # False: populations start at their model's start (no initial_v)
    probe_subsets: bool = True  # False: a probe records every neuron at every step
    bias_rides_on: str | None = None  # a constant current needs an input of this synapse kind (NIR: Delta)
    dendrites: bool = False  # populations of dendritic-segment cells (snn.htm.spiking.DistalSegments)

    def support(self, model: str) -> ModelSupport:
        """The row of ``model`` (a class name it runs)."""
        return self.models.get(model, ModelSupport(resets=self.resets, refractory=self.refractory))

    def to_dict(self) -> dict:
        return asdict(self)

    def refusals(self) -> list[str]:
        """What this backend refuses, one line per rule of the table (a mapping report's
        "Refused" section): models it does not run, and per model it runs, the resets,
        refractoriness, input signs, currents, substeps and synapses it lacks."""
        from snn.neurons import MODELS

        lines = [f"{name}: {why}" for name, why in self.refused_models.items()]
        for name in self.neuron_models:
            row, has = self.support(name), {f.name for f in fields(MODELS[name])}
            lacks = []
            if "reset" in has:
                lacks += [f"reset={reset!r}" for reset in RESETS if reset not in row.resets]
            if "tau_ref" in has and not row.refractory:
                lacks.append("tau_ref > 0")
            if not row.negative_input:
                lacks.append("negative input")
            if not row.currents:
                lacks.append("injected currents")
            if "substeps" in has and not row.substeps:
                lacks.append("substeps > 1")
            if row.synapses is not None:
                lacks += [f"{kind} synapses" for kind in self.synapses if kind not in row.synapses]
            if "integration" in has:
                lacks += [f"integration={mode!r}" for mode in INTEGRATIONS if mode not in row.integrations]
            if lacks:
                lines.append(f"{name} with {', '.join(lacks)}")
        from snn.plasticity import RULES

        rules_refused = [name for name in RULES if name not in self.plasticity]
        backend_wide = (  # (refused?, what)
            (not self.time_varying_currents, "time-varying injected currents (constant ones only)"),
            (not self.initial_state, "initial potentials other than the model's start (initial_v)"),
            (not self.probe_subsets, "probes of a subset of neurons or of every k-th step"),
            (
                self.bias_rides_on is not None,
                f"a constant current into a population with no {self.bias_rides_on}-synapse input",
            ),
            (not self.delays, "synaptic delays"),
            (bool(rules_refused), f"plasticity: {', '.join(rules_refused)}"),
            (not self.currents, "injected currents"),
            (not self.dendrites, "dendritic-segment cells (snn.htm.spiking.DistalSegments)"),
        )
        return lines + [what for refused, what in backend_wide if refused]

    def to_markdown(self, backend: str) -> str:
        """The table as documentation: one row per registered neuron model."""
        from snn.neurons import MODELS

        lines = [
            f"### {backend}",
            "",
            "| model | runs | resets | refractory | negative input | synapses |",
            "|---|---|---|---|---|---|",
        ]
        for name in MODELS:
            if name not in self.neuron_models:
                lines.append(f"| {name} | no: {self.refused_models.get(name, 'not translated')} | | | | |")
                continue
            row = self.support(name)
            has = {f.name for f in fields(MODELS[name])}
            runs = f"yes{': as ' + row.as_ if row.as_ else ''}"
            resets = (
                ", ".join(row.resets) if "reset" in has else ("(own reset)" if MODELS[name].spiking else "-")
            )
            refractory = ("yes" if row.refractory else "no") if "tau_ref" in has else "(none)"
            negative = "yes" if row.negative_input else "no"
            synapses = ", ".join(row.synapses if row.synapses is not None else self.synapses)
            lines.append(f"| {name} | {runs} | {resets} | {refractory} | {negative} | {synapses} |")
        delays, currents = ("yes" if flag else "no" for flag in (self.delays, self.currents))
        lines += ["", f"synapses: {', '.join(self.synapses)}; delays: {delays}; currents: {currents}; "
                  f"probes: {', '.join(self.probe_variables)}"]  # fmt: skip
        lines += ["", "refused (the pre-flight check raises UnsupportedFeature naming each):", ""]
        lines += [f"- {line}" for line in self.refusals()] or ["- (nothing)"]
        return "\n".join(lines) + "\n"


@dataclass
class MappingReport:
    """What a translation did: sizes, each converted parameter, approximations, refusals."""

    backend: str
    neurons: int = 0
    synapses: int = 0
    converted: list[str] = field(default_factory=list)  # "exc.tau_mem 0.02 s -> tau_rc 0.02"
    approximated: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # per node, how many steps a run here is behind the producer's (NIR same-step timing)
    step_offsets: dict[str, int] = field(default_factory=dict)
    # per population split by per-neuron parameters (NIR import): its parts' names and neurons
    parts: dict[str, list[dict]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def write(self, directory: Path) -> list[Path]:
        """Write ``mapping_report.md`` and ``mapping_report.json`` into ``directory`` (atomically)."""
        import json

        from snn.atomic import write_atomic

        text = json.dumps(self.to_dict(), indent=2) + "\n"
        return [
            write_atomic(
                Path(directory) / "mapping_report.md", lambda s: s.write(self.to_markdown().encode())
            ),
            write_atomic(Path(directory) / "mapping_report.json", lambda s: s.write(text.encode())),
        ]

    def to_markdown(self) -> str:
        lines = [
            f"# Mapping report: {self.backend}",
            "",
            f"- neurons: {self.neurons}",
            f"- synapses: {self.synapses}",
        ]
        for title, items in (
            ("Converted", self.converted),
            ("Approximated", self.approximated),
            ("Refused", self.refused),
            ("Files", self.files),
        ):
            lines += ["", f"## {title}", ""]
            lines += [f"- {item}" for item in items] if items else ["- (none)"]
        return "\n".join(lines) + "\n"


class Backend(ABC):
    """Base of the adapters. Subclasses set ``name`` and implement :meth:`capabilities`,
    :meth:`run` and (optionally) :meth:`deploy`."""

    name: str = "backend"

    @abstractmethod
    def capabilities(self) -> Capabilities:
        """What this backend can express."""

    def check(self, network: Network) -> None:
        """Raise :class:`UnsupportedFeature` for the first part of ``network`` this backend
        cannot express; returns quietly when everything maps."""
        check_network(network, self.capabilities(), self.name)

    def run(
        self,
        network: Network,
        duration: float,
        inputs: Mapping[str, object] | None = None,
        *,
        dt: float = 1e-4,
        seed: int = 0,
        progress: bool | None = None,
    ):
        """Simulate ``duration`` seconds and return an :class:`snn.Result` with the same
        layout as the Numba simulator's. ``inputs`` replaces spike sources by name (see
        :func:`with_inputs`). The network is checked first: a part this backend cannot
        express raises :class:`UnsupportedFeature` before anything is built."""
        n_steps = validate.steps(duration, dt)
        network = with_inputs(network, inputs)
        self.check(network)
        return self._simulate(network, n_steps, dt=dt, seed=seed, progress=progress)

    @abstractmethod
    def _simulate(self, network: Network, n_steps: int, *, dt: float, seed: int, progress: bool | None):
        """Run the checked ``network`` for ``n_steps`` steps of ``dt`` seconds."""

    def deploy(self, network: Network, out: Path, *, dt: float = 1e-4, duration: float = 1.0,
               seed: int = 0) -> MappingReport:  # fmt: skip
        """Write this backend's artifact for ``network`` at ``out``; return the mapping report."""
        raise UnsupportedFeature("deploy", self.name, "use `snn simulate --backend` to run it instead")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def negative_input(network: Network, population: str) -> str | None:
    """The first input of ``population`` that can be negative, described; None if none."""
    import numpy as np

    if getattr(network.populations[population].model, "i_bias", 0.0) < 0:
        return "a negative i_bias"
    for projection in network.projections:
        if projection.post != population:
            continue
        rule = projection.connectivity
        weights = getattr(rule, "weights", getattr(rule, "weight", 0.0))
        if np.any(np.asarray(weights) < 0):
            return f"negative weights (projection {projection.name!r})"
    for current in network.currents:
        if current.target == population and np.any(current.amplitudes < 0):
            return "a negative injected current"
    return None


def constant_current(network: Network, population: str):
    """Constant input current per neuron (A): the model's ``i_bias`` plus the first level of
    every injected current into ``population``, shape ``(size,)``."""
    import numpy as np

    pop = network.populations[population]
    total = np.full(pop.size, float(getattr(pop.model, "i_bias", 0.0)))
    for current in network.currents:
        if current.target == population:
            neurons = np.arange(pop.size) if current.neurons is None else current.neurons
            np.add.at(total, neurons, np.broadcast_to(current.amplitudes[0], neurons.shape))
    return total


def starts_elsewhere(pop) -> bool:
    """Whether ``pop`` is given initial potentials other than its model's start."""
    import numpy as np

    from snn.network import Uniform

    if pop.initial_v is None:
        return False
    start = pop.model.constants(1.0)["initial_v"]
    return isinstance(pop.initial_v, Uniform) or bool(np.any(np.asarray(pop.initial_v) != start))


def check_network(network: Network, caps: Capabilities, backend: str) -> None:
    """The shared pre-flight walk of :meth:`Backend.check`: every rule comes from ``caps``."""
    import numpy as np

    from snn.build import population_synapses

    for pop in network.populations.values():
        kind = type(pop.model).__name__
        where = f"population {pop.name!r}"
        if pop.dendrites is not None and not caps.dendrites:
            raise UnsupportedFeature(
                pop.dendrites.describe(pop.name),
                backend,
                "the segments learn and predict on the numba simulator and the nengo adapter only",
            )
        if kind not in caps.neuron_models:
            raise UnsupportedFeature(
                f"neuron model {kind} ({where})",
                backend,
                caps.refused_models.get(kind, f"supported: {', '.join(caps.neuron_models)}"),
            )
        row = caps.support(kind)
        for name, allowed in (
            ("reset", row.resets),
            ("integration", row.integrations),
        ):  # modes the row lists
            mode = getattr(pop.model, name, None)
            if mode is not None and mode not in allowed:
                raise UnsupportedFeature(
                    f"{name}={mode!r} on a {kind} ({where})",
                    backend,
                    f"{row.as_ or kind} runs with {name} {' or '.join(allowed)} here",
                )
        if not row.refractory and getattr(pop.model, "tau_ref", 0.0) > 0:
            raise UnsupportedFeature(
                f"a refractory period on a {kind} ({where}, tau_ref={pop.model.tau_ref})",
                backend,
                f"{row.as_ or kind} has none here; set tau_ref=0",
            )
        if not row.substeps and getattr(pop.model, "substeps", 1) != 1:
            raise UnsupportedFeature(
                f"{kind}.substeps = {pop.model.substeps} ({where})",
                backend,
                "it steps once per dt here: use substeps = 1 with a smaller dt",
            )
        if not row.currents and any(c.target == pop.name for c in network.currents):
            raise UnsupportedFeature(
                f"an injected current into a {kind} ({where})",
                backend,
                f"{row.as_ or kind} takes no current here",
            )
        negative = None if row.negative_input else negative_input(network, pop.name)
        if negative:
            raise UnsupportedFeature(
                f"{negative} into a {kind} ({where})",
                backend,
                f"{row.as_ or kind} here clips negative input to 0",
            )
        if not caps.initial_state and starts_elsewhere(pop):
            raise UnsupportedFeature(
                f"initial potentials (population {pop.name!r})",
                backend,
                "leave initial_v=None: populations start at their model's start "
                f"({pop.model.constants(1.0)['initial_v']} V)",
            )
        if caps.bias_rides_on is not None and np.any(constant_current(network, pop.name)):
            kinds = {type(s).__name__ for s in population_synapses(network, pop.name)}
            if caps.bias_rides_on not in kinds:
                raise UnsupportedFeature(
                    f"a constant current into population {pop.name!r}, which has no "
                    f"{caps.bias_rides_on.lower()}-synapse projection",
                    backend,
                    f"a constant current rides on the {caps.bias_rides_on} input here (NIR: an Affine bias)",
                )
        if caps.max_neurons is not None and pop.size > caps.max_neurons:
            raise UnsupportedFeature(
                f"{pop.size} neurons in population {pop.name!r}", backend, f"at most {caps.max_neurons}"
            )
    for source in network.sources.values():
        kind = type(source).__name__
        if kind not in caps.sources:
            raise UnsupportedFeature(
                f"spike source {kind} ({source.name!r})", backend, f"supported: {', '.join(caps.sources)}"
            )
    for projection in network.projections:
        kind = type(projection.synapse).__name__
        if kind not in caps.synapses:
            raise UnsupportedFeature(
                f"{kind} synapses (projection {projection.name!r})",
                backend,
                f"supported: {', '.join(caps.synapses)}",
            )
        post = network.populations.get(projection.post)
        target = type(post.model).__name__ if post is not None else None
        row = caps.support(target) if target in caps.neuron_models else None
        if row is not None and row.synapses is not None and kind not in row.synapses:
            raise UnsupportedFeature(
                f"{kind} synapses into a {target} (projection {projection.name!r})",
                backend,
                f"{row.as_ or target} takes {' or '.join(row.synapses)} synapses here",
            )
        if not caps.delays and has_delays(projection):
            raise UnsupportedFeature(
                f"synaptic delays (projection {projection.name!r})", backend, "use delay 0"
            )
        rule = type(projection.plasticity).__name__ if projection.plasticity is not None else None
        if rule is not None and rule not in caps.plasticity:
            raise UnsupportedFeature(
                f"{rule} plasticity (projection {projection.name!r})",
                backend,
                f"learning rules here: {', '.join(caps.plasticity)}"
                if caps.plasticity
                else "no learning rules here; snn.plasticity.freeze(network, simulator) keeps the "
                "weights a run learned, as static ones",
            )
    if network.currents and not caps.currents:
        raise UnsupportedFeature("injected currents", backend, "use a spike source instead")
    for current in network.currents:
        if not caps.time_varying_currents and current.times.size > 1:
            raise UnsupportedFeature(
                f"a time-varying current into {current.target!r}", backend, "only constant currents map"
            )
    for probe in network.probes:
        if not caps.probe_subsets and (probe.neurons is not None or probe.every != 1):
            raise UnsupportedFeature(
                f"recording a subset of neurons or steps (probe {probe.name!r})",
                backend,
                "a probe records the whole population at every step here",
            )
        if probe.variable not in caps.probe_variables:
            raise UnsupportedFeature(
                f"probing {probe.variable!r} (probe {probe.name!r})",
                backend,
                f"supported: {', '.join(caps.probe_variables)}",
            )
        pop = network.populations.get(probe.target)
        if (
            probe.variable != "spikes"
            and not caps.state_probes_of_spiking
            and pop is not None
            and pop.model.spiking
        ):
            raise UnsupportedFeature(
                f"probing {probe.variable!r} of spiking population {probe.target!r} (probe {probe.name!r})",
                backend,
                "only the state of non-spiking populations can be recorded here; probe its spikes",
            )


def probe_variables(models) -> tuple[str, ...]:
    """Spikes, every state variable of ``models`` (classes), and the synaptic and injected currents."""
    names = ["spikes"]
    for model in models:
        names += [v for v in model.state_variables if v not in names]
    return (*names, "i_syn", "i_ext")


def has_delays(projection) -> bool:
    import numpy as np

    connectivity = projection.connectivity
    delays = getattr(connectivity, "delays", getattr(connectivity, "delay", 0.0))
    return bool(np.any(np.asarray(delays) > 0))


def with_inputs(network: Network, inputs: Mapping[str, object] | None) -> Network:
    """A copy of ``network`` whose spike sources named in ``inputs`` are replaced.

    Each value is a spike source of the same name and size. Everything else (populations,
    projections, currents, rewards, probes) is shared with ``network``, which is left unchanged.
    """
    if not inputs:
        return network
    from snn.inputs import SPIKE_SOURCES

    copy = Network(network.name)
    for name, source in inputs.items():
        if name not in network.sources:
            raise ValidationError(
                "inputs", f"no spike source named {name!r}; known: {sorted(network.sources)}"
            )
        if not isinstance(source, SPIKE_SOURCES) or source.name != name:
            raise ValidationError(f"inputs[{name}]", f"must be a spike source named {name!r}")
        if source.size != network.sources[name].size:
            raise ValidationError(
                f"inputs[{name}].size", f"must be {network.sources[name].size}, got {source.size}"
            )
    copy.populations = dict(network.populations)
    copy.sources = {name: inputs.get(name, source) for name, source in network.sources.items()}
    copy.projections = list(network.projections)
    copy.currents = list(network.currents)
    copy.rewards = list(network.rewards)
    copy.probes = list(network.probes)
    return copy
