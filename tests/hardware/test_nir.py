"""NIR export/import: round trips on our simulator, and exchanges with snnTorch and Norse.

Peer conventions (read from snntorch 1.0 ``import_nir``/``export_nir`` and norse 1.1
``utils/import_nir``/``export_nir``): both integrate with forward Euler, ``v[t] = (1 - dt/tau) v[t-1]
+ (input of step t)``, test ``v > threshold`` and reset to 0 within the same step, and treat an
input spike as a unit-height pulse for one step (our ``spikes="step"`` convention). Our simulator
integrates the leak exactly (``alpha = exp(-dt/tau)``) and a delta spike of step ``t - 1`` lands at
the end of that step, so it has leaked once (factor ``alpha``) when step ``t`` is thresholded. We
therefore feed a peer ``alpha * S[t - 1]``; what remains is Euler ``1 - dt/tau`` against ``exp(-dt/tau)``
(a relative difference of ``(dt/tau)^2 / 2`` = 1.25e-5 per step at dt = 0.1 ms, tau = 20 ms).
"""

from __future__ import annotations

import json

import nir
import numpy as np
import pytest

import hardware
import snn
from hardware.nir import NIRBackend, from_nir, read, to_nir, write
from hardware.nir_export import uses_current_node
from hardware.nir_fields import NEURON_FIELDS, NOT_NODE_FIELDS, Conventions
from snn.build import population_synapses

DT = 1e-4
TAU = 20e-3


def source(n: int = 5, duration: float = 0.1, rate: float = 150.0, seed: int = 1) -> snn.SpikeSource:
    """Given spike trains on a dt grid (times k * DT), at most one spike per channel and step."""
    rng = np.random.default_rng(seed)
    steps, ids = np.nonzero(rng.random((int(round(duration / DT)), n)) < rate * DT)
    return snn.SpikeSource(name="inp", size=n, times=steps * DT, ids=ids)


def spike_steps(result: snn.Result, node: str) -> list[np.ndarray]:
    times, ids = result.spikes[node]
    return [np.rint(times[ids == i] / DT).astype(int) for i in range(result.sizes[node])]


def run(network: snn.Network, duration: float = 0.1) -> snn.Result:
    return snn.Simulator(network, dt=DT, seed=3, progress=False).run(duration)


def same_spikes(a: snn.Result, b: snn.Result) -> bool:
    shared = set(a.spikes) & set(b.spikes)
    return bool(shared) and all(
        np.array_equal(a.spikes[n][0], b.spikes[n][0]) and np.array_equal(a.spikes[n][1], b.spikes[n][1])
        for n in shared
    )


def _with_sources(imported: snn.Network, original: snn.Network) -> snn.Network:
    return hardware.with_inputs(imported, dict(original.sources))


# ---- the networks each primitive is tested on ---------------------------------------------------
def lif_delta() -> snn.Network:
    net = snn.Network("lif_delta")
    net.add(source())
    net.add(snn.Population(name="exc", size=6, model=snn.LIF(tau_ref=0.0, v_th=-0.05, resistance=2.0)))
    rng = np.random.default_rng(0)
    net.connect("inp", "exc", snn.AllToAll(weights=rng.uniform(0.0, 0.008, (5, 6))))
    net.connect("exc", "exc", snn.FixedProbability(p=0.3, weight=0.002))
    net.probe("exc")
    return net


def cuba_lif() -> snn.Network:
    net = snn.Network("cuba")
    net.add(source())
    net.add(
        snn.Population(name="hid", size=4, model=snn.LIF(tau_ref=0.0, v_rest=0.0, v_reset=0.0, v_th=0.02))
    )
    net.add(snn.Population(name="read", size=2, model=snn.LI(tau_mem=10e-3)))
    net.connect("inp", "hid", snn.FixedInDegree(in_degree=3, weight=2.0), snn.Exponential(tau_syn=5e-3))
    net.connect("hid", "read", snn.AllToAll(weights=[[1.0, -0.5]] * 4), snn.Exponential(tau_syn=8e-3))
    net.probe("hid")
    net.probe("read", "v")
    return net


