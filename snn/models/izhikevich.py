r"""Izhikevich's simple model (Izhikevich 2003, IEEE TNN 14:1569), in SI units.

The paper writes ``v' = 0.04 v^2 + 5 v + 140 - u + I`` and ``u' = a (b v - u)`` with ``v``
in mV and time in ms. Here ``v`` and ``u`` are in volts and ``time_scale`` is the paper's
millisecond, so the same numbers hold::

    time_scale dv/dt = 40/V v^2 + 5 v + 0.140 V - u + resistance (I + i_bias)
    du/dt            = a (b v - u)
    spike when v >= v_peak, then v <- c and u <- u + d

``a`` in 1/s (the paper's 0.02/ms is 20/s), ``b`` dimensionless, ``c`` and ``d`` in V (the
paper's -65 and 8 are -65e-3 and 8e-3). With ``resistance = 1`` ohm a current of 1 A is a
drive of 1 V, so the paper's ``I = 10`` is 10 mV of drive, a current of 0.01 A. The defaults
are the regular-spiking cell of the paper's Fig. 2; the initial state is ``v = -65 mV`` and
``u = b v``, as in the paper's code.

Discrete step (:func:`step`): forward Euler (Brian2's ``euler``), ``substeps`` substeps of
``h = dt / substeps``; a substep reaching ``v_peak`` is a spike and ends the step. The paper
itself steps 1 ms (``v`` in two 0.5 ms halves); 0.1 ms or finer keeps spike times within
a fraction of a millisecond of a fine reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from snn import validate
from snn.models.base import IZHIKEVICH, NeuronModel, register
from snn.models.nonlinear import check_substeps, neutral_linear, nonlinear_channel

QUADRATIC = 40.0  # 1/V: the paper's 0.04 / mV
LINEAR = 5.0
CONSTANT = 0.140  # V: the paper's 140 mV
INITIAL_V = -65e-3  # V, the paper's starting potential

# columns of the population's constants row (NeuronArrays.extra) that step() reads
H, SUBSTEPS, TIME_SCALE, A, B, D, RESISTANCE, I_BIAS = range(8)


def step(v, u, current, v_peak, c, p):
    """One step of ``dt``: returns ``(v, u, spiked)``; ``current`` (A) is held for the step."""
    h = p[H]
    drive = p[RESISTANCE] * (p[I_BIAS] + current)
    spiked = False
    for _ in range(int(p[SUBSTEPS])):
        # the terms in the order of Brian2's generated euler code, so both round alike
        v_next = h * (CONSTANT + LINEAR * v + QUADRATIC * (v * v) + drive - u) / p[TIME_SCALE] + v
        u = p[A] * h * (p[B] * v - u) + u
        v = v_next
        if v >= v_peak:
            spiked = True
            break
    if spiked:
        v = c
        u = u + p[D]
    return v, u, spiked


@register
@dataclass(frozen=True, kw_only=True)
class Izhikevich(NeuronModel):
    """Izhikevich (2003) neuron (equations: :mod:`snn.models.izhikevich`).

    Parameters
    ----------
    a: recovery rate (1/s), > 0.
    b: sensitivity of ``u`` to ``v`` (dimensionless).
    c: reset potential (V), < v_peak.
    d: recovery jump after a spike (V).
    v_peak: spike cut-off (V).
    resistance: input resistance (ohm), > 0.
    time_scale: the paper's millisecond (s), > 0.
    i_bias: constant bias current (A).
    substeps: Euler substeps per simulation step, 1..1000.
    """

    state_variables: ClassVar[tuple[str, ...]] = ("v", "u")
    kernel: ClassVar[int] = IZHIKEVICH
    a: float = 20.0
    b: float = 0.2
    c: float = -65e-3
    d: float = 8e-3
    v_peak: float = 30e-3
    resistance: float = 1.0
    time_scale: float = 1e-3
    i_bias: float = 0.0
    substeps: int = 1

    def __post_init__(self) -> None:
        for name in ("a", "resistance", "time_scale"):
            object.__setattr__(self, name, validate.positive(f"Izhikevich.{name}", getattr(self, name)))
        for name in ("b", "c", "d", "v_peak", "i_bias"):
            object.__setattr__(self, name, validate.finite(f"Izhikevich.{name}", getattr(self, name)))
        object.__setattr__(self, "substeps", check_substeps("Izhikevich", self.substeps))
        self._check_reset_below_threshold("c", "v_peak")

    def constants(self, dt: float) -> dict:
        extra = [0.0] * 8
        extra[H], extra[SUBSTEPS], extra[TIME_SCALE] = dt / self.substeps, self.substeps, self.time_scale
        extra[A], extra[B], extra[D] = self.a, self.b, self.d
        extra[RESISTANCE], extra[I_BIAS] = self.resistance, self.i_bias
        return neutral_linear(self.c, self.v_peak, INITIAL_V, self.b * INITIAL_V, extra)

    def initial_w(self, v0):
        """``u = b v`` at the start, for any starting ``v`` (the paper's initial condition)."""
        return self.b * v0

    def channel(self, synapse, dt: float) -> tuple[float, float]:
        return nonlinear_channel(synapse, dt)

    #: The continuous-time equations as Brian2 writes them (a backend generates its model from these)
    equations: ClassVar[dict] = {
        "v": "(quadratic * v**2 + linear * v + constant - u + resistance * (I + i_bias)) / time_scale",
        "u": "a * (b * v - u)",
    }
    units: ClassVar[dict] = {
        "a": "1/second", "b": "1", "c": "volt", "d": "volt", "v_peak": "volt", "resistance": "ohm",
        "time_scale": "second", "i_bias": "amp", "quadratic": "1/volt", "linear": "1", "constant": "volt",
        "v": "volt", "u": "volt",
    }  # fmt: skip
    fixed: ClassVar[dict] = {"quadratic": QUADRATIC, "linear": LINEAR, "constant": CONSTANT}
    threshold: ClassVar[str] = "v >= v_peak"
    reset_code: ClassVar[str] = "v = c\nu += d"
