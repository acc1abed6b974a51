r"""What our neuron models and synapses are in NIR, and the unit conversion between them.

NIR states continuous-time equations (no ``dt``); our models are the same ODEs in SI units:

* ``nir.LIF``: our :class:`snn.LIF` (:mod:`snn.models.lif`) with ``tau_mem = tau``,
  ``resistance = r``, ``v_rest = v_leak``, ``v_th = v_threshold``, reset to ``v_reset``.
* ``nir.LI``:   the same without threshold; our :class:`snn.LI`.
* ``nir.IF``:   our :class:`snn.IF` (:mod:`snn.models.if_`) with ``r = 1 / capacitance``.
* ``nir.CubaLIF``: our :class:`snn.CubaLIF`, 1:1 (:mod:`snn.models.cubalif` gives NIR's form);
  an LIF whose every incoming projection has :class:`snn.Exponential` synapses of one
  ``tau_syn`` exports to it too.
* ``nir.CubaLI``: the LI behind the same current; our LI whose every incoming projection has
  :class:`snn.Exponential` synapses of that ``tau_syn``.

A spike train entering a node is ``S(t) = a sum_k delta(t - t_k)`` with area ``a`` (the *spike
convention*): ``a = 1`` (``"dirac"``, our default, dt-independent) or ``a = dt`` (``"step"``: a spike
is a unit-height pulse lasting one step, which is how snnTorch and Norse integrate their NIR inputs
with forward Euler). Integrating the ODEs across one weighted spike ``W S`` gives the jump our
synapses make, so our weight ``w = g W_nir`` with the gain ``g`` of the edge's target:

* Delta synapse into LIF/LI:  ``dv = r W a / tau``     -> ``g = r a / tau``    (w in V)
* Delta synapse into IF:      ``dv = r W a``           -> ``g = r a``          (w in V)
* Exponential into CubaLIF:   ``dI = w_in W a / tau_syn`` -> ``g = w_in a / tau_syn`` (w in A)
* Exponential through an LI synaptic-current node (``tau = tau_syn``, ``r``, ``v_leak = 0``) whose
  state is the input current of the neuron it feeds: ``g = r a / tau_syn`` (w in A).

A constant current (our ``i_bias`` and constant :class:`snn.Current`) is the ``bias`` of an ``Affine``
edge into the neuron node: ``I = W S + b``, so ``i_bias = b`` (A) with no spike-area factor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import nir
import numpy as np

from snn.errors import ValidationError
from snn.models.lif import INTEGRATIONS
from snn.neurons import IF, LI, LIF, RESETS, CubaLIF

SPIKE_CONVENTIONS: tuple[str, ...] = ("dirac", "step")
TIMINGS: tuple[str, ...] = ("next-step", "same-step")
INPUTS: tuple[str, ...] = ("equation", "unit")
METADATA_KEY = "neurobridge"
#: NIR's neuron nodes with a synaptic current of their own (an input enters the current, not v)
CURRENT_BASED = (nir.CubaLIF, nir.CubaLI)


@dataclass(frozen=True, kw_only=True)
class Conventions:
    """How a graph's producer ran it: NIR states continuous-time equations only, and each
    framework discretises them its own way, so a graph runs as its producer ran it only
    under the producer's conventions.

    spikes: a spike's area (:func:`spike_area`): ``"dirac"`` (1) or ``"step"`` (dt).
    discretisation: ``"exact"`` (the exponential step) or ``"euler"`` (forward Euler,
        ``1 - dt / tau``): the linear models' ``integration`` (:mod:`snn.models.lif`).
    timing: ``"next-step"`` (a spike acts from the step after it, as in this simulator and
        Brian2) or ``"same-step"`` (a layer sees the spikes its inputs emit in the same
        step, as in snnTorch and Norse, which run their layers in sequence every step).
    reset: ``"value"`` (v <- v_reset) or ``"subtract"`` (v <- v - (v_th - v_reset)).
    input: ``"equation"`` (a spike of weight W moves v by NIR's equation, ``r W a / tau``
        for a LIF, :func:`gain`; an Affine bias is a current) or ``"unit"`` (a spike adds W to
        v and a bias adds b every step whatever ``r`` and ``tau`` say, as Sinabs runs its
        graphs: ``v <- alpha v + W x + b``).
    """

    spikes: str = "dirac"
    discretisation: str = "exact"
    timing: str = "next-step"
    reset: str = "value"
    input: str = "equation"

    def __post_init__(self) -> None:
        # discretisation and reset are the models' own modes (snn.models.lif, snn.models.base)
        allowed = {
            "spikes": SPIKE_CONVENTIONS,
            "discretisation": INTEGRATIONS,
            "timing": TIMINGS,
            "reset": RESETS,
            "input": INPUTS,
        }
        for name, values in allowed.items():
            if getattr(self, name) not in values:
                raise ValidationError(
                    f"conventions.{name}", f"must be one of {values}, got {getattr(self, name)!r}"
                )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        return ", ".join(f"{key} {value!r}" for key, value in self.to_dict().items())


#: What each framework assumes when it runs a NIR graph, read off its importer (snnTorch 0.9+:
#: ``Leaky(beta = 1 - dt / tau)``, reset to zero, no delay between layers; Norse 1.1:
#: ``LIFBoxCell`` with ``v += dt / tau (v_leak - v + I)``, reset to value) and checked in the
#: tests by running each framework on the same graph and input; Sinabs 3.1: ``IAFSqueeze`` /
#: ``LIFSqueeze(norm_input=False)``, ``v <- exp(-1 / tau) v + W x + b`` in steps (its graphs'
#: time unit is one step: run them at dt = 1), ``r`` ignored, reset by subtraction, layers in
#: sequence; Rockpool 3.1: ``LIFTorch``, ``i <- beta (i + W x + W_rec s)``, ``v <- alpha v + i + b``,
#: exponential decays, reset by subtraction, layers in sequence; its graphs do not hold dt,
#: its importer reads ``dt = tau_mem / (1 + r)`` (:func:`rockpool_dt`: run them at that dt).
#: "neurobridge": ours.
PRODUCERS: dict[str, Conventions] = {
    "neurobridge": Conventions(),
    "snntorch": Conventions(spikes="step", discretisation="euler", timing="same-step", reset="value"),
    "norse": Conventions(spikes="step", discretisation="euler", timing="same-step", reset="value"),
    "sinabs": Conventions(
        spikes="dirac", discretisation="exact", timing="same-step", reset="subtract", input="unit"
    ),
    "rockpool": Conventions(
        spikes="dirac", discretisation="exact", timing="same-step", reset="subtract", input="unit"
    ),
}
#: The conventions of a graph that does not say who wrote it: snnTorch's and Norse's (which
#: agree), never ours, which no foreign graph assumes
FOREIGN = PRODUCERS["norse"]


def rockpool_dt(graph: nir.NIRGraph) -> float:
    """The step (s) Rockpool's importer runs ``graph`` at: ``min(tau / (1 + r))`` over its
    CubaLIF, LIF and LI nodes (its exporter writes ``r = tau exp(-dt / tau) / dt``, so this is
    not quite the dt it was trained at; its own re-import runs at this one). Rockpool takes
    the minimum per module; one step for the whole graph here, so a graph whose modules imply
    different steps runs at the smallest."""
    steps = [
        np.min(np.asarray(getattr(node, "tau_mem", getattr(node, "tau", None)), dtype=np.float64)
               / (1 + np.asarray(node.r, dtype=np.float64)))
        for node in _all_nodes(graph)
        if isinstance(node, (nir.CubaLIF, nir.LIF, nir.LI))
    ]  # fmt: skip
    if not steps:
        raise ValidationError("graph", "has no LIF, CubaLIF or LI node to read Rockpool's dt from")
    return float(min(steps))


def _all_nodes(graph: nir.NIRGraph):
    for node in graph.nodes.values():
        if isinstance(node, nir.NIRGraph):
            yield from _all_nodes(node)
        else:
            yield node


def conventions_from(value) -> Conventions:
    """A :class:`Conventions` from itself, a producer's name or a mapping of its fields."""
    if isinstance(value, Conventions):
        return value
    if isinstance(value, str):
        if value not in PRODUCERS:
            raise ValidationError(
                "conventions", f"must be one of {tuple(PRODUCERS)} or a Conventions, got {value!r}"
            )
        return PRODUCERS[value]
    if isinstance(value, dict):
        unknown = set(value) - {f.name for f in dataclasses.fields(Conventions)}
        if unknown:
            raise ValidationError("conventions", f"unknown field(s) {sorted(unknown)}")
        return Conventions(**value)
    raise ValidationError(
        "conventions", f"must be a producer's name, a mapping or a Conventions, got {value!r}"
    )


