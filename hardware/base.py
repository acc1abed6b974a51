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
from dataclasses import asdict, dataclass, field
from pathlib import Path

from snn import validate
from snn.errors import UnsupportedFeature, ValidationError
from snn.network import Network


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What a backend can express.

    neuron_models, synapses, sources: class names of :mod:`snn.neurons`, :mod:`snn.synapses`
    and :mod:`snn.inputs` spike sources the backend runs. probe_variables: recordable
    state (``"spikes"``, ``"v"``, ...). currents: injected currents. delays: per-synapse
    integer-step delays. resets: ``"value"`` and/or ``"subtract"``. plasticity: learning
    rules run online (none yet). max_neurons / max_synapses: size limits (None: memory only).
    exact: whether runs match the Numba reference spike for spike (else: statistically).
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

    def to_dict(self) -> dict:
        return asdict(self)


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


def check_network(network: Network, caps: Capabilities, backend: str) -> None:
    """The shared pre-flight walk of :meth:`Backend.check`."""
    for pop in network.populations.values():
        kind = type(pop.model).__name__
        if kind not in caps.neuron_models:
            raise UnsupportedFeature(
                f"neuron model {kind} (population {pop.name!r})",
                backend,
                f"supported: {', '.join(caps.neuron_models)}",
            )
        reset = getattr(pop.model, "reset", None)
        if reset is not None and reset not in caps.resets:
            raise UnsupportedFeature(
                f"reset={reset!r} (population {pop.name!r})", backend, f"supported: {caps.resets}"
            )
        if not caps.refractory and getattr(pop.model, "tau_ref", 0.0) > 0:
            raise UnsupportedFeature(
                f"a refractory period (population {pop.name!r}, tau_ref={pop.model.tau_ref})",
                backend,
                "set tau_ref=0",
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
        if not caps.delays and has_delays(projection):
            raise UnsupportedFeature(f"synaptic delays (projection {projection.name!r})", backend)
    if network.currents and not caps.currents:
        raise UnsupportedFeature("injected currents", backend, "use a spike source instead")
    for probe in network.probes:
        if probe.variable not in caps.probe_variables:
            raise UnsupportedFeature(
                f"probing {probe.variable!r} (probe {probe.name!r})",
                backend,
                f"supported: {', '.join(caps.probe_variables)}",
            )


def has_delays(projection) -> bool:
    import numpy as np

    connectivity = projection.connectivity
    delays = getattr(connectivity, "delays", getattr(connectivity, "delay", 0.0))
    return bool(np.any(np.asarray(delays) > 0))


def with_inputs(network: Network, inputs: Mapping[str, object] | None) -> Network:
    """A copy of ``network`` whose spike sources named in ``inputs`` are replaced.

    Each value is a spike source of the same name and size. Everything else (populations,
    projections, currents, probes) is shared with ``network``, which is left unchanged.
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
    copy.probes = list(network.probes)
    return copy
