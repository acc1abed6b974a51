"""Every backend x every registered neuron model x every feature: the backend's pre-flight
check accepts exactly what its :class:`hardware.base.Capabilities` table says it runs.

A rule written by hand outside the table (refusing what the table allows, or letting through
what it refuses) fails here; so does a model added to the registry that a backend's table
forgets (it must be listed as run or as refused).
"""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

import hardware
import snn
from snn.errors import UnsupportedFeature
from snn.models.base import RESETS
from snn.neurons import MODELS


def _base_model(model_cls, caps):
    """The model as the backend runs it best: no refractory period, its first supported reset."""
    model = model_cls()
    names = {f.name for f in fields(model)}
    changes = {}
    if "tau_ref" in names:
        changes["tau_ref"] = 0.0
    if "reset" in names:
        changes["reset"] = (
            caps.support(model_cls.__name__).resets[0]
            if model_cls.__name__ in caps.neuron_models
            else "value"
        )
    return replace(model, **changes)


SYNAPSES = {"Delta": snn.Delta(), "Exponential": snn.Exponential(tau_syn=5e-3)}


def _network(model, *, weight=1e-3, synapse=None, delay=0.0, probe="spikes", current=False,
             caps=None, initial_v=None, probe_neurons=None) -> snn.Network:  # fmt: skip
    """One source into 3 neurons of ``model``, through ``synapse`` (default: the first kind
    ``caps`` lets into the model, else Delta)."""
    if synapse is None:
        kinds = caps.support(type(model).__name__).synapses if caps is not None else None
        kinds = kinds or (caps.synapses if caps is not None else None)
        synapse = SYNAPSES[kinds[0]] if kinds else snn.Delta()
    net = snn.Network("table")
    net.add(snn.SpikeSource(name="in", size=2, times=[0.001, 0.002], ids=[0, 1]))
    net.add(snn.Population(name="p", size=3, model=model, initial_v=initial_v))
    net.connect("in", "p", snn.AllToAll(weights=weight, delays=delay), synapse)
    if current == "step":  # off, then on: no constant part
        net.inject(snn.Current.step("p", [0.0, 0.002], [0.0, 1e-3]))
    elif current:
        net.inject(snn.Current.constant("p", 1e-3))
    net.probe("p", probe if model.spiking or probe != "spikes" else "v", neurons=probe_neurons)
    return net


def _features(model, caps):
    """(label, network, whether the table allows it) for one model the backend runs."""
    kind = type(model).__name__
    row = caps.support(kind)
    names = {f.name for f in fields(model)}
    yield "as run", _network(model, caps=caps), True
    if "reset" in names:
        for reset in RESETS:
            yield f"reset={reset}", _network(replace(model, reset=reset), caps=caps), reset in row.resets
    if "tau_ref" in names:
        yield "tau_ref>0", _network(replace(model, tau_ref=1e-3), caps=caps), row.refractory
    if "integration" in names:
        for mode in ("exact", "euler"):
            network = _network(replace(model, integration=mode), caps=caps)
            yield f"integration={mode}", network, mode in row.integrations
    yield "negative weight", _network(model, weight=-1e-3, caps=caps), row.negative_input
    if kind != "CubaLIF":  # a CubaLIF's input always goes through its own current
        for name, synapse in SYNAPSES.items():
            allowed = name in caps.synapses and (row.synapses is None or name in row.synapses)
            yield f"{name} synapse", _network(model, synapse=synapse), allowed
    if "substeps" in names:
        yield "substeps=2", _network(replace(model, substeps=2), caps=caps), row.substeps
    yield "delay", _network(model, delay=1e-3, caps=caps), caps.delays
    currents = caps.currents and row.currents
    base_kind = (row.synapses or ("Delta",))[0]
    yield (
        "current",
        _network(model, current=True, caps=caps),
        currents and caps.bias_rides_on in (None, base_kind),
    )
    yield (
        "time-varying current",
        _network(model, current="step", caps=caps),
        currents and caps.time_varying_currents,
    )
    if kind != "CubaLIF":
        exponential = "Exponential" in caps.synapses and (
            row.synapses is None or "Exponential" in row.synapses
        )
        yield (
            "current with Exponential input",
            _network(model, current=True, synapse=SYNAPSES["Exponential"]),
            currents and exponential and caps.bias_rides_on in (None, "Exponential"),
        )
    start = model.constants(1.0)["initial_v"]
    yield "initial_v", _network(model, caps=caps, initial_v=start - 1e-3), caps.initial_state
    yield "probe subset", _network(model, caps=caps, probe_neurons=[0]), caps.probe_subsets
    for variable in model.state_variables:
        allowed = variable in caps.probe_variables and (not model.spiking or caps.state_probes_of_spiking)
        yield f"probe {variable}", _network(model, probe=variable, caps=caps), allowed


def _accepted(backend, network) -> bool:
    try:
        backend.check(network)
    except UnsupportedFeature:
        return False
    return True


CASES = [(b, m) for b in hardware.names() for m in MODELS]


@pytest.mark.parametrize("backend_name, model_name", CASES)
def test_check_follows_the_capability_table(backend_name, model_name):
    backend = hardware.get(backend_name)
    caps = backend.capabilities()
    model = _base_model(MODELS[model_name], caps)
    if model_name not in caps.neuron_models:
        assert model_name in caps.refused_models or backend_name.startswith(("brian2", "numba")), (
            f"{backend_name}'s table neither runs nor refuses {model_name} with a reason"
        )
        with pytest.raises(UnsupportedFeature, match=f"neuron model {model_name}") as error:
            backend.check(_network(model))
        if model_name in caps.refused_models:
            assert caps.refused_models[model_name] in str(error.value)
        return
    disagreements = [
        (label, allowed)
        for label, network, allowed in _features(model, caps)
        if _accepted(backend, network) != allowed
    ]
    assert not disagreements, (
        f"{backend_name} / {model_name}: check disagrees with the table on {disagreements}"
    )


def test_the_nengo_mapping_report_lists_the_tables_refusals():
    pytest.importorskip("nengo")
    from hardware.nengo import build_nengo, capabilities

    net = _network(snn.LIF(tau_ref=0.0))
    _, handles = build_nengo(net, 1e-4)
    refusals = capabilities().refusals()
    assert handles.report.refused == refusals
    assert "synaptic delays" in refusals and "AdEx with Delta synapses" in refusals


@pytest.mark.parametrize("backend_name", hardware.names())
def test_the_table_documents_every_registered_model(backend_name):
    text = hardware.get(backend_name).capabilities().to_markdown(backend_name)
    for name in MODELS:
        assert f"| {name} |" in text


def test_the_backend_docs_are_generated_from_the_tables():
    from pathlib import Path

    from hardware.capability_docs import render

    committed = Path(__file__).resolve().parents[2] / "docs" / "backends.md"
    assert committed.read_text() == render(), (
        "regenerate: python -m hardware.capability_docs > docs/backends.md"
    )