def spike_area(spikes: str, dt: float) -> float:
    """Area ``a`` of one spike under convention ``spikes`` at step ``dt`` (s): 1 or ``dt``."""
    if spikes not in SPIKE_CONVENTIONS:
        raise ValidationError("spikes", f"must be one of {SPIKE_CONVENTIONS}, got {spikes!r}")
    return 1.0 if spikes == "dirac" else float(dt)


def _same(x: float) -> float:
    return x


def _reciprocal(x: float) -> float:
    return 1.0 / x


@dataclass(frozen=True)
class Field:
    """One parameter: NIR field ``nir`` <-> our model field ``ours`` (``to_nir``/``from_nir`` convert)."""

    nir: str
    ours: str
    to_nir: Callable[[float], float] = _same
    from_nir: Callable[[float], float] = _same


NEURON_FIELDS: dict[type, tuple[Field, ...]] = {
    LIF: (
        Field("tau", "tau_mem"),
        Field("r", "resistance"),
        Field("v_leak", "v_rest"),
        Field("v_threshold", "v_th"),
        Field("v_reset", "v_reset"),
    ),
    LI: (Field("tau", "tau_mem"), Field("r", "resistance"), Field("v_leak", "v_rest")),
    IF: (
        Field("r", "capacitance", _reciprocal, _reciprocal),
        Field("v_threshold", "v_th"),
        Field("v_reset", "v_reset"),
    ),
}
NEURON_FIELDS[CubaLIF] = (*NEURON_FIELDS[LIF], Field("tau_syn", "tau_syn"))
# Our fields that are not node parameters: tau_ref and reset must have the only value NIR states
# (checked before export); i_bias travels as an Affine bias; integration is recorded in the
# graph's metadata (its conventions, hardware.nir_export.export_conventions), any value.
NOT_NODE_FIELDS: dict[str, object] = {"tau_ref": 0.0, "reset": "value", "i_bias": 0.0, "integration": None}

