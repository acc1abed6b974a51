"""NIR files as an attacker or a broken disk writes them: refused with one line, never read past.

A NIR file is HDF5, and HDF5 lets a dataset keep its bytes in any other file. Before the
check, a weight matrix pointed at a local file was read and `snn deploy` copied the file's
bytes into model.toml (issue 14).
"""

from __future__ import annotations

import re

import h5py
import nir
import numpy as np
import pytest

from hardware.nir import from_nir, write
from snn.errors import UnsupportedFeature, ValidationError
from studies.cli import main
from tests.hardware.test_nir import DT, lif_delta

SECRET = b"TOP-SECRET-0123456789abcdef" * 8  # 216 bytes = 27 float64 values


def _weight_dataset(handle: h5py.File) -> str:
    found = []
    handle.visititems(lambda name, item: found.append(name) if name.endswith("/weight") else None)
    return found[0]


def _valid(tmp_path) -> str:
    path = tmp_path / "net.nir"
    write(lif_delta(), path, dt=DT, seed=3)
    return str(path)


def _external_storage(tmp_path) -> str:
    secret = tmp_path / "secret.bin"
    secret.write_bytes(SECRET)
    path = _valid(tmp_path)
    with h5py.File(path, "r+") as handle:
        name = _weight_dataset(handle)
        shape = handle[name].shape
        del handle[name]
        count = int(np.prod(shape))
        handle.create_dataset(name, shape=shape, dtype="<f8", external=[(str(secret), 0, count * 8)])
    return path


def _soft_link(tmp_path) -> str:
    path = _valid(tmp_path)
    with h5py.File(path, "r+") as handle:
        name = _weight_dataset(handle)
        handle["copy"] = handle[name][()]
        del handle[name]
        handle[name] = h5py.SoftLink("/copy")
    return path


def _external_link(tmp_path) -> str:
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as handle:
        handle["w"] = np.frombuffer(SECRET, dtype="<f8")
    path = _valid(tmp_path)
    with h5py.File(path, "r+") as handle:
        name = _weight_dataset(handle)
        del handle[name]
        handle[name] = h5py.ExternalLink(str(other), "/w")
    return path


def _virtual_dataset(tmp_path) -> str:
    """An HDF5 virtual dataset: the weight's bytes are mapped from another file's dataset."""
    path = _valid(tmp_path)
    with h5py.File(path, "r+") as handle:
        name = _weight_dataset(handle)
        shape = handle[name].shape
        rows, cols = (1, shape[0]) if len(shape) == 1 else shape
        other = tmp_path / "other.h5"
        secret = np.resize(np.frombuffer(SECRET, dtype="<f8"), rows * cols)
        with h5py.File(other, "w") as outside:
            outside["w"] = secret
        source = h5py.VirtualSource(str(other), "w", shape=secret.shape)
        layout = h5py.VirtualLayout(shape=shape, dtype="<f8")
        for row in range(rows):  # a virtual layout maps row by row: no reshape of a source
            target = (slice(None),) if len(shape) == 1 else (row, slice(None))
            layout[target] = source[row * cols : (row + 1) * cols]
        del handle[name]
        handle.create_virtual_dataset(name, layout)
    return path


def _bomb(tmp_path) -> str:
    path = _valid(tmp_path)
    with h5py.File(path, "r+") as handle:
        # a few KB on disk, 2^50 bytes declared
        handle.create_dataset("bomb", shape=(2**47,), dtype="<f8", chunks=(2**20,), compression="gzip")
    return path


