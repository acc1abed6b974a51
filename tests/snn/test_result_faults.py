"""Result files: equal runs save equal bytes; every corrupt file is one ValidationError."""

from __future__ import annotations

import io
import json
import time
import zipfile

import numpy as np
import pytest

import snn
from snn.errors import ValidationError
from snn.result import Result, Trace


def _network():
    net = snn.Network("faults")
    net.add(snn.PoissonSource(name="in", size=20, rate=200.0))
    net.add(snn.Population(name="n", size=10, model=snn.LIF()))
    net.connect("in", "n", snn.FixedProbability(p=0.5, weight=0.02, delay=1e-3))
    net.probe("n")
    net.probe("n", "v")
    return net


def _run(seed=3):
    return snn.Simulator(_network(), dt=1e-4, seed=seed, progress=False).run(0.05)


def test_two_equal_runs_save_identical_bytes(tmp_path):
    first = _run().save(tmp_path / "a.npz")
    time.sleep(1.1)  # zip entry dates would differ by now
    second = _run().save(tmp_path / "b.npz")
    assert first.read_bytes() == second.read_bytes()


def test_timings_stay_in_memory_not_in_the_file(tmp_path):
    result = _run()
    assert result.metadata["run_s"] >= 0 and result.metadata.get("threads") >= 1
    assert "run_s" in result.timings
    loaded = Result.load(result.save(tmp_path / "r.npz"))
    assert loaded.equals(result) and loaded.metadata == result.metadata
    assert "run_s" not in loaded.metadata and loaded.timings == {}


def _small() -> Result:
    return Result(
        spikes={"n": (np.array([0.001, 0.002]), np.array([0, 3]))},
        traces={"v": Trace(np.array([0.1, 0.2]), np.zeros((2, 2)), np.array([0, 1]), "n", "v")},
        sizes={"n": 4},
        duration=0.3,
        metadata={"seed": 1},
    )


def _entries() -> dict[str, bytes]:
    tmp = _small()
    arrays = {
        "spikes/n/times": tmp.spikes["n"][0],
        "spikes/n/ids": tmp.spikes["n"][1],
        "traces/v/t": tmp.traces["v"].t,
        "traces/v/values": tmp.traces["v"].values,
        "traces/v/neurons": tmp.traces["v"].neurons,
    }
    out = {key: _npy(value) for key, value in arrays.items()}
    out["header"] = _header()
    return out


def _npy(value) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(value))
    return buf.getvalue()


