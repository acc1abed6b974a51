"""The TOML loader, fed hostile documents: a Network or ValidationError, nothing else.

Two routes: parsed tables with hostile values (``network_from_dict``, what any TOML file
becomes) and raw text (``load_toml``: bytes that are not TOML, not UTF-8, or nested deep).
"""

from __future__ import annotations

import os
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import snn
from snn.config import load_toml, network_from_dict
from snn.errors import UnsupportedFeature, ValidationError
from snn.toml_writer import dumps
from tests.fuzz.strategies import ANY, NAMES, SIZES

ALLOWED = (ValidationError, UnsupportedFeature)
VALID = {
    "network": {"name": "fuzz"},
    "simulation": {"dt": 1e-4, "duration": 0.01, "seed": 0},
    "population": [{"name": "exc", "size": 4, "model": "LIF", "params": {"tau_mem": 0.02}}],
    "source": [{"name": "drive", "type": "PoissonSource", "size": 3, "rate": 20.0}],
    "projection": [
        {
            "pre": "drive",
            "post": "exc",
            "connectivity": {"type": "FixedProbability", "p": 0.5, "weight": 1e-3},
            "synapse": {"type": "Exponential", "tau_syn": 5e-3},
        }
    ],
    "current": [{"target": "exc", "type": "constant", "amplitude": 1e-3}],
    "probe": [{"target": "exc", "variable": "v", "neurons": [0, 1], "every": 2}],
}
PATHS = [
    ("network", "name"),
    ("simulation", "dt"),
    ("simulation", "duration"),
    ("simulation", "seed"),
    ("population", 0, "name"),
    ("population", 0, "size"),
    ("population", 0, "model"),
    ("population", 0, "params", "tau_mem"),
    ("population", 0, "initial_v"),
    ("source", 0, "size"),
    ("source", 0, "rate"),
    ("source", 0, "type"),
    ("projection", 0, "pre"),
    ("projection", 0, "post"),
    ("projection", 0, "connectivity", "p"),
    ("projection", 0, "connectivity", "weight"),
    ("projection", 0, "connectivity", "type"),
    ("projection", 0, "connectivity", "allow_autapses"),
    ("projection", 0, "synapse", "tau_syn"),
    ("current", 0, "target"),
    ("current", 0, "amplitude"),
    ("probe", 0, "target"),
    ("probe", 0, "neurons"),
    ("probe", 0, "every"),
    ("probe", 0, "variable"),
    ("population",),
    ("projection", 0),
]


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _set(document: dict, path: tuple, value) -> dict:
    document = _copy(document)
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


EDITS = st.lists(st.tuples(st.sampled_from(PATHS), st.one_of(ANY, SIZES, NAMES)), min_size=1, max_size=3)


def _load(edits, simulate: bool = False) -> None:
    """Load the edited document; ``simulate``: also build it and run up to 10 ms, so that the
    build-time refusals (memory estimates, delays, step counts) meet the same inputs."""
    document = VALID
    for path, value in edits:
        try:
            document = _set(document, path, value)
        except (KeyError, IndexError, TypeError):  # an earlier edit removed the path
            continue
    try:
        network, defaults = network_from_dict(document)
        if simulate:
            simulator = snn.Simulator(network, dt=defaults.dt, seed=defaults.seed, progress=False)
            result = simulator.run(min(defaults.duration, 0.01))
            for trace in result.traces.values():  # a run never hands back NaN without an error
                assert np.all(np.isfinite(trace.values)), trace
    except ALLOWED:
        pass


def test_the_valid_document_loads():
    network, defaults = network_from_dict(_copy(VALID))
    assert list(network.populations) == ["exc"] and defaults.duration == 0.01


@given(EDITS)
def test_hostile_values_give_a_network_or_a_validation_error(edits):
    _load(edits)


@settings(max_examples=100)  # each example builds and runs a network: fewer than the loader's
@given(EDITS)
def test_hostile_values_build_and_run_or_give_a_validation_error(edits):
    _load(edits, simulate=True)


def _load_raw(tmp_path_factory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("raw") / "net.toml"
    path.write_bytes(raw)
    try:
        load_toml(path)
    except ALLOWED:
        pass


RAW = st.binary(max_size=400) | st.text(max_size=400).map(str.encode)


@given(RAW)
def test_raw_bytes_give_a_network_or_a_validation_error(tmp_path_factory, raw):
    _load_raw(tmp_path_factory, raw)


@pytest.mark.parametrize(
    "text",
    ["x = " + "[" * 5000 + "]" * 5000, "x = " + "{a = " * 3000 + "1" + "}" * 3000, "a.b" * 10_000 + " = 1"],
    ids=["arrays", "inline-tables", "dotted-keys"],
)
def test_deep_nesting_is_a_validation_error(text, tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text(text)
    with pytest.raises(ValidationError):
        load_toml(path)


def test_special_files_are_refused_without_reading(tmp_path):
    with pytest.raises(ValidationError, match="not a regular file"):
        load_toml("/dev/zero")
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(ValidationError, match="not a regular file"):
        load_toml(fifo)  # would block for ever on open
    big = tmp_path / "big.toml"
    with open(big, "wb") as stream:
        stream.truncate(17 * 2**20)
    with pytest.raises(ValidationError, match="at most"):
        load_toml(big)
    with pytest.raises(ValidationError, match="not found"):
        load_toml(tmp_path / "nope.toml")


@pytest.mark.slow
@settings(max_examples=10_000)
@given(EDITS)
def test_hostile_values_long(edits):
    _load(edits)


@pytest.mark.slow
@settings(max_examples=10_000)
@given(EDITS)
def test_hostile_values_build_and_run_long(edits):
    _load(edits, simulate=True)


@pytest.mark.slow
@settings(max_examples=10_000)
@given(RAW)
def test_raw_bytes_long(tmp_path_factory, raw):
    _load_raw(tmp_path_factory, raw)


def test_non_bmp_name_round_trips():
    # the writer used json.dumps, which escapes non-BMP characters as surrogate pairs TOML rejects
    data = {"network": {"name": "net\U0001d400\U0001f600"}, "x": 'q"\\\n\x7f'}
    assert tomllib.loads(dumps(data)) == data


def test_non_bmp_network_round_trips_through_the_loader(tmp_path):
    import snn
    from snn.config import save_toml

    net = snn.Network("net\U0001d400")
    net.add(snn.Population(name="p\U0001d401", size=2, model=snn.LIF()))
    save_toml(net, tmp_path / "n.toml")
    loaded, _ = load_toml(tmp_path / "n.toml")
    assert loaded.name == net.name and list(loaded.populations) == ["p\U0001d401"]


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",))))
def test_any_string_round_trips(text):
    assert tomllib.loads(dumps({"s": text, text or "k": 1})) == {"s": text, text or "k": 1}
