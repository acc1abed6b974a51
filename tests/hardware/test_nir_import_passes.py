"""The passes of :func:`hardware.nir_import.from_nir_graph`, each on a small real ``nir`` graph.

Each test runs the passes up to the one it checks (a pass reads what the earlier ones left
in the :class:`~hardware.nir_import.GraphMapping`) and checks that pass's own output against
the numbers worked out by hand from :mod:`hardware.nir_fields`' conventions.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import snn
from snn.errors import UnsupportedFeature

nir = pytest.importorskip("nir")
from hardware import nir_import  # noqa: E402
from hardware.nir import run_graph  # noqa: E402

DT = 1e-4


def lif(n: int, tau: float = 0.02, r: float = 1.0) -> nir.LIF:
    return nir.LIF(
        tau=np.full(n, tau), r=np.full(n, r), v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n)
    )


def graph(nodes: dict, edges: list) -> nir.NIRGraph:
    # type_check=False: as nir.read hands over a producer's graph (Norse's Input carries a batch
    # axis its Linear does not), so the passes meet what they meet in files
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def mapped_through(
    g: nir.NIRGraph, last, spikes: str = "dirac", conventions="neurobridge"
) -> nir_import.GraphMapping:
    """The mapping after every pass up to and including ``last``."""
    mapping = nir_import.start_mapping(g, DT, spikes, conventions)
    for run_pass in nir_import.PASSES:
        run_pass(mapping)
        if run_pass is last:
            return mapping
    raise AssertionError(f"{last} is not a pass")


def test_start_mapping_records_the_convention_and_both_directions_of_every_edge():
    g = graph(
        {"in": nir.Input(input_type={"input": np.array([3])}), "w": nir.Linear(weight=np.ones((2, 3))),
         "n": lif(2), "out": nir.Output(output_type={"output": np.array([2])})},
        [("in", "w"), ("w", "n"), ("n", "out")],
    )  # fmt: skip
    mapping = nir_import.start_mapping(g, DT, "step", "neurobridge")
    assert mapping.area == DT and "spikes 'step'" in mapping.report.converted[0]
    assert mapping.post_of["w"] == ["n"] and mapping.pre_of["n"] == ["w"] and mapping.pre_of["in"] == []
    with pytest.warns(nir_import.NIRConventionWarning, match="does not say who wrote it"):
        foreign = nir_import.start_mapping(g, DT, None)  # no metadata of ours: the producers' conventions
    assert foreign.area == DT and foreign.conventions.discretisation == "euler"
    assert foreign.conventions.timing == "same-step"


def test_every_unknown_node_is_listed_at_once_with_its_type():
    g = graph(
        {
            "in": nir.Input(input_type={"input": np.array([4])}),
            "thr": nir.Threshold(threshold=np.ones(4)),
            "int": nir.I(r=np.ones(4)),
            "thr2": nir.Threshold(threshold=np.ones(4)),
            "n": lif(4),
        },
        [("in", "thr"), ("thr", "int"), ("int", "thr2"), ("thr2", "n")],
    )
    with pytest.raises(UnsupportedFeature) as error:
        nir_import.refuse_unknown_nodes(nir_import.start_mapping(g, DT, None))
    message = str(error.value)
    assert "3 NIR nodes" in message
    for part in ("'thr' (Threshold)", "'int' (I)", "'thr2' (Threshold)"):
        assert part in message


def test_an_li_feeding_one_neuron_node_is_its_synaptic_current():
    li = nir.LI(tau=np.full(2, 5e-3), r=np.ones(2), v_leak=np.zeros(2))
    g = graph(
        {"in": nir.Input(input_type={"input": np.array([2])}), "w": nir.Linear(weight=np.eye(2)),
         "syn": li, "n": lif(2), "readout": nir.LI(tau=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2)),
         "out": nir.Output(output_type={"output": np.array([2])})},
        [("in", "w"), ("w", "syn"), ("syn", "n"), ("n", "readout"), ("readout", "out")],
    )  # fmt: skip
    mapping = mapped_through(g, nir_import.find_synaptic_currents)
    assert mapping.currents == {"syn": "n"}  # the readout LI feeds an Output: a population of its own
    leaky = graph({**g.nodes, "syn": nir.LI(tau=np.full(2, 5e-3), r=np.ones(2), v_leak=np.ones(2))}, g.edges)
    with pytest.raises(UnsupportedFeature, match="v_leak != 0"):
        mapped_through(leaky, nir_import.find_synaptic_currents)


def test_neurons_become_populations_and_a_batch_axis_of_one_is_dropped():
    g = graph(
        {"in": nir.Input(input_type={"input": np.array([1, 5])}), "w": nir.Linear(weight=np.ones((3, 5))),
         "n": lif(3, tau=0.03, r=2.0)},
        [("in", "w"), ("w", "n")],
    )  # fmt: skip
    mapping = mapped_through(g, nir_import.map_neurons_and_inputs)
    assert mapping.network.sources["in"].size == 5
    model = mapping.populations["n"].model
    assert isinstance(model, snn.LIF)
    assert (model.tau_mem, model.resistance, model.tau_ref) == (0.03, 2.0, 0.0)
    uneven = nir.LIF(
        tau=np.array([0.02, 0.03, 0.02]),
        r=np.ones(3),
        v_leak=np.zeros(3),
        v_threshold=np.ones(3),
        v_reset=np.zeros(3),
    )
    per_neuron = graph({**g.nodes, "n": uneven}, g.edges)
    parts = mapped_through(per_neuron, nir_import.map_neurons_and_inputs).parts["n"]
    # one part per distinct parameter set, numbered by first neuron
    assert [(p.name, p.neurons.tolist(), p.model.tau_mem) for p in parts] == [
        ("n_0", [0, 2], 0.02),
        ("n_1", [1], 0.03),
    ]
    network, report = nir_import.from_nir_graph(per_neuron, DT, None, conventions="snntorch")
    assert list(network.populations) == ["n_0", "n_1"]
    assert report.parts == {"n": [{"name": "n_0", "neurons": [0, 2]}, {"name": "n_1", "neurons": [1]}]}
    assert sorted(p.post for p in network.projections) == ["n_0", "n_1"]


def test_projections_carry_gain_delays_and_biases():
    weight = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = graph(
        {"in": nir.Input(input_type={"input": np.array([2])}),
         "w": nir.Affine(weight=weight, bias=np.array([0.5, 0.5])),
         "d": nir.Delay(delay=np.full(2, 3 * DT)), "n": lif(2, tau=0.02, r=1.0)},
        [("in", "w"), ("w", "d"), ("d", "n")],
    )  # fmt: skip
    with pytest.raises(UnsupportedFeature, match="behind a delay"):  # our currents act at once
        mapped_through(g, nir_import.map_projections)
    g = graph({**g.nodes, "w": nir.Affine(weight=weight, bias=np.array([0.5, 0.5]))},
              [("in", "d"), ("d", "w"), ("w", "n")])  # fmt: skip
    mapping = mapped_through(g, nir_import.map_projections)
    ((_, name, pre, post, weights, delays, synapse),) = mapping.projections
    assert (name, pre, post, delays) == ("w_to_n", "in", "n", pytest.approx(3 * DT))
    np.testing.assert_allclose(weights, weight.T * 1.0 / 0.02)  # g = r a / tau with a = 1 (dirac)
    assert isinstance(synapse, snn.Delta)
    np.testing.assert_array_equal(mapping.biases["n"], [0.5, 0.5])
    nir_import.add_populations(mapping)
    assert mapping.network.populations["n"].model.i_bias == 0.5  # uniform: i_bias, no current
    assert not mapping.network.currents


def test_uneven_biases_are_a_constant_current_and_outputs_probe_what_they_read():
    g = graph(
        {"in": nir.Input(input_type={"input": np.array([2])}),
         "w": nir.Affine(weight=np.eye(2), bias=np.array([0.1, 0.2])), "n": lif(2),
         "w2": nir.Linear(weight=np.ones((1, 2))),
         "readout": nir.LI(tau=np.full(1, 0.01), r=np.ones(1), v_leak=np.zeros(1)),
         "out": nir.Output(output_type={"output": np.array([1])}),
         "spikes": nir.Output(output_type={"output": np.array([2])})},
        [("in", "w"), ("w", "n"), ("n", "w2"), ("w2", "readout"), ("readout", "out"), ("n", "spikes")],
    )  # fmt: skip
    network, report = nir_import.from_nir_graph(g, DT, None, "neurobridge")
    (current,) = network.currents
    assert current.target == "n"
    np.testing.assert_array_equal(current.amplitudes[0], [0.1, 0.2])
    probes = {p.name: (p.target, p.variable) for p in network.probes}
    assert probes == {"out": ("readout", "v"), "spikes": ("n", "spikes")}
    assert [p.name for p in network.projections] == ["w_to_n", "w2_to_readout"]
    assert report.neurons == 3


def test_nested_graphs_are_inlined_and_run_as_their_flat_twin():
    # the recurrent layer as a subgraph, the way snnTorch's importer nests an RNN
    w_in = np.random.default_rng(0).uniform(20.0, 60.0, (4, 3))
    w_rec = np.random.default_rng(1).normal(0.0, 20.0, (4, 4))
    sub = graph(
        {"input": nir.Input(input_type={"input": np.array([4])}), "lif": lif(4, tau=0.01),
         "w_rec": nir.Linear(weight=w_rec), "output": nir.Output(output_type={"output": np.array([4])})},
        [("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
    )  # fmt: skip
    outer = {"in": nir.Input(input_type={"input": np.array([3])}), "w": nir.Linear(weight=w_in),
             "out": nir.Output(output_type={"output": np.array([4])})}  # fmt: skip
    nested = graph({**outer, "rnn": sub}, [("in", "w"), ("w", "rnn"), ("rnn", "out")])
    flat = graph(
        {**outer, "rnn.lif": lif(4, tau=0.01), "rnn.w_rec": nir.Linear(weight=w_rec)},
        [
            ("in", "w"),
            ("w", "rnn.lif"),
            ("rnn.lif", "rnn.w_rec"),
            ("rnn.w_rec", "rnn.lif"),
            ("rnn.lif", "out"),
        ],
    )
    inlined = nir_import.flatten(nested)
    assert set(inlined.nodes) == set(flat.nodes) and set(inlined.edges) == set(flat.edges)
    frames = (np.random.default_rng(2).random((400, 3)) < 0.1).astype(np.float64)
    runs = [run_graph(g, {"in": frames}, dt=DT, conventions="snntorch")[0] for g in (nested, flat)]
    assert runs[0].spikes["rnn_lif"][0].size > 20
    for a, b in zip(runs[0].spikes["rnn_lif"], runs[1].spikes["rnn_lif"], strict=True):
        np.testing.assert_array_equal(a, b)


def test_reset_by_subtraction_and_euler_are_import_options():
    nodes = {
        "in": nir.Input(input_type={"input": np.array([2])}),
        "w": nir.Linear(weight=np.eye(2)),
        "n": lif(2),
    }
    g = graph(nodes, [("in", "w"), ("w", "n")])
    chosen = {"spikes": "step", "discretisation": "euler", "timing": "same-step", "reset": "subtract"}
    network, report = nir_import.from_nir_graph(g, DT, None, chosen)
    model = network.populations["n"].model
    assert (model.reset, model.integration) == ("subtract", "euler")
    assert "reset 'subtract'" in report.converted[0]
    with pytest.raises(snn.ValidationError, match="conventions.reset"):
        nir_import.from_nir_graph(g, DT, None, {**chosen, "reset": "zero"})


def test_a_uniform_bias_into_a_split_node_reaches_every_part():
    # the parts' models hold no i_bias, so the bias must arrive as a constant current
    g = graph(
        {"in": nir.Input(input_type={"input": np.array([2])}), "w": nir.Affine(weight=np.ones((3, 2)),
         bias=np.full(3, 0.5)), "n": dataclasses.replace(lif(3), v_threshold=np.array([1.0, 2.0, 2.0]))},
        [("in", "w"), ("w", "n")],
    )  # fmt: skip
    network, report = nir_import.from_nir_graph(g, DT, None, conventions="snntorch")
    assert set(report.parts) == {"n"} and len(network.populations) == 2
    reached = {
        c.target: np.broadcast_to(c.amplitudes[0], (network.populations[c.target].size,))
        for c in network.currents
    }
    assert sorted(reached) == ["n_0", "n_1"]
    assert all(np.all(v == 0.5) for v in reached.values())