@pytest.mark.parametrize(
    "make",
    [_external_storage, _virtual_dataset, _soft_link, _external_link, _bomb],
    ids=lambda f: f.__name__.strip("_"),
)
def test_content_outside_the_file_is_refused(make, tmp_path, capsys):
    path = make(tmp_path)
    with pytest.raises(ValidationError, match="self-contained|needs about"):
        from_nir(path, dt=DT)
    out = tmp_path / "o"
    assert main(["deploy", path, "--backend", "numba", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("make", [_external_storage, _virtual_dataset], ids=["external-storage", "virtual"])
def test_the_crafted_files_were_real_leak_paths(make, tmp_path):
    # each crafted file does point at the secret: h5py reads it when asked to
    with h5py.File(make(tmp_path), "r") as handle:
        assert handle[_weight_dataset(handle)][()].tobytes()[: len(SECRET)] == SECRET


def _garbage(tmp_path):
    (tmp_path / "g.nir").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 4)
    return tmp_path / "g.nir"


def _empty(tmp_path):
    (tmp_path / "e.nir").write_bytes(b"")
    return tmp_path / "e.nir"


def _truncated(tmp_path):
    data = open(_valid(tmp_path), "rb").read()
    (tmp_path / "t.nir").write_bytes(data[: len(data) // 2])
    return tmp_path / "t.nir"


def _not_nir(tmp_path):
    with h5py.File(tmp_path / "h.nir", "w") as handle:
        handle["x"] = np.arange(3)
    return tmp_path / "h.nir"


def _missing(tmp_path):
    return tmp_path / "nope.nir"


def _unknown_node_type(tmp_path, type_name: bytes = b"NotANIRPrimitive"):
    path = _valid(tmp_path)
    with h5py.File(path, "r+") as handle:
        types = []
        handle.visititems(lambda name, item: types.append(name) if name.endswith("/type") else None)
        node = next(name for name in types if handle[name][()] not in (b"Input", b"Output", b"NIRGraph"))
        del handle[node]
        handle[node] = type_name
    return path


def _garbage_node_type(tmp_path):
    return _unknown_node_type(tmp_path, bytes(range(1, 200)))


def _directory(tmp_path):
    (tmp_path / "d.nir").mkdir()
    return tmp_path / "d.nir"


@pytest.mark.parametrize(
    "make",
    [_garbage, _empty, _truncated, _not_nir, _missing, _directory, _unknown_node_type, _garbage_node_type],
    ids=lambda f: f.__name__.strip("_"),
)
def test_corrupt_files_give_one_clean_line(make, tmp_path, capsys):
    path = make(tmp_path)
    with pytest.raises((ValidationError, UnsupportedFeature)) as caught:
        from_nir(str(path), dt=DT)
    assert str(path) in str(caught.value)
    assert main(["deploy", str(path), "--backend", "numba", "--out", str(tmp_path / "o")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_deploy_out_ending_in_nir_writes_that_file(tmp_path, capsys):
    from tests.hardware.test_nir import _written

    model = _written(lif_delta(), tmp_path)
    target = tmp_path / "exported.nir"
    assert main(["deploy", model, "--backend", "nir", "--out", str(target)]) == 0, capsys.readouterr().err
    assert target.is_file()  # a file, not a directory named exported.nir
    again, _ = from_nir(str(target), dt=DT)
    assert list(again.populations) == ["exc"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exported.nir", "lif_delta.nir"]  # no temp left


def _lif(n: int, tau: float = 0.02):
    import nir

    return nir.LIF(tau=np.full(n, tau), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n))


def _graph(neurons=None, edges=None, metadata=None, weight=None):
    import nir

    nodes = {
        "input": nir.Input(np.array([3])),
        "fc": nir.Linear(np.ones((4, 3)) if weight is None else weight),
        "lif": _lif(4) if neurons is None else neurons,
        "output": nir.Output(np.array([4])),
    }
    edges = edges or [("input", "fc"), ("fc", "lif"), ("lif", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata or {}, type_check=False)


@pytest.mark.parametrize(
    "graph, field",
    [
        (lambda: _graph(neurons=_lif(5)), "nodes.fc.weight"),  # was a raw broadcast ValueError
        (lambda: _graph(edges=[("input", "fc"), ("fc", "nope"), ("lif", "output")]), "edges[1]"),  # KeyError
        (lambda: _graph(neurons=_lif(4, np.nan)), "nodes.lif.tau"),  # was called "per-neuron tau"
        (lambda: _graph(neurons=_lif(4, -1.0)), "tau_mem"),
        (lambda: _graph(metadata={"neurobridge": "{not json"}), "metadata.neurobridge"),  # JSONDecodeError
        (lambda: _graph(weight=np.array([["a"] * 3] * 4)), "nodes.fc.weight"),  # could not convert string
    ],
    ids=[
        "weight-rows",
        "edge-to-missing-node",
        "nan-tau",
        "negative-tau",
        "bad-metadata-json",
        "string-weight",
    ],
)
def test_broken_graphs_name_the_node_and_field(graph, field, tmp_path, capsys):
    with pytest.raises(ValidationError, match=re.escape(field)) as caught:
        from_nir(graph(), dt=DT)
    if field == "nodes.lif.tau":
        assert "finite" in str(caught.value) and "per-neuron" not in str(caught.value)
    if field == "nodes.fc.weight" and graph().nodes["fc"].weight.dtype.kind == "U":
        return  # h5py cannot store fixed-width unicode: this one only reaches us as an object
    # and the same from a file at the command line
    import nir

    path = tmp_path / "broken.nir"
    nir.write(path, graph())
    assert main(["deploy", str(path), "--backend", "numba", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err


def test_the_unbroken_graph_imports():
    network, _ = from_nir(_graph(), dt=DT)
    assert network.populations["lif"].size == 4


def test_graph_errors_name_the_file_and_the_node(tmp_path):
    inp = nir.Input(input_type={"input": np.array([2])})
    cases = {
        "cycle.nir": (  # a loop of weights with no state: no order to evaluate it in
            {"in": inp, "a": nir.Linear(weight=np.eye(2)), "b": nir.Linear(weight=np.eye(2)), "n": _lif(2)},
            [("in", "a"), ("a", "b"), ("b", "a"), ("b", "n")],
            ValidationError,
            "cycle.nir: edges: the loop a -> b -> a passes through no neuron or Delay node",
        ),
        "shape.nir": (
            {"in": inp, "a": nir.Linear(weight=np.ones((3, 2))), "n": _lif(2)},
            [("in", "a"), ("a", "n")],
            ValidationError,
            "shape.nir: nodes.a.weight: has 3 rows but feeds 'n' with 2 neurons",
        ),
        "pool.nir": (
            {
                "in": inp,
                "p": nir.Threshold(threshold=np.ones(2)),
                "n": _lif(2),
            },
            [("in", "p"), ("p", "n")],
            UnsupportedFeature,
            "NIR node 'p' (Threshold) (in pool.nir)",
        ),
    }
    for name, (nodes, edges, kind, message) in cases.items():
        nir.write(tmp_path / name, nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))
        with pytest.raises(kind) as caught:
            from_nir(tmp_path / name, conventions="snntorch")
        assert message in str(caught.value), name
