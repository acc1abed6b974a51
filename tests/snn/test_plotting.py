"""Plots that leave data out say so on the plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import snn  # noqa: E402
from snn.plotting import raster  # noqa: E402


def _result() -> snn.Result:
    net = snn.Network("two")
    net.add(snn.PoissonSource(name="big", size=50, rate=200.0))
    net.add(snn.Population(name="small", size=5, model=snn.LIF(v_rest=0.0, v_reset=0.0, v_th=0.5)))
    net.connect("big", "small", snn.AllToAll(weights=0.2))
    net.probe("big")
    net.probe("small")
    return snn.Simulator(net, dt=1e-4, progress=False).run(0.05)


def test_a_raster_of_a_subset_labels_it():
    result = _result()
    ax = raster(result, nodes=["big", "small"], max_neurons=20)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["big (first 20 of 50)", "small"]
    assert ax.get_ylabel() == "neuron (subset shown)"
    assert ax.get_title() == "shown: big: first 20 of 50 neurons"
    # only the first 20 neurons of "big" are drawn, then "small" above them
    rows = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
    assert rows.max() < 25 and ax.get_ylim() == (0.0, 25.0)


def test_a_whole_raster_says_nothing_extra():
    result = _result()
    assert result.spikes["small"][0].size > 0
    ax = raster(result)
    assert ax.get_ylabel() == "neuron" and ax.get_title() == ""
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["big", "small"]
