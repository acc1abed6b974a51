r"""Leaky integrator (LI): a non-spiking readout.

Continuous time: ``tau_mem dv/dt = -(v - v_rest) + resistance (I + i_bias)``, the LIF's
membrane with no threshold; its discrete step is the LIF's
:func:`~snn.models.lif.integrate` with the same constants (the kernel's threshold is
``+inf``, so it never fires).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from snn import validate
from snn.models.base import NeuronModel, linear_only, register
from snn.models.lif import Integration, check_integration, check_membrane_step, leak_constants, leaky_channel


@register
@dataclass(frozen=True, kw_only=True)
class LI(NeuronModel):
    """Leaky integrator, a non-spiking readout (equations: :mod:`snn.models.li`).

    Parameters
    ----------
    tau_mem: time constant (s), > 0.
    v_rest: resting value (V).
    resistance: (ohm), > 0.
    i_bias: constant bias current (A).
    integration: ``"exact"`` or ``"euler"`` (:mod:`snn.models.lif`; needs dt <= tau_mem).
    """

    spiking: ClassVar[bool] = False
    tau_mem: float = 20e-3
    v_rest: float = 0.0
    resistance: float = 1.0
    i_bias: float = 0.0
    integration: Integration = "exact"

    def __post_init__(self) -> None:
        object.__setattr__(self, "tau_mem", validate.positive("LI.tau_mem", self.tau_mem))
        object.__setattr__(self, "v_rest", validate.finite("LI.v_rest", self.v_rest))
        object.__setattr__(self, "resistance", validate.positive("LI.resistance", self.resistance))
        object.__setattr__(self, "i_bias", validate.finite("LI.i_bias", self.i_bias))
        check_integration(self)

    def constants(self, dt: float) -> dict:
        return linear_only(
            {
                **leak_constants(
                    self.tau_mem, self.resistance, self.v_rest, self.i_bias, dt, self.integration
                ),
                "v_reset": self.v_rest,
                "v_th": np.inf,
                "reset_amount": 0.0,
                "reset_subtract": False,
                "ref_steps": 0,
                "initial_v": self.v_rest,
            }
        )

    def channel(self, synapse, dt: float) -> tuple[float, float]:
        return leaky_channel(self.tau_mem, self.resistance, synapse, dt, self.integration)

    def check_step(self, dt: float) -> None:
        """Forward Euler needs dt <= tau_mem."""
        check_membrane_step(self, dt)