def if_mixed_delays_bias() -> snn.Network:
    """IF with delta and two exponential channels, delays, a bias and a per-neuron constant current."""
    net = snn.Network("mixed")
    net.add(source())
    net.add(snn.Population(name="a", size=3, model=snn.IF(capacitance=0.5, v_th=0.5, i_bias=0.2)))
    net.add(snn.Population(name="b", size=3, model=snn.LIF(tau_ref=0.0, v_rest=0.0, v_reset=0.0, v_th=0.01)))
    net.connect(
        "inp",
        "a",
        snn.Sparse(pre=[0, 1, 2, 3, 4], post=[0, 1, 2, 0, 1], weights=0.1, delays=[0, 1e-3, 2e-3, 0, 1e-3]),
    )
    net.connect("inp", "a", snn.AllToAll(weights=0.5), snn.Exponential(tau_syn=3e-3))
    net.connect("a", "a", snn.AllToAll(weights=np.eye(3) * -0.2 + 0.1), snn.Exponential(tau_syn=7e-3))
    net.connect("a", "b", snn.AllToAll(weights=0.006, delays=5e-4))
    net.connect("inp", "b", snn.AllToAll(weights=0.001))
    net.inject(snn.Current.constant("b", [0.0, 0.1, 0.2]))
    net.probe("a")
    net.probe("b")
    return net


NETWORKS = [lif_delta, cuba_lif, if_mixed_delays_bias]


# ---- round trips through a file ------------------------------------------------------------------
@pytest.mark.parametrize("make", NETWORKS)
def test_roundtrip_reproduces_spikes_on_the_simulator(make, tmp_path):
    network = make()
    imported = _with_sources(from_nir(_written(network, tmp_path), dt=DT)[0], network)
    original, again = run(network), run(imported)
    assert sum(t.size for t, _ in original.spikes.values()) > 20  # the test is not vacuous
    assert same_spikes(original, again)
    for name, trace in original.traces.items():
        np.testing.assert_allclose(again.traces[name].values, trace.values, rtol=1e-12, atol=1e-15)


def _written(network: snn.Network, tmp_path) -> str:
    path = tmp_path / f"{network.name}.nir"
    write(network, path, dt=DT, seed=3)
    return str(path)


@pytest.mark.parametrize("make", NETWORKS)
def test_roundtrip_keeps_parameters(make, tmp_path):
    network = make()
    imported, _ = from_nir(_written(network, tmp_path), dt=DT)
    assert list(imported.populations) == list(network.populations)
    for name, pop in network.populations.items():
        got = imported.populations[name]
        expected = type(pop.model)
        if expected is snn.LIF and uses_current_node(network, name):
            # an LIF behind one exponential current is NIR's CubaLIF, which imports 1:1 as our CubaLIF
            (synapse,) = population_synapses(network, name)
            expected = snn.CubaLIF
            assert got.model.tau_syn == synapse.tau_syn
        assert type(got.model) is expected and got.size == pop.size
        for key, value in pop.model.to_dict().items():
            if key == "model":
                continue
            if isinstance(value, str):  # enum-like fields (reset mode): pytest 9's approx refuses strings
                assert got.model.to_dict()[key] == value, (name, key)
            else:
                assert got.model.to_dict()[key] == pytest.approx(value, rel=1e-12, abs=0), (name, key)
    drawn = hardware.lowering.concrete(network, DT, seed=3)
    for synapses in drawn.synapses:
        projection = synapses.projection
        # a projection with several delays comes back as one projection per delay (name_d<steps>)
        backs = [
            p
            for p in imported.projections
            if p.name == projection.name or p.name.startswith(f"{projection.name}_d")
        ]
        assert backs
        for back in backs:
            assert back.synapse == projection.synapse
            assert (back.pre, back.post) == (projection.pre, projection.post)
        n_pre = network.node_size(projection.pre, "pre")
        n_post = network.populations[projection.post].size
        weights = sum(np.broadcast_to(b.connectivity.weights, (n_pre, n_post)) for b in backs)
        np.testing.assert_allclose(weights, synapses.dense(n_pre, n_post).T, rtol=1e-12)
        delays = np.unique([np.unique(b.connectivity.delays) for b in backs])
        np.testing.assert_allclose(delays, np.unique(synapses.delay_steps) * DT, rtol=1e-12)


