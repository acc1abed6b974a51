"""Learning rules as small validated records (data only; the updates are in
:mod:`snn.plasticity.kernels`).

A rule is attached to a projection (``Projection(..., plasticity=PairSTDP(...))``) and
changes that projection's weights online. Weights keep the projection's units (V for
delta synapses, A for exponential ones), and so do the amplitudes below.

Spike-timing rules (pair, triplet, reward-modulated) keep traces per synapse, updated
event by event and decayed exactly between events (``x(t) = x(t0) exp(-(t - t0) / tau)``,
as Brian2's event-driven ``(clock-driven)`` equations do). A presynaptic spike acts on
the synapse when it arrives (after the synapse's delay); a postsynaptic spike at once.
With ``dt`` the time step, a pair with ``post - pre = Delta t > 0`` potentiates by
``a_plus exp(-Delta t / tau_plus)`` and one with ``Delta t < 0`` depresses by
``a_minus exp(Delta t / tau_minus)``.

Rate rules (Oja, BCM) read each neuron's filtered spike train ``x`` (Hz): every step
``x <- a x + (1 - a) s / dt`` with ``a = exp(-dt / tau_rate)`` and ``s`` 1 on a spike, the
zero-order-hold low-pass that Nengo applies to spikes, and update every synapse every step.

Bounds: ``"hard"`` adds the change and clips to ``[w_min, w_max]``; ``"soft"`` (weight
dependent, multiplicative) scales potentiation by ``(w_max - w) / (w_max - w_min)`` and
depression by ``(w - w_min) / (w_max - w_min)``, so the bounds are approached, never crossed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from snn import validate
from snn.errors import ValidationError

BOUNDS = ("hard", "soft")
PAIRINGS = ("all", "nearest")


def _limit(field: str, value, infinity: float) -> float:
    """A finite weight bound, or ``infinity`` (-inf for w_min, inf for w_max): no bound."""
    if isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and value == infinity:
        return float(value)
    return validate.finite(field, value)


def _bounds(rule: str, w_min: float, w_max: float, bounds: str) -> tuple[float, float]:
    low = _limit(f"{rule}.w_min", w_min, -math.inf)
    high = _limit(f"{rule}.w_max", w_max, math.inf)
    if not high > low:
        raise ValidationError(f"{rule}.w_max", f"must be > w_min ({low}), got {high}")
    validate.choice(f"{rule}.bounds", bounds, BOUNDS)
    if bounds == "soft" and not (math.isfinite(low) and math.isfinite(high)):
        raise ValidationError(f"{rule}.bounds", "'soft' needs finite w_min and w_max")
    return low, high


class Rule:
    """Common behaviour: field validation by name (``tau*`` > 0, amplitudes and rates >= 0,
    the bounds) and ``to_dict``. Every rule needs the postsynaptic spikes
    (:meth:`snn.Network.add_projection` refuses a non-spiking target)."""

    def to_dict(self) -> dict:
        return {"type": type(self).__name__, **{f.name: getattr(self, f.name) for f in fields(self)}}

    def __post_init__(self) -> None:
        name = type(self).__name__
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("tau"):
                object.__setattr__(self, f.name, validate.positive(f"{name}.{f.name}", value))
            elif f.name.startswith(("a_", "a2_", "a3_", "learning_rate", "beta")):
                object.__setattr__(self, f.name, validate.non_negative(f"{name}.{f.name}", value))
        w_min, w_max = _bounds(name, self.w_min, self.w_max, self.bounds)
        object.__setattr__(self, "w_min", w_min)
        object.__setattr__(self, "w_max", w_max)


@dataclass(frozen=True, kw_only=True)
class PairSTDP(Rule):
    """Pair-based STDP with one trace per side (Song, Miller & Abbott 2000; Bi & Poo 1998).

    ``a_plus`` / ``a_minus`` (weight units, >= 0): potentiation / depression at
    ``|Delta t| -> 0``; ``tau_plus`` / ``tau_minus`` (s, > 0): the window's decay for
    pre-before-post / post-before-pre. ``pairing``: ``"all"`` (all-to-all: each spike
    adds 1 to its trace) or ``"nearest"`` (each spike sets its trace to 1, so only the
    nearest earlier spike of the other side counts). ``bounds``: see the module.
    """

    a_plus: float = 0.01
    a_minus: float = 0.0105
    tau_plus: float = 20e-3
    tau_minus: float = 20e-3
    w_min: float = 0.0
    w_max: float = 1.0
    bounds: str = "hard"
    pairing: str = "all"

    def __post_init__(self) -> None:
        super().__post_init__()
        validate.choice("PairSTDP.pairing", self.pairing, PAIRINGS)


@dataclass(frozen=True, kw_only=True)
class TripletSTDP(Rule):
    """Triplet STDP, all-to-all interactions (Pfister & Gerstner 2006, eqs. 1-4).

    Presynaptic traces ``r1`` (``tau_plus``) and ``r2`` (``tau_x``), postsynaptic ``o1``
    (``tau_minus``) and ``o2`` (``tau_y``), each +1 per spike. A presynaptic spike depresses
    by ``o1 (a2_minus + a3_minus r2)``, a postsynaptic one potentiates by
    ``r1 (a2_plus + a3_plus o2)``, with ``r2`` and ``o2`` taken just before the spike's own
    increment. Defaults: the visual-cortex minimal all-to-all model of their Table 4.
    """

    a2_plus: float = 5e-10
    a3_plus: float = 6.2e-3
    a2_minus: float = 7e-3
    a3_minus: float = 0.0
    tau_plus: float = 16.8e-3
    tau_minus: float = 33.7e-3
    tau_x: float = 101e-3
    tau_y: float = 125e-3
    w_min: float = 0.0
    w_max: float = 1.0
    bounds: str = "hard"


@dataclass(frozen=True, kw_only=True)
class RewardSTDP(Rule):
    """Reward-modulated STDP with an eligibility trace (Izhikevich 2007, "distal reward").

    Pair STDP (``a_plus``, ``a_minus``, ``tau_plus``, ``tau_minus``, all-to-all) changes an
    eligibility ``c`` per synapse instead of the weight; ``c`` decays with ``tau_c`` (s). A
    global dopamine level ``d`` (one per projection) jumps by what
    :meth:`snn.Simulator.reward` delivers and decays with ``tau_dopamine`` (s). Every step
    ``w += learning_rate * c * d * dt`` (``learning_rate`` in 1/s per unit of ``d``),
    bounded as ``bounds`` says.
    """

    a_plus: float = 1.0
    a_minus: float = 1.5
    tau_plus: float = 20e-3
    tau_minus: float = 20e-3
    tau_c: float = 1.0
    tau_dopamine: float = 0.2
    learning_rate: float = 1.0
    w_min: float = 0.0
    w_max: float = 1.0
    bounds: str = "hard"


@dataclass(frozen=True, kw_only=True)
class Oja(Rule):
    """Oja's rule on filtered spike trains: ``dw/dt = learning_rate (x y - beta y^2 w)``
    with ``x``, ``y`` the pre- and postsynaptic rates (Hz, see the module): ``nengo.Oja``'s
    update, with its rate and beta rescaled to the transform's units
    (:mod:`hardware.nengo_rules`). Weight bounds default to none."""

    learning_rate: float = 1e-6
    beta: float = 1.0
    tau_rate: float = 5e-3
    w_min: float = -math.inf
    w_max: float = math.inf
    bounds: str = "hard"


BCM_THRESHOLDS = ("squared", "mean")


@dataclass(frozen=True, kw_only=True)
class BCM(Rule):
    """BCM with a sliding threshold (Bienenstock, Cooper & Munro 1982; Intrator & Cooper
    1992): ``dw/dt = learning_rate x y (y - theta)``; ``theta`` follows the postsynaptic
    ``y^2`` (``threshold="squared"``, the classic form) or ``y`` (``"mean"``, as
    ``nengo.BCM`` filters it) through a low-pass of ``tau_theta`` (s)."""

    learning_rate: float = 1e-9
    tau_rate: float = 5e-3
    tau_theta: float = 1.0
    threshold: str = "squared"
    w_min: float = 0.0
    w_max: float = math.inf
    bounds: str = "hard"

    def __post_init__(self) -> None:
        super().__post_init__()
        validate.choice("BCM.threshold", self.threshold, BCM_THRESHOLDS)


RULES: dict[str, type] = {cls.__name__: cls for cls in (PairSTDP, TripletSTDP, RewardSTDP, Oja, BCM)}
PlasticityRule = PairSTDP | TripletSTDP | RewardSTDP | Oja | BCM
