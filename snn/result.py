"""``snn.Result``: what a run produced — spikes, probe traces and metadata.

Spikes are kept per node as two arrays, ``times`` (s, float64) and ``ids`` (int64,
index within the node), in time order. Traces are ``(t, values)`` with ``t`` of shape
``(n_samples,)`` and ``values`` of shape ``(n_samples, n_recorded_neurons)``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from snn.atomic import write_atomic


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


@dataclass
class Result:
    """Spikes per node, traces per probe name, and run metadata (a JSON-able dict)."""

    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    traces: dict[str, Trace]
    sizes: dict[str, int]
    duration: float
    metadata: dict = field(default_factory=dict)

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
        """Write an ``.npz`` file atomically (temp file then rename); returns the path."""
        path = Path(path)
        arrays: dict[str, np.ndarray] = {}
        for node, (times, ids) in self.spikes.items():
            arrays[f"spikes/{node}/times"] = times
            arrays[f"spikes/{node}/ids"] = ids
        for name, trace in self.traces.items():
            arrays[f"traces/{name}/t"] = trace.t
            arrays[f"traces/{name}/values"] = trace.values
            arrays[f"traces/{name}/neurons"] = trace.neurons
        header = {
            "format": "neurobridge.result/1",
            "sizes": self.sizes,
            "spike_nodes": list(self.spikes),
            "duration": self.duration,
            "metadata": self.metadata,
            "traces": {n: {"target": t.target, "variable": t.variable} for n, t in self.traces.items()},
        }
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        return write_atomic(path, lambda stream: np.savez_compressed(stream, **arrays))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Result:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            spikes = {n: (data[f"spikes/{n}/times"], data[f"spikes/{n}/ids"]) for n in header["spike_nodes"]}
            traces = {
                n: Trace(
                    data[f"traces/{n}/t"],
                    data[f"traces/{n}/values"],
                    data[f"traces/{n}/neurons"],
                    info["target"],
                    info["variable"],
                )
                for n, info in header["traces"].items()
            }
        return cls(
            spikes=spikes,
            traces=traces,
            sizes=header["sizes"],
            duration=header["duration"],
            metadata=header["metadata"],
        )

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
