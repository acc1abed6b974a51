"""``snn.Result``: what a run produced — spikes, probe traces and metadata.

Spikes are kept per node as two arrays, ``times`` (s, float64) and ``ids`` (int64,
index within the node), in time order. Traces are ``(t, values)`` with ``t`` of shape
``(n_samples,)`` and ``values`` of shape ``(n_samples, n_recorded_neurons)``.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from snn.atomic import write_atomic
from snn.errors import ValidationError


def isi_cvs(times: np.ndarray, ids: np.ndarray, min_spikes: int = 3) -> list[float]:
    """CV of the inter-spike intervals of each neuron in ``(times, ids)`` that has at least
    ``min_spikes`` spikes. Shared with the peer references so both sides use one metric."""
    order = np.lexsort((times, ids))
    times, ids = times[order], ids[order]
    cvs = []
    for train in np.split(times, np.flatnonzero(np.diff(ids)) + 1):
        if train.size >= min_spikes:
            isi = np.diff(train)
            if isi.mean() > 0:
                cvs.append(float(isi.std() / isi.mean()))
    return cvs


@dataclass
class Trace:
    t: np.ndarray  # (n_samples,) s, time at the end of each sampled step
    values: np.ndarray  # (n_samples, n_neurons)
    neurons: np.ndarray  # (n_neurons,) indices within the target population
    target: str
    variable: str


class RunMetadata(dict):
    """A run's metadata: what the run produced and with what (saved with the result), plus
    ``timings`` — wall times (``build_s``, ``compile_s``, ``run_s``, ...) and the thread count,
    which differ between equal runs and are therefore never saved. ``meta["run_s"]`` and
    ``meta.get("threads")`` still read them (backward compatible); equality, iteration and
    ``json.dumps`` see only the saved part."""

    def __init__(self, items=(), timings=None):
        super().__init__(items)
        self.timings = dict(timings or {})

    def __missing__(self, key):
        if key in self.timings:
            return self.timings[key]
        raise KeyError(key)

    def get(self, key, default=None):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self.timings.get(key, default)


def _split_metadata(metadata) -> RunMetadata:
    timings = dict(getattr(metadata, "timings", {}))
    kept = {}
    for key, value in dict(metadata).items():
        (timings if _run_environment(key) else kept)[key] = value
    return RunMetadata(kept, timings)


@dataclass
class Result:
    """Spikes per node, traces per probe name, and run metadata (a JSON-able dict).

    ``weights``: the weights of every learning projection at the end of the run, in the
    projection's own synapse order (:meth:`snn.Simulator.weights` gives their pre and post);
    weight probes are traces with ``variable == "weights"`` whose ``neurons`` are synapse indices.
    """

    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    traces: dict[str, Trace]
    sizes: dict[str, int]
    duration: float
    metadata: dict = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.metadata = _split_metadata(self.metadata)

    @property
    def timings(self) -> dict:
        """Wall times and thread count of the run (in memory only, never saved)."""
        return self.metadata.timings

    # ---- summaries ---------------------------------------------------------------
    def spike_counts(self, node: str) -> np.ndarray:
        """Spikes per neuron of ``node`` over the run, shape ``(size,)``."""
        _, ids = self.spikes[node]
        return np.bincount(ids, minlength=self.sizes[node])

    def rates(self, node: str) -> np.ndarray:
        """Firing rate per neuron (Hz), shape ``(size,)``."""
        return self.spike_counts(node) / self.duration

    def mean_rate(self, nodes: list[str] | None = None) -> float:
        """Mean firing rate (Hz) over all neurons of ``nodes`` (default: every recorded node)."""
        nodes = list(self.spikes) if nodes is None else nodes
        total = sum(self.spikes[n][0].size for n in nodes)
        size = sum(self.sizes[n] for n in nodes)
        return total / (size * self.duration) if size else 0.0

    def isi_cv(self, nodes: list[str] | None = None, min_spikes: int = 3) -> float:
        """Mean coefficient of variation of inter-spike intervals over neurons with at least
        ``min_spikes`` spikes (NaN when none has)."""
        nodes = list(self.spikes) if nodes is None else nodes
        cvs = [cv for node in nodes for cv in isi_cvs(*self.spikes[node], min_spikes=min_spikes)]
        return float(np.mean(cvs)) if cvs else float("nan")

    # ---- persistence -------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write an ``.npz`` file atomically (temp file then rename); returns the path.

        The file holds results only: wall times (``*_s``) and the thread count are left
        out of the stored metadata (they stay in ``self.metadata``), and every zip entry
        has a fixed date, so two equal runs give byte-identical files.
        """
        path = Path(path)
        arrays: dict[str, np.ndarray] = {}
        for node, (times, ids) in self.spikes.items():
            arrays[f"spikes/{node}/times"] = times
            arrays[f"spikes/{node}/ids"] = ids
        for name, trace in self.traces.items():
            arrays[f"traces/{name}/t"] = trace.t
            arrays[f"traces/{name}/values"] = trace.values
            arrays[f"traces/{name}/neurons"] = trace.neurons
        for name, values in self.weights.items():
            arrays[f"weights/{name}"] = values
        header = {
            "format": FORMAT,
            "sizes": self.sizes,
            "spike_nodes": list(self.spikes),
            "duration": self.duration,
            "metadata": dict(self.metadata),  # without the timings
            "traces": {n: {"target": t.target, "variable": t.variable} for n, t in self.traces.items()},
            "weights": list(self.weights),
        }
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)

        def write(stream) -> None:
            with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
                for key, value in arrays.items():
                    info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    with zf.open(info, "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)

        return write_atomic(path, write)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Result:
        """Read a file written by :meth:`save`. Anything else (missing, not a zip, truncated,
        bad keys, dtypes, shapes, values, a declared size larger than memory) raises one
        :class:`~snn.errors.ValidationError` naming the file and the field."""
        return _load(Path(path), cls)

    def equals(self, other: Result) -> bool:
        """Exact equality of spikes, traces, sizes and duration (metadata may differ)."""
        if set(self.spikes) != set(other.spikes) or set(self.traces) != set(other.traces):
            return False
        for node, (times, ids) in self.spikes.items():
            if not (
                np.array_equal(times, other.spikes[node][0]) and np.array_equal(ids, other.spikes[node][1])
            ):
                return False
        for name, trace in self.traces.items():
            theirs = other.traces[name]
            if not (
                np.array_equal(trace.t, theirs.t)
                and np.array_equal(trace.values, theirs.values)
                and np.array_equal(trace.neurons, theirs.neurons)
            ):
                return False
        if set(self.weights) != set(other.weights) or not all(
            np.array_equal(w, other.weights[name]) for name, w in self.weights.items()
        ):
            return False
        return self.sizes == other.sizes and self.duration == other.duration

    # ---- plots -------------------------------------------------------------------
    def raster(self, ax=None, nodes: list[str] | None = None, max_neurons: int = 1000):
        """Spike raster (matplotlib); nodes stacked, at most ``max_neurons`` rows each."""
        from snn.plotting import raster

        return raster(self, ax=ax, nodes=nodes, max_neurons=max_neurons)

    def plot(self, probe: str, ax=None, max_lines: int = 10):
        """Plot a probe's trace against time (matplotlib)."""
        from snn.plotting import trace

        return trace(self.traces[probe], ax=ax, max_lines=max_lines)

    def __repr__(self) -> str:
        counts = {n: int(t.size) for n, (t, _) in self.spikes.items()}
        return f"Result(duration={self.duration} s, spikes={counts}, traces={list(self.traces)})"


FORMAT = "neurobridge.result/1"
_ENVIRONMENT_KEYS = {"threads"}  # how the run was executed, not what it produced


def _run_environment(key: str) -> bool:
    """Metadata that differs between equal runs: wall times (``build_s``, ``run_s``, ...)."""
    return key.endswith("_s") or key in _ENVIRONMENT_KEYS


_MAX_HEADER = 16 * 2**20


def _load(path: Path, cls):
    from snn import resources

    where = str(path)

    def bad(field: str, message: str) -> ValidationError:
        return ValidationError(f"{where}: {field}", message)

    if not path.exists():
        raise bad("file", "does not exist")
    if not path.is_file():
        raise bad("file", "is not a regular file")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise bad("file", f"is not a result file (.npz zip archive): {exc}") from None
    with zf:
        members = {}
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                raise bad(info.filename, "unexpected entry (only .npy arrays are stored)")
            members[info.filename[:-4]] = info

        declared = 0

        def array(key: str, kind: str, ndim: int, limit: int | None = None) -> np.ndarray:
            nonlocal declared
            info = members.get(key)
            if info is None:
                raise bad(key, "missing")
            try:
                with zf.open(info) as stream:
                    version = np.lib.format.read_magic(stream)
                    if version == (1, 0):
                        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
                    elif version in ((2, 0), (3, 0)):
                        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
                    else:
                        raise bad(key, f"unsupported .npy version {version}")
                    if dtype.hasobject or dtype.kind != kind or dtype.fields is not None:
                        raise bad(key, f"has dtype {dtype}, expected kind {kind!r}")
                    if len(shape) != ndim:
                        raise bad(key, f"has shape {shape}, expected {ndim} dimension(s)")
                    count = 1
                    for n in shape:
                        count *= int(n)
                    nbytes = count * dtype.itemsize
                    if limit is not None and nbytes > limit:
                        raise bad(key, f"declares {nbytes} bytes, more than the allowed {limit}")
                    # deflate compresses at most ~1032:1; a larger declared size is a bomb
                    if (
                        nbytes > 1100 * max(info.compress_size, 1) + 4096
                        or nbytes != info.file_size - stream.tell()
                    ):
                        raise bad(key, f"declares {shape} {dtype} ({nbytes} B), which the file cannot hold")
                    declared += nbytes
                    resources.require(declared, f"loading {where}", f"{where}: {key}")
                    raw = stream.read(nbytes + 1)
                    if len(raw) != nbytes:
                        raise bad(key, "is truncated")
                    data = np.frombuffer(raw, dtype=dtype)
                    data = data.reshape(shape[::-1]).T if fortran else data.reshape(shape)
                    return data.astype(dtype.newbyteorder("="), copy=True)
            except ValidationError:
                raise
            except (
                zipfile.BadZipFile,
                OSError,
                ValueError,
                EOFError,
                zlib.error,
                TypeError,
                SyntaxError,
            ) as exc:
                raise bad(key, f"cannot be read: {type(exc).__name__}: {exc}") from None

        raw = array("header", "u", 1, _MAX_HEADER)
        if raw.dtype.itemsize != 1:
            raise bad("header", f"has dtype {raw.dtype}, expected uint8")
        try:
            header = json.loads(bytes(raw).decode())
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise bad("header", f"is not valid JSON: {exc}") from None
        if not isinstance(header, dict):
            raise bad("header", "is not a JSON object")
        if header.get("format") != FORMAT:
            raise bad("header.format", f"is {header.get('format')!r}, expected {FORMAT!r}")
        sizes = header.get("sizes")
        if not isinstance(sizes, dict) or not all(
            isinstance(k, str) and type(v) is int and v >= 0 for k, v in sizes.items()
        ):
            raise bad("header.sizes", "must map node names to sizes (integers >= 0)")
        duration = header.get("duration")
        if type(duration) not in (int, float) or not np.isfinite(duration) or duration < 0:
            raise bad("header.duration", f"must be a finite number >= 0, got {duration!r}")
        metadata = header.get("metadata")
        if not isinstance(metadata, dict):
            raise bad("header.metadata", "must be a JSON object")
        nodes = header.get("spike_nodes")
        if not isinstance(nodes, list) or not all(isinstance(n, str) and n in sizes for n in nodes):
            raise bad("header.spike_nodes", "must list nodes named in header.sizes")
        infos = header.get("traces")
        if not isinstance(infos, dict) or not all(
            isinstance(i, dict) and isinstance(i.get("target"), str) and isinstance(i.get("variable"), str)
            for i in infos.values()
        ):
            raise bad("header.traces", "must map probe names to {target, variable}")
        spikes = {}
        for n in nodes:
            times = array(f"spikes/{n}/times", "f", 1)
            ids = array(f"spikes/{n}/ids", "i", 1)
            if times.size != ids.size:
                raise bad(f"spikes/{n}", f"has {times.size} times but {ids.size} ids")
            if not np.isfinite(times).all() or (times.size and (times.min() < 0 or times.max() > duration)):
                raise bad(f"spikes/{n}/times", f"must be finite and within [0, {duration}] s")
            if ids.size and (ids.min() < 0 or ids.max() >= sizes[n]):
                raise bad(f"spikes/{n}/ids", f"must be in [0, {sizes[n]})")
            spikes[n] = (times.astype(np.float64), ids.astype(np.int64))
        traces = {}
        for n, info in infos.items():
            t = array(f"traces/{n}/t", "f", 1)
            values = array(f"traces/{n}/values", "f", 2)
            neurons = array(f"traces/{n}/neurons", "i", 1)
            if values.shape != (t.size, neurons.size):
                raise bad(
                    f"traces/{n}/values", f"has shape {values.shape}, expected {(t.size, neurons.size)}"
                )
            if not np.isfinite(t).all():
                raise bad(f"traces/{n}/t", "must be finite")
            target = info["target"]
            if target in sizes and neurons.size and (neurons.min() < 0 or neurons.max() >= sizes[target]):
                raise bad(f"traces/{n}/neurons", f"must be in [0, {sizes[target]})")
            traces[n] = Trace(t, values, neurons, target, info["variable"])
        names = header.get("weights", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise bad("header.weights", "must list learning projection names")
        weights = {}
        for n in names:
            weights[n] = array(f"weights/{n}", "f", 1)
            if not np.isfinite(weights[n]).all():
                raise bad(f"weights/{n}", "must be finite")
        known = {"header"} | {f"spikes/{n}/{k}" for n in nodes for k in ("times", "ids")}
        known |= {f"traces/{n}/{k}" for n in infos for k in ("t", "values", "neurons")}
        known |= {f"weights/{n}" for n in names}
        extra = sorted(set(members) - known)
        if extra:
            raise bad(extra[0], "unexpected entry")
    return cls(
        spikes=spikes, traces=traces, sizes=sizes, duration=duration, metadata=metadata, weights=weights
    )
