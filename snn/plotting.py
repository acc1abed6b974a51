"""Matplotlib drawings of a Result (imported only when a plot is asked for)."""

from __future__ import annotations

import numpy as np


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(8, 4.5))
    return ax


def raster(result, ax=None, nodes=None, max_neurons: int = 1000):
    """Dots at (spike time, neuron row); each node gets its own band and colour."""
    ax = _axes(ax)
    nodes = list(result.spikes) if nodes is None else nodes
    offset = 0
    subsets = []
    for node in nodes:
        times, ids = result.spikes[node]
        size = result.sizes[node]
        shown = min(size, max_neurons)
        keep = ids < shown
        label = node if shown == size else f"{node} (first {shown} of {size})"
        if shown < size:
            subsets.append(f"{node}: first {shown} of {size} neurons")
        ax.scatter(times[keep], ids[keep] + offset, s=0.5, marker=".", label=label, rasterized=True)
        offset += shown
    ax.set_xlabel("time (s)")
    # a raster that leaves neurons out says so on the plot, not only in the code
    ax.set_ylabel("neuron" if not subsets else "neuron (subset shown)")
    if subsets:
        ax.set_title("shown: " + "; ".join(subsets), fontsize="small")
    ax.set_xlim(0, result.duration)
    ax.set_ylim(0, max(offset, 1))
    if len(nodes) > 1:
        ax.legend(loc="upper right", markerscale=10, fontsize="small")
    return ax


def trace(trace, ax=None, max_lines: int = 10):
    ax = _axes(ax)
    lines = trace.values[:, :max_lines]
    ax.plot(trace.t, lines, lw=0.8)
    unit = {"v": "V", "b": "(dimensionless)", "i_syn": "A", "i_ext": "A"}.get(trace.variable, "")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"{trace.target}.{trace.variable} {unit}")
    return ax


def population_rate(result, node: str, bin_s: float = 1e-3, ax=None):
    """Population firing rate (Hz) in bins of ``bin_s`` seconds."""
    ax = _axes(ax)
    times, _ = result.spikes[node]
    n_bins = max(1, int(result.duration // bin_s))  # whole bins only: a partial last bin would dip
    edges = np.arange(n_bins + 1) * bin_s
    counts, _ = np.histogram(times, edges)
    ax.plot(edges[:-1], counts / (bin_s * result.sizes[node]), lw=0.8, label=node)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("rate (Hz)")
    return ax
