"""CubaLIF is NIR's primitive: a NIR CubaLIF graph imports 1:1 as our CubaLIF and runs spike
for spike against our exported twin."""

from __future__ import annotations

import numpy as np
import pytest

nir = pytest.importorskip("nir")

import snn  # noqa: E402
from hardware.nir import from_nir, to_nir  # noqa: E402

DT = 1e-4


def nir_graph(n_in: int = 8, n: int = 5) -> nir.NIRGraph:
    """Input -> Linear -> CubaLIF -> Output, written as a producer writes it (per-neuron arrays)."""
    rng = np.random.default_rng(3)
    weights = rng.uniform(0.0, 2.0, size=(n, n_in))
    return nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type=np.array([n_in])),
            "fc": nir.Linear(weight=weights),
            "lif": nir.CubaLIF(
                tau_syn=np.full(n, 5e-3),
                tau_mem=np.full(n, 20e-3),
                r=np.full(n, 1.0),
                v_leak=np.zeros(n),
                v_threshold=np.full(n, 1.0),
                v_reset=np.zeros(n),
                w_in=np.full(n, 1.0),
            ),  # fmt: skip
            "output": nir.Output(output_type=np.array([n])),
        },
        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")],
    )


def drive(net: snn.Network, n_in: int = 8) -> snn.Network:
    """Replace the imported graph's input port by a fixed spike train of the same size."""
    rng = np.random.default_rng(1)
    step, channel = np.nonzero(rng.random((3000, n_in)) < 0.03)
    source = next(iter(net.sources.values()))
    copy = snn.Network(name=net.name)
    copy.add(snn.SpikeSource(name=source.name, size=n_in, times=step * DT, ids=channel))
    for pop in net.populations.values():
        copy.add(pop)
    for projection in net.projections:
        copy.add_projection(projection)
    for pop in net.populations:
        copy.probe(pop)
    return copy


def spikes(net: snn.Network, name: str):
    times, ids = snn.Simulator(net, dt=DT, progress=False).run(0.3).spikes[name]
    return times, ids


def test_nir_cubalif_imports_one_to_one_and_matches_its_exported_twin(tmp_path):
    imported, _ = from_nir(nir_graph(), dt=DT, conventions="neurobridge")  # written for our step
    (pop,) = imported.populations.values()
    assert type(pop.model) is snn.CubaLIF
    assert (pop.model.tau_syn, pop.model.tau_mem, pop.model.v_th) == (5e-3, 20e-3, 1.0)
    net = drive(imported)
    twin_graph, _ = to_nir(net, dt=DT)
    nir.write(tmp_path / "twin.nir", twin_graph)
    node = twin_graph.nodes[pop.name]
    assert isinstance(node, nir.CubaLIF)  # 1:1: no extra synaptic-current node
    np.testing.assert_array_equal(node.tau_syn, np.full(5, 5e-3))
    twin = drive(from_nir(tmp_path / "twin.nir", dt=DT)[0])
    (twin_pop,) = twin.populations.values()
    assert twin_pop.model == pop.model
    ours, theirs = spikes(net, pop.name), spikes(twin, twin_pop.name)
    assert ours[0].size > 20
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
