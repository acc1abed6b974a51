"""NIR (Neuromorphic Intermediate Representation) export and import, and the ``nir`` backend.

>>> import snn, hardware
>>> net = snn.Network("demo")
>>> _ = net.add(snn.SpikeSource(name="in", size=2, times=[0.001], ids=[0]))
>>> _ = net.add(snn.Population(name="out", size=1, model=snn.LIF(tau_ref=0.0)))
>>> _ = net.connect("in", "out", snn.AllToAll(weights=0.03))
>>> graph, report = to_nir(net, dt=1e-4)
>>> sorted(graph.nodes)
['in', 'out', 'out.out_spikes', 'w.in_to_out_0']

The equations, node mapping and unit conversion are in :mod:`hardware.nir_fields`; the
conversions in :mod:`hardware.nir_export` and :mod:`hardware.nir_import`.

What NIR cannot express is refused before anything is written (:meth:`NIRBackend.check`):
ALIF adaptation, refractory periods (``tau_ref > 0``), reset by subtraction, initial potentials
other than the resting (LIF, LI) or reset (IF) value (NIR nodes carry no initial state; receivers
start there), time-varying injected currents, a constant current into a population without a
delta-synapse projection to carry it as an Affine bias, state probes other than ``v`` of an LI
population, and probes of a subset of neurons or every n-th step. Poisson and rate-coded sources
become ``nir.Input`` ports and are listed under ``refused`` in the report: NIR has no stochastic
generator, so the receiver supplies their spikes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import warnings
from pathlib import Path

import nir
import numpy as np

from hardware.base import Backend, Capabilities, MappingReport, ModelSupport, with_inputs
from hardware.nir_export import to_nir_graph
from hardware.nir_fields import SPIKE_CONVENTIONS, Conventions
from hardware.nir_import import NIRConventionWarning, check_graph, from_nir_graph
from snn.atomic import write_atomic
from snn.errors import UnsupportedFeature, ValidationError
from snn.inputs import SpikeSource
from snn.network import Network

BACKEND = "nir"


def check(network: Network) -> None:
    """Raise :class:`snn.UnsupportedFeature` for the first part of ``network`` NIR cannot express."""
    NIRBackend().check(network)


def to_nir(
    network: Network, dt: float = 1e-4, seed: int = 0, spikes: str = "dirac"
) -> tuple[nir.NIRGraph, MappingReport]:
    """``network`` as a NIR graph, with random connectivity drawn for ``(dt, seed)`` as the simulator
    draws it, and the report of what mapped how. ``spikes``: the spike convention (``"dirac"``,
    area 1; ``"step"``, area ``dt`` as snnTorch and Norse assume); see :mod:`hardware.nir_fields`."""
    check(network)
    return to_nir_graph(network, dt, seed, spikes)


def from_nir(
    graph: nir.NIRGraph | str | os.PathLike,
    dt: float = 1e-4,
    spikes: str | None = None,
    *,
    conventions: Conventions | str | dict | None = None,
) -> tuple[Network, MappingReport]:
    """A Network from a NIR graph or ``.nir`` file, to run at step ``dt`` (s) as its producer
    ran it. ``conventions``: how (:class:`hardware.nir_fields.Conventions`, or a producer's
    name: ``"snntorch"``, ``"norse"``, ``"sinabs"``, ``"rockpool"``, ``"neurobridge"``); None:
    what we recorded when we wrote the graph, else snnTorch's and Norse's (forward Euler,
    same-step timing, a spike of area dt), with a :class:`NIRConventionWarning`. ``spikes``
    overrides the spike convention alone. Under same-step timing the populations run behind
    the producer by ``report.step_offsets`` steps: :func:`run_graph` shifts them back. Sinabs
    counts time in steps and Rockpool's graphs imply their step (:func:`rockpool_dt`): a
    ``dt`` other than theirs is run as given, with a :class:`NIRConventionWarning`."""
    name = None
    if not isinstance(graph, nir.NIRGraph):
        name = Path(graph).name
        graph = read(graph)  # its errors name the file already
    with naming_file(name):
        check_graph(graph)
        _warn_on_producer_dt(graph, dt, conventions)
        return from_nir_graph(graph, dt, spikes, conventions)


def _warn_on_producer_dt(graph: nir.NIRGraph, dt: float, conventions) -> None:
    """Sinabs's graphs are in steps (dt = 1), Rockpool's imply ``rockpool_dt``: say so when
    ``dt`` differs (every decay factor would then differ from the producer's)."""
    from hardware.nir_fields import rockpool_dt

    if not isinstance(conventions, str):
        return
    expected = {"sinabs": lambda: 1.0, "rockpool": lambda: rockpool_dt(graph)}.get(conventions)
    if expected is not None and not np.isclose(dt, expected(), rtol=1e-9, atol=0.0):
        warnings.warn(
            f"{conventions} ran this graph at dt = {expected():.9g} (its time unit), not {dt:g}: "
            "its decays differ at this dt",
            NIRConventionWarning,
            stacklevel=3,
        )


@contextlib.contextmanager
def naming_file(name: str | None):
    """Errors about a graph's nodes raised inside also name the file ``name`` they came from
    (None: a graph given in memory, nothing to add)."""
    if name is None:
        yield
        return
    try:
        yield
    except ValidationError as error:
        raise type(error)(f"{name}: {error.field}", error.message) from None
    except UnsupportedFeature as error:
        raise UnsupportedFeature(f"{error.feature} (in {name})", error.backend, error.hint) from None


def run_graph(
    graph: nir.NIRGraph | str | os.PathLike,
    inputs: dict,
    *,
    dt: float = 1e-4,
    conventions: Conventions | str | dict | None = None,
    seed: int = 0,
    progress: bool | None = None,
):
    """Run a NIR graph on :class:`snn.Simulator` with ``inputs`` per ``nir.Input`` node (spike
    0/1 per channel and step, shape ``(steps, size)``, step ``t`` the producer's step ``t``), the
    way its producer runs it; returns ``(Result, MappingReport)`` with every spike at the
    producer's step (``report.step_offsets`` undone), over the inputs' ``steps``."""
    from snn.result import Result
    from snn.simulator import Simulator

    network, report = from_nir(graph, dt, conventions=conventions)
    frames = {name: np.asarray(value) for name, value in inputs.items()}
    steps = _frame_steps(network, frames)
    behind = max(report.step_offsets.values(), default=0)
    sources = {name: _frames_source(name, network.sources[name].size, frames[name], dt) for name in frames}
    result = Simulator(with_inputs(network, sources), dt=dt, seed=seed, progress=progress).run(
        (steps + behind) * dt
    )
    spikes = {}
    for node, (times, ids) in result.spikes.items():
        shifted = np.rint(times / dt).astype(np.int64) - report.step_offsets.get(node, 0)
        keep = (shifted >= 0) & (shifted < steps)
        spikes[node] = (shifted[keep] * dt, ids[keep])
    traces = {}
    for name, trace in result.traces.items():
        shift = report.step_offsets.get(trace.target, 0)
        rows = slice(shift, shift + steps) if trace.t.size >= shift + steps else slice(shift, None)
        traces[name] = dataclasses.replace(trace, t=trace.t[rows] - shift * dt, values=trace.values[rows])
    metadata = {**result.metadata, "step_offsets": dict(report.step_offsets), "n_steps": steps}
    shifted = Result(spikes=spikes, traces=traces, sizes=result.sizes, duration=steps * dt, metadata=metadata)
    shifted = merge_split_populations(shifted, report)
    shifted.timings.update(result.timings)  # wall times: in memory only, as in every Result
    return shifted, report


def merge_split_populations(result, report: MappingReport):
    """``result`` with the parts of every population the import split by per-neuron
    parameters (``report.parts``) reported under that population again, original indices."""
    from snn.transform import Part, merge_parts

    for population, described in report.parts.items():
        parts = [Part(p["name"], None, np.asarray(p["neurons"], dtype=np.int64)) for p in described]
        result = merge_parts(result, population, parts, sum(p.neurons.size for p in parts))
    return result


def _frame_steps(network: Network, frames: dict) -> int:
    """The number of steps of the input frames; each one's shape checked against its port."""
    ports = input_ports(network)
    if set(frames) != set(ports):
        raise ValidationError("inputs", f"must give every input port {sorted(ports)}, got {sorted(frames)}")
    lengths = set()
    for name, values in frames.items():
        size = network.sources[name].size
        if values.ndim != 2 or values.shape[1] != size:
            raise ValidationError(f"inputs.{name}", f"must have shape (steps, {size}), got {values.shape}")
        if values.dtype.kind not in "biuf" or not np.all((values == 0) | (values == 1)):
            raise ValidationError(f"inputs.{name}", "must hold 0 or 1 spike per channel and step")
        lengths.add(values.shape[0])
    if len(lengths) != 1:
        raise ValidationError("inputs", f"every port needs the same number of steps, got {sorted(lengths)}")
    return lengths.pop()


def input_ports(network: Network) -> list[str]:
    """The sources of an imported graph that its ``nir.Input`` nodes became (the run's data;
    a bias source that fires every step is not one)."""
    return [name for name, source in network.sources.items() if isinstance(source, SpikeSource)]


def _frames_source(name: str, size: int, frames: np.ndarray, dt: float) -> SpikeSource:
    """0/1 spikes per step as a SpikeSource (the spike of row ``t`` at ``t * dt``)."""
    steps, ids = np.nonzero(frames)
    return SpikeSource(name=name, size=size, times=steps * dt, ids=ids)


def write(
    network: Network, path: str | os.PathLike, *, dt: float = 1e-4, seed: int = 0, spikes: str = "dirac"
) -> MappingReport:
    """Write ``network`` as a NIR HDF5 file at ``path`` atomically, only after the pre-flight check."""
    graph, report = to_nir(network, dt=dt, seed=seed, spikes=spikes)
    write_graph(graph, path)
    report.files.append(str(path))
    return report


def _serialised(graph: nir.NIRGraph) -> bytes:
    """The graph as the bytes of a NIR HDF5 file (``nir.write`` into memory)."""
    buffer = io.BytesIO()
    nir.write(buffer, graph)
    return buffer.getvalue()


def write_graph(graph: nir.NIRGraph, path: str | os.PathLike) -> Path:
    """One atomic write of the graph's file (no half-written file)."""
    data = _serialised(graph)
    return write_atomic(path, lambda stream: stream.write(data))


def read(path: str | os.PathLike | io.BytesIO) -> nir.NIRGraph:
    """``nir.read`` without NIR's type inference, which would add Input/Output nodes of its own.

    The file is checked first (:func:`check_self_contained`): a NIR file is HDF5, and HDF5
    lets a dataset's bytes live in any other file, so an unchecked read could copy a local
    file into the network (and on into ``model.toml``). A file that is not readable NIR
    raises ValidationError naming it, never h5py's or nir's own exceptions.
    """
    name = "<memory>" if isinstance(path, io.BytesIO) else str(path)
    if not isinstance(path, io.BytesIO):
        if not Path(path).exists():
            raise ValidationError(name, "no such NIR file")
        if not Path(path).is_file():
            raise ValidationError(name, "is not a regular file; give a .nir (HDF5) file")
    check_self_contained(path, name)
    check_node_types(path, name)
    if isinstance(path, io.BytesIO):
        path.seek(0)
    try:
        return nir.read(path, type_check=False)
    except (OSError, KeyError, ValueError, TypeError, AttributeError, IndexError) as error:
        # the read boundary: whatever the file holds that nir cannot parse is bad input
        raise ValidationError(
            name, f"is not a readable NIR graph ({type(error).__name__}: {error})"
        ) from None


def check_self_contained(path: str | os.PathLike | io.BytesIO, name: str) -> None:
    """Refuse HDF5 content that lives outside the file or expands beyond memory.

    Refused: soft and external links, datasets with external storage, virtual datasets,
    and datasets whose declared sizes add up to more memory than is available (a
    compressed dataset can declare terabytes in a few kilobytes).
    """
    import h5py

    from snn import resources

    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise ValidationError(name, f"is not an HDF5 (NIR) file ({error})") from None
    declared = 0.0
    with handle:
        pending = [("", handle)]
        while pending:
            prefix, group = pending.pop()
            for key in group:
                where = f"{prefix}/{key}"
                link = group.get(key, getlink=True)
                if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
                    raise ValidationError(
                        name, f"{where} is a {type(link).__name__}; NIR files must be self-contained"
                    )
                item = group[key]
                if isinstance(item, h5py.Group):
                    pending.append((where, item))
                elif isinstance(item, h5py.Dataset):
                    if item.external or item.is_virtual:
                        raise ValidationError(
                            name, f"{where} keeps its data outside the file; NIR files must be self-contained"
                        )
                    declared += float(item.size) * item.dtype.itemsize
                else:
                    raise ValidationError(name, f"{where} is neither a group nor a dataset")
    resources.require(declared, f"the datasets of {name}", field=name)


def check_node_types(path: str | os.PathLike | io.BytesIO, name: str) -> None:
    """Refuse a node whose ``type`` is not a NIR primitive, naming the node and the type.

    nir's reader checks this with a bare ``assert`` (an empty AssertionError, or nothing at
    all under ``python -O``), so the graph's ``node`` group is walked here first.
    """
    import h5py

    known = sorted(
        key
        for key, value in vars(nir.ir).items()
        if isinstance(value, type) and issubclass(value, nir.NIRNode)
    )
    with h5py.File(path, "r") as handle:
        if "node" not in handle or not isinstance(handle["node"], h5py.Group):
            raise ValidationError(name, "has no 'node' group; it is HDF5 but not a NIR graph")
        pending = [("node", handle["node"])]
        while pending:
            where, group = pending.pop()
            stored = group.get("type")
            if not isinstance(stored, h5py.Dataset):
                raise ValidationError(name, f"{where} has no 'type'; every NIR node names its primitive")
            value = stored[()]
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            if text not in known:
                raise ValidationError(name, f"{where} has type {text[:40]!r}; NIR's primitives are {known}")
            nodes = group.get("nodes")
            if text == "NIRGraph" and isinstance(nodes, h5py.Group):
                pending.extend((f"{where}/nodes/{key}", nodes[key]) for key in nodes)


class NIRBackend(Backend):
    """NIR as a backend: ``deploy`` writes the graph, ``run`` simulates what survives a round trip."""

    name = BACKEND

    def __init__(self, spikes: str = "dirac") -> None:
        if spikes not in SPIKE_CONVENTIONS:
            raise ValidationError("nir.spikes", f"must be one of {SPIKE_CONVENTIONS}, got {spikes!r}")
        self.spikes = spikes

    def capabilities(self) -> Capabilities:
        return Capabilities(
            neuron_models=("LIF", "IF", "LI", "CubaLIF"),
            synapses=("Delta", "Exponential"),
            sources=("SpikeSource", "LatencyEncoder", "PoissonSource", "RateEncoder"),
            probe_variables=("spikes", "v"),
            currents=True,
            delays=True,
            resets=("value",),
            refractory=False,
            state_probes_of_spiking=False,  # a NIR spiking node outputs spikes; only an LI node outputs v
            models={
                "LIF": ModelSupport(resets=("value",), refractory=False, as_="nir.LIF or nir.CubaLIF"),
                "IF": ModelSupport(resets=("value",), refractory=False, as_="nir.IF"),
                "LI": ModelSupport(as_="nir.LI or nir.CubaLI"),
                # a constant current travels as an Affine bias into the node, and a CubaLIF's
                # input is its synaptic current: NIR's CubaLIF has no bias term of its own
                "CubaLIF": ModelSupport(
                    resets=("value",), refractory=False, currents=False, as_="nir.CubaLIF"
                ),
            },
            refused_models={
                "ALIF": "NIR has no adaptive threshold; export the LIF part or use a backend that runs ALIF",
                "AdEx": "NIR has no AdEx primitive (its exponential term and adaptation current)",
                "Izhikevich": "NIR has no Izhikevich primitive",
            },
            exact=True,
            time_varying_currents=False,  # a graph has no time: a current is an Affine bias
            initial_state=False,  # NIR nodes carry no initial state
            probe_subsets=False,  # a nir.Output carries the whole node at every step
            bias_rides_on="Delta",  # the bias of the Affine edge into the neuron node
            notes=(
                "constant currents only, carried as an Affine bias on a delta-synapse projection",
                "sources become nir.Input ports; their spikes are run-time data",
                "no initial state in NIR: populations start at rest (LIF, LI) or reset (IF)",
            ),
        )

    def deploy(
        self, network: Network, out: Path, *, dt: float = 1e-4, duration: float = 1.0, seed: int = 0
    ) -> MappingReport:
        """Write the directory ``out``: ``<network.name>.nir`` and ``mapping_report.md`` / ``.json``
        (all or nothing); or, when ``out`` ends in ``.nir``, that one file (atomically).
        ``duration`` is unused (a graph has none)."""
        from snn.atomic import staged

        graph, report = to_nir(network, dt=dt, seed=seed, spikes=self.spikes)
        if Path(out).suffix.lower() == ".nir":
            write_graph(graph, out)
            report.files.append(str(out))
            return report
        name = f"{network.name}.nir"
        with staged(Path(out)) as staging:
            write_graph(graph, staging / name)
            report.write(staging)
        report.files += [name, "mapping_report.md", "mapping_report.json"]
        return report

    def _simulate(self, network: Network, n_steps: int, *, dt: float, seed: int, progress: bool | None):
        """Export ``network`` to an in-memory NIR file, import it, feed the original spike sources to
        the imported ports and run it on :class:`snn.Simulator`."""
        from snn.simulator import Simulator

        graph, _ = to_nir(network, dt=dt, seed=seed, spikes=self.spikes)
        imported, _ = from_nir(read(io.BytesIO(_serialised(graph))), dt=dt)
        imported = with_inputs(imported, dict(network.sources))
        result = Simulator(imported, dt=dt, seed=seed, progress=progress).run(n_steps * dt)
        result.metadata["backend"] = BACKEND
        return result


__all__ = [
    "BACKEND",
    "Conventions",
    "NIRBackend",
    "NIRConventionWarning",
    "check",
    "from_nir",
    "input_ports",
    "naming_file",
    "read",
    "run_graph",
    "to_nir",
    "write",
    "write_graph",
]