def test_roundtrip_split_projection_keeps_each_delay(tmp_path):
    imported, _ = from_nir(_written(if_mixed_delays_bias(), tmp_path), dt=DT)
    split = sorted(p.name for p in imported.projections if p.name.startswith("inp_to_a_0"))
    assert split == ["inp_to_a_0_d0", "inp_to_a_0_d10", "inp_to_a_0_d20"]


def test_nodes_and_unit_conversion():
    graph, report = to_nir(if_mixed_delays_bias(), dt=DT, seed=3)
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    assert kinds["a"] == "IF" and kinds["b"] == "LIF" and kinds["inp"] == "Input"
    assert kinds["syn.a.1"] == "LI" and kinds["syn.a.2"] == "LI"  # one current node per tau_syn
    assert kinds["delay.inp_to_a_0.d10"] == "Delay"
    np.testing.assert_allclose(graph.nodes["a"].r, 2.0)  # r = 1 / capacitance
    np.testing.assert_allclose(graph.nodes["delay.inp_to_a_0.d20"].delay, 2e-3)
    # delta into IF: dv = r W  ->  W = w / r = 0.1 V / 2 ohm
    np.testing.assert_allclose(graph.nodes["w.inp_to_a_0.d0"].weight[0, 0], 0.05)
    # exponential through an LI current node (tau = tau_syn): dI = W / tau_syn -> W = w tau_syn
    np.testing.assert_allclose(graph.nodes["w.inp_to_a_1"].weight, 0.5 * 3e-3)
    # delta into LIF (R = 1, tau = 20 ms): dv = R W / tau -> W = w tau / R
    np.testing.assert_allclose(graph.nodes["w.inp_to_b_4"].weight, 0.001 * TAU)
    np.testing.assert_allclose(graph.nodes["w.a_to_b_3"].weight, 0.006 * TAU)
    affine = [n for n in graph.nodes.values() if isinstance(n, nir.Affine)]
    assert len(affine) == 2  # one bias each for a and b
    assert any(np.allclose(n.bias, [0.2, 0.2, 0.2]) for n in affine)
    assert any(np.allclose(n.bias, [0.0, 0.1, 0.2]) for n in affine)
    assert not report.refused and not report.approximated


def test_cuba_nodes():
    graph, _ = to_nir(cuba_lif(), dt=DT)
    hid, read_out = graph.nodes["hid"], graph.nodes["read"]
    assert isinstance(hid, nir.CubaLIF) and isinstance(read_out, nir.CubaLI)
    np.testing.assert_allclose(hid.tau_syn, 5e-3)
    np.testing.assert_allclose(read_out.tau_mem, 10e-3)
    np.testing.assert_allclose(graph.nodes["w.inp_to_hid_0"].weight.sum(axis=1), 3 * 2.0 * 5e-3)


def test_field_tables_cover_every_model_field():
    from dataclasses import fields

    for model, table in NEURON_FIELDS.items():
        ours = {f.name for f in fields(model)}
        assert ours == {f.ours for f in table} | (ours & set(NOT_NODE_FIELDS)), model


def test_dirac_weights_do_not_depend_on_dt():
    coarse, _ = to_nir(lif_delta(), dt=1e-3, seed=3)
    fine, _ = to_nir(lif_delta(), dt=1e-4, seed=3)
    np.testing.assert_array_equal(coarse.nodes["w.inp_to_exc_0"].weight, fine.nodes["w.inp_to_exc_0"].weight)
    step, _ = to_nir(lif_delta(), dt=1e-4, seed=3, spikes="step")
    np.testing.assert_allclose(
        step.nodes["w.inp_to_exc_0"].weight, fine.nodes["w.inp_to_exc_0"].weight / 1e-4
    )


