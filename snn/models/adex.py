r"""Adaptive exponential integrate-and-fire neuron (AdEx; Brette & Gerstner 2005).

Continuous time (``I`` the input current, A)::

    C dv/dt     = -g_leak (v - e_leak) + g_leak delta_t exp((v - v_t) / delta_t) - w + I + i_bias
    tau_w dw/dt = a (v - e_leak) - w
    spike when v > v_peak, then v <- v_reset and w <- w + b

``a`` is the subthreshold adaptation (S), ``b`` the spike-triggered one (A). The defaults
are Brette & Gerstner's regular-spiking cell (their Fig. 2; ``v_peak = v_t + 5 delta_t``,
the cut-off Brian2's example uses); Naud et al. (2008, Table 1) give the parameter sets of
the other firing patterns, with ``v_peak = 0 V``.

Discrete step (:func:`step`): forward Euler, ``substeps`` substeps of ``h = dt / substeps``,
both derivatives from the state at the start of each substep (Brian2's ``euler``). The
exponential makes ``v`` run away once above ``v_t``: a substep that crosses ``v_peak`` is a
spike and ends the step. Euler is first order; the firing pattern holds at
``h <= 0.1 ms`` for Naud et al.'s sets, and ``substeps`` refines it without changing ``dt``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from snn import validate
from snn.models.base import ADEX, NeuronModel, register
from snn.models.nonlinear import check_substeps, neutral_linear, nonlinear_channel

# columns of the population's constants row (NeuronArrays.extra) that step() reads
H, SUBSTEPS, CAPACITANCE, G_LEAK, E_LEAK, V_T, DELTA_T, A, TAU_W, B, I_BIAS = range(11)


def step(v, w, current, v_peak, v_reset, p):
    """One step of ``dt``: returns ``(v, w, spiked)``. ``current`` (A) is held for the step;
    ``p`` is the population's constants row (columns named above)."""
    h = p[H]
    spiked = False
    for _ in range(int(p[SUBSTEPS])):
        # the terms in the order of Brian2's generated euler code, so both round alike
        exponential = p[DELTA_T] * p[G_LEAK] * math.exp((v - p[V_T]) / p[DELTA_T])
        v_next = (
            v + h * (exponential + p[G_LEAK] * (p[E_LEAK] - v) + p[I_BIAS] + current - w) / p[CAPACITANCE]
        )
        w = h * (p[A] * (v - p[E_LEAK]) - w) / p[TAU_W] + w
        v = v_next
        if v > v_peak:
            spiked = True
            break
    if spiked:
        v = v_reset
        w = w + p[B]
    return v, w, spiked


@register
@dataclass(frozen=True, kw_only=True)
class AdEx(NeuronModel):
    """Adaptive exponential integrate-and-fire neuron (equations: :mod:`snn.models.adex`).

    Parameters
    ----------
    capacitance: membrane capacitance C (F), > 0.
    g_leak: leak conductance (S), > 0.
    e_leak: leak reversal potential (V).
    v_t: rheobase threshold, where the exponential takes over (V).
    delta_t: slope factor (V), > 0.
    v_peak: spike cut-off (V), > v_reset and > v_t.
    v_reset: potential after a spike (V).
    a: subthreshold adaptation conductance (S), any sign.
    tau_w: adaptation time constant (s), > 0.
    b: spike-triggered adaptation increment (A), any sign.
    i_bias: constant bias current (A).
    substeps: Euler substeps per simulation step, 1..1000.
    """

    state_variables: ClassVar[tuple[str, ...]] = ("v", "w")
    kernel: ClassVar[int] = ADEX
    capacitance: float = 281e-12
    g_leak: float = 30e-9
    e_leak: float = -70.6e-3
    v_t: float = -50.4e-3
    delta_t: float = 2e-3
    v_peak: float = -40.4e-3
    v_reset: float = -70.6e-3
    a: float = 4e-9
    tau_w: float = 144e-3
    b: float = 80.5e-12
    i_bias: float = 0.0
    substeps: int = 1

    def __post_init__(self) -> None:
        for name in ("capacitance", "g_leak", "delta_t", "tau_w"):
            object.__setattr__(self, name, validate.positive(f"AdEx.{name}", getattr(self, name)))
        for name in ("e_leak", "v_t", "v_peak", "v_reset", "a", "b", "i_bias"):
            object.__setattr__(self, name, validate.finite(f"AdEx.{name}", getattr(self, name)))
        object.__setattr__(self, "substeps", check_substeps("AdEx", self.substeps))
        self._check_reset_below_threshold("v_reset", "v_peak")
        self._check_reset_below_threshold("v_t", "v_peak")

    def constants(self, dt: float) -> dict:
        extra = [0.0] * 11
        extra[H], extra[SUBSTEPS] = dt / self.substeps, self.substeps
        extra[CAPACITANCE], extra[G_LEAK], extra[E_LEAK] = self.capacitance, self.g_leak, self.e_leak
        extra[V_T], extra[DELTA_T], extra[A] = self.v_t, self.delta_t, self.a
        extra[TAU_W], extra[B], extra[I_BIAS] = self.tau_w, self.b, self.i_bias
        return neutral_linear(self.v_reset, self.v_peak, self.e_leak, 0.0, extra)

    def channel(self, synapse, dt: float) -> tuple[float, float]:
        return nonlinear_channel(synapse, dt)

    #: The continuous-time equations as Brian2 writes them (a backend generates its model from these)
    equations: ClassVar[dict] = {
        "v": "(g_leak * (e_leak - v) + g_leak * delta_t * exp((v - v_t) / delta_t) - w + I + i_bias)"
        " / capacitance",
        "w": "(a * (v - e_leak) - w) / tau_w",
    }
    units: ClassVar[dict] = {
        "capacitance": "farad", "g_leak": "siemens", "e_leak": "volt", "v_t": "volt", "delta_t": "volt",
        "v_peak": "volt", "v_reset": "volt", "a": "siemens", "tau_w": "second", "b": "amp", "i_bias": "amp",
        "v": "volt", "w": "amp",
    }  # fmt: skip
    threshold: ClassVar[str] = "v > v_peak"
    reset_code: ClassVar[str] = "v = v_reset\nw += b"
