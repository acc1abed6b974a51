r"""Non-leaky integrate-and-fire neuron (IF).

Continuous time: ``capacitance dv/dt = I + i_bias``; threshold, reset and hold as the LIF's.

Discrete step: the LIF's :func:`~snn.models.lif.integrate` with no leak, ``alpha = 1``,
``drive_gain = dt / capacitance``, ``const_drive = drive_gain i_bias``. A delta synapse's
weight (V) adds to ``v`` (``coef = 1``); an exponential one's current ``I0 exp(-t/tau_syn)``
adds ``I0 tau_syn (1 - exp(-dt / tau_syn)) / capacitance`` per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn import validate
from snn.models.base import NeuronModel, Reset, linear_only, register
from snn.models.lif import threshold_constants


@register
@dataclass(frozen=True, kw_only=True)
class IF(NeuronModel):
    """Non-leaky integrate-and-fire neuron (equations: :mod:`snn.models.if_`).

    Parameters
    ----------
    capacitance: membrane capacitance (F), > 0.
    v_reset, v_th: reset potential and threshold (V), v_reset < v_th.
    tau_ref: refractory period (s), >= 0.
    i_bias: constant bias current (A).
    reset: ``"value"`` or ``"subtract"`` (the latter is what ANN->SNN conversion uses).
    """

    capacitance: float = 1.0
    v_reset: float = 0.0
    v_th: float = 1.0
    tau_ref: float = 0.0
    i_bias: float = 0.0
    reset: Reset = "value"

    def __post_init__(self) -> None:
        object.__setattr__(self, "capacitance", validate.positive("IF.capacitance", self.capacitance))
        object.__setattr__(self, "v_reset", validate.finite("IF.v_reset", self.v_reset))
        object.__setattr__(self, "v_th", validate.finite("IF.v_th", self.v_th))
        object.__setattr__(self, "tau_ref", validate.non_negative("IF.tau_ref", self.tau_ref))
        object.__setattr__(self, "i_bias", validate.finite("IF.i_bias", self.i_bias))
        self._check_reset_below_threshold()
        self._check_reset()

    def constants(self, dt: float) -> dict:
        gain = dt / self.capacitance
        return linear_only(
            {
                "alpha": 1.0,
                "const_drive": gain * self.i_bias,
                "drive_gain": gain,
                **threshold_constants(self, dt),
                "initial_v": self.v_reset,
            }
        )

    def channel(self, synapse, dt: float) -> tuple[float, float]:
        from snn.synapses import Delta

        if isinstance(synapse, Delta):
            return 0.0, 1.0
        tau_syn = synapse.tau_syn
        return np.exp(-dt / tau_syn), tau_syn / self.capacitance * -np.expm1(-dt / tau_syn)