# ---- the backend ---------------------------------------------------------------------------------
def test_backend_run_equals_reference():
    network = if_mixed_delays_bias()
    ours = hardware.get("nir").run(network, 0.1, dt=DT, seed=3, progress=False)
    assert ours.metadata["backend"] == "nir"
    assert same_spikes(ours, run(network))


def test_backend_run_with_poisson_source():
    network = snn.Network("poisson")
    network.add(snn.PoissonSource(name="noise", size=8, rate=200.0))
    network.add(snn.Population(name="n", size=3, model=snn.LIF(tau_ref=0.0)))
    network.connect("noise", "n", snn.AllToAll(weights=0.004))
    network.probe("n")
    result = hardware.get("nir").run(network, 0.1, dt=DT, seed=3, progress=False)
    assert result.spikes["n"][0].size > 0 and same_spikes(result, run(network))
    _, report = to_nir(network, dt=DT)
    assert any("noise" in line and "stochastic" in line for line in report.refused)


def test_deploy_writes_graph_and_reports(tmp_path):
    report = NIRBackend().deploy(cuba_lif(), tmp_path, dt=DT)
    path = tmp_path / "cuba.nir"
    assert path.is_file() and (tmp_path / "mapping_report.md").is_file()
    saved = json.loads((tmp_path / "mapping_report.json").read_text())
    assert saved["neurons"] == 6 and "cuba.nir" in report.files
    assert set(read(path).nodes) == set(to_nir(cuba_lif(), dt=DT)[0].nodes)


@pytest.mark.parametrize(
    "change, feature",
    [
        (lambda n: n.add(snn.Population(name="ad", size=2, model=snn.ALIF(tau_ref=0.0))), "ALIF"),
        (lambda n: n.add(snn.Population(name="rf", size=2, model=snn.LIF())), "refractory"),
        (
            lambda n: n.add(snn.Population(name="sb", size=2, model=snn.LIF(tau_ref=0.0, reset="subtract"))),
            "reset",
        ),
        (
            lambda n: n.add(
                snn.Population(name="iv", size=2, model=snn.LI(), initial_v=snn.Uniform(low=0, high=1))
            ),
            "initial",
        ),
        (lambda n: n.inject(snn.Current.step("exc", [0.0, 0.05], [0.0, 1.0])), "time-varying"),
        (lambda n: n.probe("exc", "v"), "'v'"),
        (lambda n: n.probe("exc", neurons=[0], name="part"), "subset"),
    ],
)
def test_unsupported_feature_fails_before_any_file(change, feature, tmp_path):
    network = lif_delta()
    change(network)
    out = tmp_path / "net.nir"
    with pytest.raises(snn.UnsupportedFeature, match=feature) as error:
        NIRBackend().deploy(network, out, dt=DT)
    assert "'nir'" in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_bias_without_delta_projection_is_refused():
    network = snn.Network()
    network.add(snn.Population(name="alone", size=1, model=snn.LIF(tau_ref=0.0, i_bias=0.03)))
    network.probe("alone")
    with pytest.raises(snn.UnsupportedFeature, match="constant current"):
        to_nir(network)


# ---- exchanges with snnTorch and Norse -----------------------------------------------------------
torch = pytest.importorskip("torch")


PEER_NEURONS, PEER_DURATION = 20, 0.3
PEER_STEPS = int(round(PEER_DURATION / DT))


def peer_network(tau: float = TAU) -> snn.Network:
    """One layer of LIF (v_rest = v_reset = 0, R = 1, no refractoriness: all the peers can express)."""
    net = snn.Network("peer")
    net.add(source(rate=200.0, duration=PEER_DURATION))
    model = snn.LIF(tau_mem=tau, v_rest=0.0, v_reset=0.0, v_th=1.0, tau_ref=0.0)
    net.add(snn.Population(name="lif", size=PEER_NEURONS, model=model))
    weights = np.random.default_rng(2).uniform(0.1, 0.5, (5, PEER_NEURONS))
    net.connect("inp", "lif", snn.AllToAll(weights=weights))
    net.probe("lif")
    return net