def _header(**changes) -> bytes:
    header = {
        "format": "neurobridge.result/1",
        "sizes": {"n": 4},
        "spike_nodes": ["n"],
        "duration": 0.3,
        "metadata": {},
        "traces": {"v": {"target": "n", "variable": "v"}},
    }
    header.update(changes)
    return _npy(np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, data in entries.items():
            zf.writestr(key + ".npy", data)
    return buf.getvalue()


def _with(**replace) -> bytes:
    entries = _entries()
    for key, value in replace.items():
        key = key.replace("__", "/")
        if value is None:
            entries.pop(key)
        else:
            entries[key] = value
    return _zip(entries)


def _bomb_header() -> bytes:
    # a valid header declaring 10^9 float64 followed by nothing: deflates to a few bytes
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    return head.getvalue()


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, data in _entries().items():
            if key != "spikes/n/times":
                zf.writestr(key + ".npy", data)
        with zf.open("spikes/n/times.npy", "w", force_zip64=True) as member:
            member.write(_bomb_header())
            zeros = bytes(2**20)
            for _ in range(64):  # 64 MiB of zeros: a ~64 KiB entry declaring 8 GB
                member.write(zeros)
    return buf.getvalue()


CORRUPT = {
    "empty": b"",
    "garbage": b"this is not a zip file at all",
    "truncated": _with()[:200],
    "truncated_tail": _with()[:-30],
    "no_header": _with(header=None),
    "no_times": _with(spikes__n__times=None),
    "no_trace_values": _with(traces__v__values=None),
    "header_not_json": _with(header=_npy(np.frombuffer(b"{not json", dtype=np.uint8))),
    "header_not_utf8": _with(header=_npy(np.frombuffer(b"\xff\xfe\x00", dtype=np.uint8))),
    "header_float": _with(header=_npy(np.zeros(4))),
    "header_list": _with(header=_npy(np.frombuffer(b"[1, 2]", dtype=np.uint8))),
    "wrong_format": _with(header=_header(format="other/9")),
    "sizes_negative": _with(header=_header(sizes={"n": -1})),
    "duration_nan": _with(header=_header(duration=float("nan"))),
    "duration_string": _with(header=_header(duration="0.3")),
    "metadata_list": _with(header=_header(metadata=[1])),
    "unknown_spike_node": _with(header=_header(spike_nodes=["zz"])),
    "trace_info_broken": _with(header=_header(traces={"v": 3})),
    "ids_out_of_range": _with(spikes__n__ids=_npy(np.array([0, 4]))),
    "ids_negative": _with(spikes__n__ids=_npy(np.array([0, -1]))),
    "ids_float": _with(spikes__n__ids=_npy(np.array([0.0, 1.0]))),
    "length_mismatch": _with(spikes__n__ids=_npy(np.array([0, 1, 2]))),
    "times_nan": _with(spikes__n__times=_npy(np.array([np.nan, 0.1]))),
    "times_after_end": _with(spikes__n__times=_npy(np.array([0.1, 5.0]))),
    "times_2d": _with(spikes__n__times=_npy(np.zeros((2, 1)))),
    "times_object": _with(spikes__n__times=_npy(np.array([1, "a"], dtype=object))),
    "times_complex": _with(spikes__n__times=_npy(np.array([1j, 2j]))),
    "values_wrong_shape": _with(traces__v__values=_npy(np.zeros((3, 2)))),
    "trace_t_nan": _with(traces__v__t=_npy(np.array([np.nan, 0.2]))),
    "neurons_out_of_range": _with(traces__v__neurons=_npy(np.array([0, 9]))),
    "npy_bad_magic": _with(spikes__n__times=b"NOTNPY" + bytes(100)),
    "npy_header_garbage": _with(spikes__n__times=b"\x93NUMPY\x01\x00\x10\x00{'descr': 'zz'}  \n"),
    "npy_short_data": _with(spikes__n__times=_npy(np.array([0.001, 0.002]))[:-8]),
    "npy_huge_shape": _with(spikes__n__times=_bomb_header()),
    "extra_entry": _with(junk=_npy(np.zeros(1))),
    "zip_bomb": _zip_bomb(),
}


def test_the_fixture_itself_loads(tmp_path):
    path = tmp_path / "ok.npz"
    path.write_bytes(_with())
    loaded = Result.load(path)
    assert loaded.equals(_small())


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_corrupt_file_is_one_validation_error(tmp_path, name):
    path = tmp_path / f"{name}.npz"
    path.write_bytes(CORRUPT[name])
    start = time.perf_counter()
    with pytest.raises(ValidationError) as info:
        Result.load(path)
    assert time.perf_counter() - start < 5
    assert str(path) in str(info.value)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_missing_or_directory(tmp_path, kind):
    path = tmp_path / "x.npz"
    if kind == "directory":
        path.mkdir()
    with pytest.raises(ValidationError, match="x.npz"):
        Result.load(path)


def test_non_finite_state_is_an_error_not_a_result():
    net = snn.Network("nan")
    net.add(snn.Population(name="n", size=3, model=snn.LIF()))
    net.probe("n")
    sim = snn.Simulator(net, dt=1e-4, progress=False)
    sim.run(0.001)
    sim.v[1] = np.nan  # what an overflowing update leaves behind
    with pytest.raises(ValidationError, match=r"populations\.n.*state v became non-finite"):
        sim.run(0.001)
