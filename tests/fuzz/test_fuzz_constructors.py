"""Every public constructor, fed hostile arguments: a valid object or ValidationError, nothing else.

Issue 14 found 827 of 45 000 constructor calls raising something else (ValueError
"inhomogeneous shape", OverflowError, TypeError unhashable, MemoryError, struct.error).
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings

import snn
from snn.connectivity import Sparse
from snn.errors import UnsupportedFeature, ValidationError
from snn.htm import SDR, CategoryEncoder, DateEncoder, RandomDistributedScalarEncoder, ScalarEncoder
from snn.htm.likelihood import AnomalyLikelihood
from snn.htm.spatial_pooler import SpatialPoolerParameters
from snn.htm.spiking import DistalSegments, column_input, soma
from snn.htm.temporal_memory import TemporalMemoryParameters
from snn.lca import LCA
from snn.lsnn import LSNN
from snn.neurons import MODELS
from snn.plasticity import RULES
from snn.reservoir import ESN, LSM
from tests.fuzz.strategies import kwargs_for

ALLOWED = (ValidationError, UnsupportedFeature)

TARGETS = {
    # every registered neuron model, each field valid (its default) or hostile
    **{name: (model, {f.name: f.default for f in fields(model)}) for name, model in MODELS.items()},
    "Population": (snn.Population, {"name": "p", "size": 3, "model": snn.LIF(), "initial_v": None}),
    "PoissonSource": (snn.PoissonSource, {"name": "s", "size": 3, "rate": 10.0}),
    "SpikeSource": (snn.SpikeSource, {"name": "s", "size": 2, "times": [0.0, 0.01], "ids": [0, 1]}),
    "RateEncoder": (snn.RateEncoder, {"name": "r", "size": 2, "values": [[0.1, 0.5]], "max_rate": 100.0}),
    "LatencyEncoder": (snn.LatencyEncoder, {"name": "l", "size": 2, "values": [[0.1, 0.5]], "t_max": 0.05}),
    "Current": (snn.Current, {"target": "p", "times": [0.0, 0.1], "amplitudes": [1e-3, 0.0]}),
    "Reward": (snn.Reward, {"projection": "learn", "times": [0.0, 0.1], "amounts": [1.0, -1.0]}),
    # every learning rule
    **{name: (rule, {f.name: f.default for f in fields(rule)}) for name, rule in RULES.items()},
    "Current.constant": (snn.Current.constant, {"target": "p", "amplitude": 1e-3}),
    "Current.step": (snn.Current.step, {"target": "p", "times": [0.0, 0.1], "amplitudes": [1e-3, 0.0]}),
    "AllToAll": (snn.AllToAll, {"weights": 1.0, "delays": 0.0}),
    "Sparse": (Sparse, {"pre": [0, 1], "post": [1, 0], "weights": 1.0}),
    "FixedProbability": (snn.FixedProbability, {"p": 0.1, "allow_autapses": True}),
    "FixedInDegree": (snn.FixedInDegree, {"in_degree": 2, "allow_autapses": False}),
    "Exponential": (snn.Exponential, {"tau_syn": 5e-3}),
    "Probe": (snn.Probe, {"name": "pr", "target": "p", "variable": "v", "neurons": [0], "every": 1}),
    "Projection": (
        snn.Projection,
        {"name": "c", "pre": "s", "post": "p", "connectivity": snn.AllToAll(), "synapse": snn.Delta()},
    ),
    "Uniform": (snn.Uniform, {"low": -0.07, "high": -0.05}),
    "ESN": (ESN, {"units": 20}),
    "LSM": (LSM, {"units": 20}),
    "LSNN": (LSNN, {"n_in": 2, "n_lif": 2, "n_alif": 2, "n_out": 1}),
    # hierarchical temporal memory
    "SDR": (SDR, {"size": 8, "indices": [1, 3]}),
    "ScalarEncoder": (ScalarEncoder, {"minimum": 0.0, "maximum": 1.0, "size": 40, "active_bits": 5}),
    "RandomDistributedScalarEncoder": (
        RandomDistributedScalarEncoder,
        {"resolution": 0.5, "size": 40, "active_bits": 5},
    ),
    "CategoryEncoder": (CategoryEncoder, {"categories": ("a", "b"), "active_bits": 3}),
    "DateEncoder": (DateEncoder, {"time_of_day": (21, 9.49), "day_of_week": (0, 1.0), "weekend": 0}),
    "TemporalMemoryParameters": (
        TemporalMemoryParameters,
        {f.name: f.default for f in fields(TemporalMemoryParameters)},
    ),
    "SpatialPoolerParameters": (
        SpatialPoolerParameters,
        {
            **{f.name: f.default for f in fields(SpatialPoolerParameters) if f.name != "input_size"},
            "input_size": 40,
        },
    ),
    "AnomalyLikelihood": (AnomalyLikelihood, {"learning_period": 10, "estimation_samples": 10}),
    "DistalSegments": (
        DistalSegments,
        {
            "params": TemporalMemoryParameters(columns=4, cells_per_column=2),
            "dt": 1e-3,
            "plateau": 0.022,
            "cycle_steps": 5,
            "learn": True,
            "memory": None,
        },
    ),  # fmt: skip
    "Population with dendrites": (
        snn.Population,
        {
            "name": "tm",
            "size": 8,
            "model": soma(1e-3),
            "dendrites": DistalSegments(
                params=TemporalMemoryParameters(columns=4, cells_per_column=2), dt=1e-3, plateau=0.022
            ),
        },
    ),  # fmt: skip
    "column_input": (column_input, {"name": "c", "steps": [[0, 1], [2]], "columns": 4, "dt": 1e-3}),
    "LCA": (
        LCA,
        {
            "dictionary": np.eye(3, 4) + 0.1,
            "signal": [1.0, 0.0, 0.5],
            "lam": 0.1,
            "tau_syn": 5e-3,
            "max_rate": 200.0,
            "signed": True,
        },
    ),  # fmt: skip
}


def _call(make, kwargs):
    try:
        return make(**kwargs)
    except ALLOWED:
        return None


@pytest.mark.parametrize("target", sorted(TARGETS))
@given(data=__import__("hypothesis").strategies.data())
def test_constructor_gives_an_object_or_a_validation_error(target, data):
    make, defaults = TARGETS[target]
    _call(make, data.draw(kwargs_for(defaults), label="kwargs"))


def _network() -> snn.Network:
    net = snn.Network("fuzz")
    net.add(snn.PoissonSource(name="s", size=3, rate=10.0))
    net.add(snn.Population(name="p", size=4, model=snn.LIF()))
    return net


@given(data=__import__("hypothesis").strategies.data())
def test_network_methods_give_a_change_or_a_validation_error(data):
    net = _network()
    connect = data.draw(kwargs_for({"pre": "s", "post": "p", "rule": snn.AllToAll(weights=np.ones((3, 4)))}))
    try:
        net.connect(connect["pre"], connect["post"], connect["rule"])
    except ALLOWED:
        pass
    probe = data.draw(kwargs_for({"target": "p", "variable": "v", "neurons": [0, 1], "every": 2}))
    try:
        net.probe(probe["target"], probe["variable"], neurons=probe["neurons"], every=probe["every"])
    except ALLOWED:
        pass


def test_every_finding_of_issue_14_is_a_validation_error():
    cases = [
        lambda: snn.AllToAll(weights=[[1.0, 2.0], [3.0]]),  # ragged
        lambda: snn.Population(name="p", size=2, model=snn.LIF(), initial_v=[[0.0], [0.0, 1.0]]),
        lambda: Sparse(pre=[[0], [0, 1]], post=[0, 1]),
        lambda: snn.PoissonSource(name="s", size=2, rate=[[1.0], [1.0, 2.0]]),
        lambda: snn.SpikeSource(name="s", size=2, times=[0.0], ids=[[0], [0, 1]]),
        lambda: snn.Current.step("p", times=[0.0, 0.1], amplitudes=[[1.0], [1.0, 2.0]]),
        lambda: snn.Probe(name="q", target="p", neurons=[[0], [0, 1]]),
        lambda: snn.LIF(tau_mem=10**400),  # OverflowError before
        lambda: snn.Probe(name="q", target="p", variable="v", every=10**25),
        lambda: snn.Projection(name="c", pre=["s"], post="p", connectivity=snn.AllToAll()),  # unhashable
        lambda: snn.Probe(name="q", target={"a": 1}),
        lambda: snn.Population(name="n" * 100_000, size=1, model=snn.LIF()),  # struct.error later
        lambda: snn.AllToAll(weights=True),  # accepted as 1.0 before
        lambda: snn.FixedProbability(p=0.1, allow_autapses="no"),  # taken as true before
        lambda: snn.FixedInDegree(in_degree=1, allow_autapses=0),
    ]
    for index, make in enumerate(cases):
        with pytest.raises(ValidationError):
            make()
            pytest.fail(f"case {index} built an object")


@pytest.mark.slow
@settings(max_examples=10_000)
@pytest.mark.parametrize("target", sorted(TARGETS))
@given(data=__import__("hypothesis").strategies.data())
def test_constructor_long(target, data):
    make, defaults = TARGETS[target]
    _call(make, data.draw(kwargs_for(defaults), label="kwargs"))