def euler_tau(tau: float) -> float:
    """The time constant whose exact decay over DT is the peers' Euler factor ``1 - DT / tau``."""
    return -DT / np.log1p(-DT / tau)


def euler_equivalent(network: snn.Network) -> snn.Network:
    """``network`` with every LIF's tau_mem replaced by :func:`euler_tau` (a diagnostic twin)."""
    twin = snn.Network(network.name)
    for pop in network.populations.values():
        model = snn.LIF(**{**_fields(pop.model), "tau_mem": euler_tau(pop.model.tau_mem)})
        twin.add(snn.Population(name=pop.name, size=pop.size, model=model))
    for src in network.sources.values():
        twin.add(src)
    for projection in network.projections:
        twin.add_projection(projection)
    for probe in network.probes:
        twin.add_probe(probe)
    return twin


def _fields(model) -> dict:
    values = model.to_dict()
    values.pop("model")
    return values


def peer_input(network: snn.Network, factor: float) -> torch.Tensor:
    """``factor * S[t - 1]``: our delta spikes of step t - 1 reach threshold at step t having leaked
    once (``factor`` = the one-step decay)."""
    inp = network.sources["inp"]
    frames = np.zeros((PEER_STEPS, 1, inp.size))
    steps = np.rint(inp.times / DT).astype(int) + 1
    keep = steps < PEER_STEPS
    frames[steps[keep], 0, inp.ids[keep]] = factor
    return torch.tensor(frames, dtype=torch.float32)


EULER = 1 - DT / TAU  # the peers' one-step decay
EXACT = float(np.exp(-DT / TAU))  # ours


def peer_spike_steps(output: np.ndarray) -> list[np.ndarray]:
    return [np.flatnonzero(output[:, i]) for i in range(output.shape[1])]


def mismatches(ours: list[np.ndarray], theirs: list[np.ndarray]) -> int:
    """Spikes (neuron, step) present on one side only."""
    return sum(np.setxor1d(a, b).size for a, b in zip(ours, theirs, strict=True))


def assert_peer_agrees(ours_exact, ours_euler, theirs, theirs_naive) -> None:
    """The peer reproduces our Euler-equivalent twin spike for spike (every convention but the leak
    integrator matches); against our exact leak it differs by the Euler error only: 0.9 % of spikes
    measured (12 of 1356), bound 2 %. Without the input convention it is 25 % off, so the bound bites."""
    total = sum(s.size for s in ours_exact)
    assert total > 1000
    assert mismatches(ours_euler, theirs) == 0
    assert mismatches(ours_exact, theirs) <= 0.02 * total
    assert mismatches(ours_exact, theirs_naive) > 0.1 * total


def run_snntorch(module, frames) -> np.ndarray:
    from snntorch import utils

    utils.reset(module)
    with torch.no_grad():
        return np.stack([_first(module(x)).numpy()[0] for x in frames])


def _first(output):
    while isinstance(output, tuple):
        output = output[0]
    return output


def run_norse(module, frames) -> np.ndarray:
    state, out = None, []
    with torch.no_grad():
        for x in frames:
            z, state = module(x, state)
            out.append(z.numpy()[0])
    return np.stack(out)


