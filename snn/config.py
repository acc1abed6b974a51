"""TOML network descriptions -> ``snn.Network``, with the same validation as the Python API.

Layout (every table optional except ``population``; unknown keys are errors)::

    [network]
    name = "demo"

    [simulation]            # defaults for `snn simulate`; command-line options override
    dt = 1e-4               # s
    duration = 1.0          # s
    seed = 0

    [[population]]
    name = "exc"
    size = 800
    model = "LIF"           # LIF | ALIF | IF | LI
    initial_v = { uniform = [-0.060, -0.050] }   # or a number (V)
    params = { tau_mem = 0.020, v_th = -0.050 }  # the model's fields, SI units
    # optional: dendritic-segment cells of a temporal memory (snn.htm.spiking.DistalSegments;
    # params are snn.htm.TemporalMemoryParameters' fields)
    # dendrites = { dt = 1e-3, plateau = 0.022, cycle_steps = 5, learn = true,
    #               interneurons = "tm_inhibitory", params = { columns = 2048, cells_per_column = 32 } }

    [[source]]
    name = "drive"
    type = "PoissonSource"  # PoissonSource | SpikeSource | RateEncoder | LatencyEncoder
    size = 100
    rate = 20.0             # the source's other fields

    [[projection]]
    pre = "drive"
    post = "exc"
    connectivity = { type = "FixedProbability", p = 0.1, weight = 2e-3 }
    synapse = { type = "Exponential", tau_syn = 5e-3 }   # or { type = "Delta" } (default)
    # optional: a learning rule of snn.plasticity (PairSTDP, TripletSTDP, RewardSTDP, Oja, BCM)
    # plasticity = { type = "PairSTDP", a_plus = 0.01, a_minus = 0.0105, w_max = 1.0 }

    [[current]]
    target = "exc"
    type = "constant"       # constant: amplitude | step: times, amplitudes | array: values, interval
    amplitude = 1e-3

    [[reward]]              # dopamine for a RewardSTDP projection (snn.Reward)
    projection = "drive_to_exc_0"
    times = [0.5, 1.0]      # s
    amounts = [1.0, -1.0]

    [[probe]]
    target = "exc"
    variable = "v"          # spikes (default) | v | b | i_syn | i_ext
    neurons = [0, 1, 2]
    every = 10
"""

from __future__ import annotations

import contextlib
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from snn.connectivity import CONNECTIVITIES
from snn.errors import ValidationError
from snn.inputs import Current, LatencyEncoder, PoissonSource, RateEncoder, Reward, SpikeSource
from snn.network import Network, Population, Probe, Projection, Uniform
from snn.neurons import MODELS
from snn.plasticity import RULES
from snn.synapses import SYNAPSES

SOURCES = {cls.__name__: cls for cls in (PoissonSource, SpikeSource, RateEncoder, LatencyEncoder)}
#: Largest network file read (16 MiB): a description, not a data set
MAX_CONFIG_BYTES = 16 * 2**20
TOP_LEVEL = ("network", "simulation", "population", "source", "projection", "current", "reward", "probe")


@dataclass(frozen=True)
class SimulationDefaults:
    """The optional ``[simulation]`` table: dt (s), duration (s), seed."""

    dt: float | None = None
    duration: float | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        from snn import validate

        for key in ("dt", "duration"):
            if getattr(self, key) is not None:
                object.__setattr__(self, key, validate.positive(f"simulation.{key}", getattr(self, key)))
        if self.seed is not None:
            object.__setattr__(self, "seed", validate.count("simulation.seed", self.seed, low=0))


@contextlib.contextmanager
def _at(where: str) -> Iterator[None]:
    """Report any validation error raised inside as coming from the TOML entry ``where``."""
    try:
        yield
    except ValidationError as error:
        raise error.located(where) from None