# (our model, through a NIR current-based node?) -> NIR node type
NODE_TYPES: dict[tuple[type, bool], type] = {
    (LIF, False): nir.LIF,
    (LI, False): nir.LI,
    (IF, False): nir.IF,
    (LIF, True): nir.CubaLIF,
    (LI, True): nir.CubaLI,
    (CubaLIF, True): nir.CubaLIF,  # last: a NIR CubaLIF imports as our CubaLIF
}
MODELS_OF: dict[type, tuple[type, bool]] = {node: key for key, node in NODE_TYPES.items()}
CUBA_NAMES = {"tau": "tau_mem"}  # the Cuba nodes call the membrane time constant tau_mem


def nir_name(field: Field, cuba: bool) -> str:
    return CUBA_NAMES.get(field.nir, field.nir) if cuba else field.nir


def node_for(model, size: int, tau_syn: float | None = None) -> nir.NIRNode:
    """The NIR neuron node of ``size`` neurons of ``model``; current-based when ``tau_syn`` (s) is given."""
    cuba = tau_syn is not None
    kind = (
        LIF if isinstance(model, CubaLIF) and not cuba else type(model)
    )  # its membrane, behind a current node
    values = {
        nir_name(f, cuba): np.full(size, f.to_nir(getattr(model, f.ours)), dtype=np.float64)
        for f in NEURON_FIELDS[kind]
    }
    if cuba:
        values.update(tau_syn=np.full(size, float(tau_syn)), w_in=np.ones(size))
    return NODE_TYPES[(kind, cuba)](**values)


def model_parameters(node: nir.NIRNode, uniform: Callable[[str, np.ndarray], float],
                     conventions: Conventions | None = None) -> tuple[type, dict]:  # fmt: skip
    """``(our model class, its keyword arguments)`` of a NIR neuron node; ``uniform(name, array)``
    reduces a per-neuron array to the one value our models hold (or refuses); ``conventions``
    give the linear models' ``integration`` and the spiking models' ``reset``."""
    conventions = conventions or Conventions()
    cls, cuba = MODELS_OF[type(node)]
    kwargs = {
        f.ours: f.from_nir(uniform(nir_name(f, cuba), np.asarray(getattr(node, nir_name(f, cuba)))))
        for f in NEURON_FIELDS[cls]
    }
    if cls is not LI:
        kwargs["tau_ref"] = 0.0
        kwargs["reset"] = conventions.reset
    if cls is not IF:
        kwargs["integration"] = conventions.discretisation
    return cls, kwargs


def gain(node: nir.NIRNode, area: float) -> np.ndarray:
    """Per-neuron factor ``g`` with our weight ``w = g W_nir`` for a spike edge into ``node``
    (NIR's equation; the ``"unit"`` input convention is ``hardware.nir_import._unit_gain``)."""
    if isinstance(node, CURRENT_BASED):
        return np.asarray(node.w_in, dtype=np.float64) * area / np.asarray(node.tau_syn, dtype=np.float64)
    r = np.asarray(node.r, dtype=np.float64)
    if isinstance(node, nir.IF):
        return r * area
    return r * area / np.asarray(node.tau, dtype=np.float64)  # LIF, LI (also as a synaptic current)


def synaptic_current_node(size: int, tau_syn: float) -> nir.LI:
    """An LI node whose state is an exponential synaptic current (A): ``tau_syn dI/dt = -I + W S``."""
    return nir.LI(tau=np.full(size, tau_syn), r=np.ones(size), v_leak=np.zeros(size))