def ours_both(network: snn.Network, population: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Our spikes with the exact leak, and those of the Euler-equivalent twin."""
    run_for = PEER_DURATION
    exact = snn.Simulator(network, dt=DT, seed=3, progress=False).run(run_for)
    euler = snn.Simulator(euler_equivalent(network), dt=DT, seed=3, progress=False).run(run_for)
    return spike_steps(exact, population), spike_steps(euler, population)


def peer_runs(run_peer, module, network: snn.Network) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The peer's spikes with our input convention (inputs of step t - 1 decayed once by the peer's
    own factor), and naively (spikes of step t - 1 at full weight)."""
    matched = peer_spike_steps(run_peer(module, peer_input(network, EULER)))
    naive = peer_spike_steps(run_peer(module, peer_input(network, 1.0)))
    return matched, naive


def test_export_to_snntorch_reproduces_our_spikes(tmp_path):
    from snntorch.import_nir import import_from_nir

    network = peer_network()
    path = tmp_path / "peer.nir"
    write(network, path, dt=DT, spikes="step")  # snnTorch's importer fixes dt = 1e-4 s
    module = import_from_nir(nir.read(path))
    assert_peer_agrees(*ours_both(network, "lif"), *peer_runs(run_snntorch, module, network))


def test_export_to_norse_reproduces_our_spikes(tmp_path):
    import norse.torch as norse

    network = peer_network()
    path = tmp_path / "peer.nir"
    write(network, path, dt=DT, spikes="step")
    module = norse.from_nir(nir.read(path), dt=DT)
    assert_peer_agrees(*ours_both(network, "lif"), *peer_runs(run_norse, module, network))


def _with_peer_input(imported: snn.Network) -> snn.Network:
    (name,) = imported.sources
    inp = source(rate=200.0, duration=PEER_DURATION)
    replacement = snn.SpikeSource(name=name, size=inp.size, times=inp.times, ids=inp.ids)
    return hardware.with_inputs(imported, {name: replacement})


# the exact step and our timing with the peers' spike area: this harness compares with an Euler
# twin and shifted input (below, test_*_conventions_* run the producers' conventions directly)
ONE_STEP_LATER = Conventions(spikes="step")


def peer_jumps() -> np.ndarray:
    """The same voltage jumps (V) as :func:`peer_network`, shape (n_post, n_pre)."""
    return np.random.default_rng(2).uniform(0.1, 0.5, (5, PEER_NEURONS)).T


def test_snntorch_graph_imports_and_runs_here(tmp_path):
    import snntorch
    from snntorch.export_nir import export_to_nir

    linear = torch.nn.Linear(5, PEER_NEURONS, bias=False)
    linear.weight.data = torch.tensor(peer_jumps(), dtype=torch.float32)
    beta = torch.full((PEER_NEURONS,), EULER)  # snnTorch writes tau = dt / (1 - beta), dt = 1e-4 s
    leaky = snntorch.Leaky(
        beta=beta, threshold=torch.ones(PEER_NEURONS), reset_mechanism="zero", init_hidden=True
    )
    module = torch.nn.Sequential(linear, leaky)
    path = tmp_path / "snntorch.nir"
    nir.write(path, export_to_nir(module, torch.zeros(1, 5), ignore_dims=[0]))

    imported, _ = from_nir(path, dt=DT, conventions=ONE_STEP_LATER)
    (pop,) = imported.populations.values()
    assert pop.model.tau_mem == pytest.approx(TAU, rel=1e-6) and pop.model.v_rest == 0.0
    network = _with_peer_input(imported)
    assert_peer_agrees(*ours_both(network, pop.name), *peer_runs(run_snntorch, module, peer_network()))


def test_norse_graph_imports_and_runs_here(tmp_path):
    import norse.torch as norse

    # Norse's LIFBox adds dt/tau * input per step: weights of tau/dt times the jump (V)
    linear = torch.nn.Linear(5, PEER_NEURONS, bias=False)
    linear.weight.data = torch.tensor(peer_jumps() * TAU / DT, dtype=torch.float32)
    n = PEER_NEURONS
    params = norse.LIFBoxParameters(
        tau_mem_inv=torch.full((n,), 1 / TAU), v_th=torch.ones(n), v_leak=torch.zeros(n)
    )
    module = norse.SequentialState(linear, norse.LIFBoxCell(params, dt=DT))
    # norse 1.1's exporter writes tau = dt / tau_mem_inv (its own from_nir then reads 1/tau as
    # tau_mem_inv): only dt = 1.0 writes the true time constant
    path = tmp_path / "norse.nir"
    nir.write(path, norse.to_nir(module, torch.zeros(1, 5), dt=1.0))

    imported, _ = from_nir(path, dt=DT, conventions=ONE_STEP_LATER)
    (pop,) = imported.populations.values()
    assert pop.model.tau_mem == pytest.approx(TAU, rel=1e-6)
    network = _with_peer_input(imported)
    assert_peer_agrees(*ours_both(network, pop.name), *peer_runs(run_norse, module, peer_network()))