def _table(where: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValidationError(where, f"must be a table, got {type(value).__name__}")
    return dict(value)


def _take(where: str, table: dict, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
    """Check ``table``'s keys: every required key present, no key outside ``allowed``."""
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValidationError(f"{where}.{unknown[0]}", f"unknown key; allowed keys: {list(allowed)}")
    for key in required:
        if key not in table:
            raise ValidationError(f"{where}.{key}", "is required")
    return table


def _typed(where: str, table: dict, registry: dict, key: str = "type", extra: dict | None = None):
    """Build ``registry[table[key]](**rest)`` with unknown fields named in the error."""
    table = dict(table)
    kind = table.pop(key, None)
    if not isinstance(kind, str) or kind not in registry:
        raise ValidationError(f"{where}.{key}", f"must be one of {sorted(registry)}, got {kind!r}")
    cls = registry[kind]
    allowed = [f.name for f in fields(cls) if f.init] if hasattr(cls, "__dataclass_fields__") else []
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValidationError(f"{where}.{unknown[0]}", f"unknown field of {kind}; allowed: {allowed}")
    try:
        return cls(**table, **(extra or {}))
    except ValidationError as error:
        raise error.located(where) from None
    except TypeError as error:  # a required field is missing
        raise ValidationError(where, f"{kind}: {error}") from None


def _initial_v(where: str, value: Any):
    if isinstance(value, dict):
        _take(where, value, ("uniform",), ("uniform",))
        bounds = value["uniform"]
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise ValidationError(f"{where}.uniform", "must be [low, high]")
        return Uniform(low=bounds[0], high=bounds[1])
    return value


def network_from_dict(data: dict) -> tuple[Network, SimulationDefaults]:
    """Build a Network (and the ``[simulation]`` defaults) from parsed TOML."""
    _take("config", data, TOP_LEVEL, ("population",))
    header = _take("network", _table("network", data.get("network", {})), ("name",))
    net = Network(header.get("name", "network"))
    sim = _take("simulation", _table("simulation", data.get("simulation", {})), ("dt", "duration", "seed"))
    for index, entry in enumerate(_list("population", data)):
        where = f"population[{index}]"
        with _at(where):
            _add_population(net, where, entry)
    for index, entry in enumerate(_list("source", data)):
        with _at(f"source[{index}]"):
            net.add(_typed(f"source[{index}]", _table(f"source[{index}]", entry), SOURCES))
    for index, entry in enumerate(_list("projection", data)):
        with _at(f"projection[{index}]"):
            _add_projection(net, f"projection[{index}]", index, entry)
    for index, entry in enumerate(_list("current", data)):
        with _at(f"current[{index}]"):
            net.inject(_current(f"current[{index}]", _table(f"current[{index}]", entry)))
    for index, entry in enumerate(_list("reward", data)):
        where = f"reward[{index}]"
        with _at(where):
            keys = ("projection", "times", "amounts")
            net.add_reward(Reward(**_take(where, _table(where, entry), keys, keys)))
    for index, entry in enumerate(_list("probe", data)):
        with _at(f"probe[{index}]"):
            _add_probe(net, f"probe[{index}]", entry)
    return net, SimulationDefaults(**sim)


def _add_population(net: Network, where: str, entry: Any) -> None:
    entry = _take(
        where,
        _table(where, entry),
        ("name", "size", "model", "params", "initial_v", "dendrites"),
        ("name", "size"),
    )
    model_table = {"model": entry.get("model", "LIF"), **_table(f"{where}.params", entry.get("params", {}))}
    model = _typed(f"{where}.params", model_table, MODELS, key="model")
    initial_v = _initial_v(f"{where}.initial_v", entry.get("initial_v"))
    dendrites = None
    if "dendrites" in entry:
        dendrites = _dendrites(f"{where}.dendrites", _table(f"{where}.dendrites", entry["dendrites"]))
    net.add(
        Population(
            name=entry["name"], size=entry["size"], model=model, initial_v=initial_v, dendrites=dendrites
        )
    )


def _dendrites(where: str, table: dict):
    from snn.htm.spiking import DistalSegments
    from snn.htm.temporal_memory import TemporalMemoryParameters

    _take(
        where, table, ("params", "dt", "plateau", "cycle_steps", "learn", "interneurons"), ("dt", "plateau")
    )
    params = _typed(
        f"{where}.params",
        {"type": "TemporalMemoryParameters", **_table(f"{where}.params", table.get("params", {}))},
        {"TemporalMemoryParameters": TemporalMemoryParameters},
    )
    return _typed(where, {**table, "params": params, "type": "DistalSegments"},
                  {"DistalSegments": DistalSegments})  # fmt: skip


def _add_projection(net: Network, where: str, index: int, entry: Any) -> None:
    entry = _take(
        where,
        _table(where, entry),
        ("name", "pre", "post", "connectivity", "synapse", "plasticity"),
        ("pre", "post", "connectivity"),
    )
    rule = _typed(
        f"{where}.connectivity", _table(f"{where}.connectivity", entry["connectivity"]), CONNECTIVITIES
    )
    synapse_table = _table(f"{where}.synapse", entry.get("synapse", {"type": "Delta"}))
    synapse = _typed(f"{where}.synapse", synapse_table, SYNAPSES)
    plasticity = None
    if "plasticity" in entry:
        plasticity = _typed(f"{where}.plasticity", _table(f"{where}.plasticity", entry["plasticity"]), RULES)
    name = entry.get("name", f"{entry['pre']}_to_{entry['post']}_{index}")
    net.add_projection(
        Projection(
            name=name,
            pre=entry["pre"],
            post=entry["post"],
            connectivity=rule,
            synapse=synapse,
            plasticity=plasticity,
        )
    )


def _add_probe(net: Network, where: str, entry: Any) -> None:
    entry = _take(
        where, _table(where, entry), ("name", "target", "variable", "neurons", "every"), ("target",)
    )
    variable = entry.get("variable", "spikes")
    name = entry.get("name", f"{entry['target']}_{variable}")
    net.add_probe(
        Probe(
            name=name,
            target=entry["target"],
            variable=variable,
            neurons=entry.get("neurons"),
            every=entry.get("every", 1),
        )
    )


def _list(key: str, data: dict) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ValidationError(key, f"must be an array of tables ([[{key}]])")
    return value


def _current(where: str, entry: dict) -> Current:
    kind = entry.get("type")
    shapes = {
        "constant": (("amplitude",), ()),
        "step": (("times", "amplitudes"), ()),
        "array": (("values", "interval"), ()),
    }
    if kind not in shapes:
        raise ValidationError(f"{where}.type", f"must be one of {sorted(shapes)}, got {kind!r}")
    required = shapes[kind][0]
    _take(where, entry, ("type", "target", "neurons", *required), ("target", *required))
    target, neurons = entry["target"], entry.get("neurons")
    if kind == "constant":
        return Current.constant(target, entry["amplitude"], neurons=neurons)
    if kind == "step":
        return Current.step(target, entry["times"], entry["amplitudes"], neurons=neurons)
    return Current.array(target, entry["values"], entry["interval"], neurons=neurons)


def load_toml(path: str | Path) -> tuple[Network, SimulationDefaults]:
    """Read a TOML network file; errors name the file and the offending key."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ValidationError("config", f"file not found: {path}") from None
    except OSError as error:
        raise ValidationError("config", f"cannot read {path}: {error.strerror}") from None
    # /dev/zero would be read until memory runs out, a FIFO would block for ever
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError("config", f"{path} is not a regular file")
    if info.st_size > MAX_CONFIG_BYTES:
        raise ValidationError(
            "config", f"{path} is {info.st_size} bytes; a network file may have at most {MAX_CONFIG_BYTES}"
        )
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as error:
        raise ValidationError("config", f"cannot read {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValidationError("config", f"{path} is not valid TOML: {error}") from None
    except RecursionError:  # thousands of nested arrays or tables
        raise ValidationError("config", f"{path} nests arrays or tables too deeply") from None
    try:
        return network_from_dict(data)
    except ValidationError as error:
        raise ValidationError(f"{path.name}: {error.field}", error.message) from None


def _plain(value: Any) -> Any:
    """numpy values -> TOML-writable Python values."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _fields(obj: Any, tag: str = "type") -> dict:
    """A dataclass as ``{tag: class name, field: value, ...}`` (fields left at None omitted)."""
    out = {tag: type(obj).__name__}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if value is not None:
            out[f.name] = _plain(value)
    return out


def _dendrites_entry(pop: Population) -> dict:
    from dataclasses import asdict

    segments = pop.dendrites
    if segments.memory is not None:
        raise ValidationError(
            f"populations[{pop.name}].dendrites.memory",
            "a trained temporal memory is not written to TOML: save it with TemporalMemory.save and "
            "pass memory=TemporalMemory.load(path) when building the network",
        )
    entry = {"dt": segments.dt, "plateau": segments.plateau, "cycle_steps": segments.cycle_steps,
             "learn": segments.learn, "params": asdict(segments.params)}  # fmt: skip
    if segments.interneurons is not None:
        entry["interneurons"] = segments.interneurons
    return entry


def network_to_dict(network: Network, defaults: SimulationDefaults | None = None) -> dict:
    """The inverse of :func:`network_from_dict`: plain data that reads back to an equal network."""
    data: dict[str, Any] = {"network": {"name": network.name}}
    if defaults is not None:
        data["simulation"] = {k: v for k, v in vars(defaults).items() if v is not None}
    populations = []
    for pop in network.populations.values():
        params = pop.model.to_dict()
        entry: dict[str, Any] = {"name": pop.name, "size": pop.size, "model": params.pop("model")}
        if isinstance(pop.initial_v, Uniform):
            entry["initial_v"] = {"uniform": [pop.initial_v.low, pop.initial_v.high]}
        elif pop.initial_v is not None:
            entry["initial_v"] = _plain(pop.initial_v)
        entry["params"] = params
        if pop.dendrites is not None:
            entry["dendrites"] = _dendrites_entry(pop)
        populations.append(entry)
    data["population"] = populations
    data["source"] = [_fields(source) for source in network.sources.values()]
    data["projection"] = [
        {
            "name": p.name,
            "pre": p.pre,
            "post": p.post,
            "connectivity": _fields(p.connectivity),
            "synapse": _fields(p.synapse),
            **({"plasticity": _fields(p.plasticity)} if p.plasticity is not None else {}),
        }
        for p in network.projections
    ]
    data["current"] = [
        {
            "target": c.target,
            "type": "step",
            "times": _plain(c.times),
            "amplitudes": _plain(c.amplitudes),
            **({"neurons": _plain(c.neurons)} if c.neurons is not None else {}),
        }  # fmt: skip
        for c in network.currents
    ]
    data["reward"] = [
        {"projection": r.projection, "times": _plain(r.times), "amounts": _plain(r.amounts)}
        for r in network.rewards
    ]
    data["probe"] = [
        {
            "name": p.name,
            "target": p.target,
            "variable": p.variable,
            "every": p.every,
            **({"neurons": _plain(p.neurons)} if p.neurons is not None else {}),
        }  # fmt: skip
        for p in network.probes
    ]
    return {key: value for key, value in data.items() if value != []}


def save_toml(network: Network, path: str | Path, defaults: SimulationDefaults | None = None) -> Path:
    """Write ``network`` as a TOML file that :func:`load_toml` and ``snn simulate`` read
    (atomically: a temporary file renamed into place)."""
    from snn.atomic import write_atomic
    from snn.toml_writer import dumps

    text = dumps(network_to_dict(network, defaults))
    path = Path(path)
    write_atomic(path, lambda handle: handle.write(text.encode()))
    return path
