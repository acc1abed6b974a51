r"""Current-based LIF (CubaLIF): the LIF driven through its own exponential synaptic current.

Continuous time (NIR's ``CubaLIF`` primitive, in our units)::

    tau_syn dI_syn/dt = -I_syn             and each input spike of weight w (A): I_syn += w
    tau_mem dv/dt     = -(v - v_rest) + resistance (I_syn + I_ext + i_bias)

with the LIF's threshold, reset and hold (:mod:`snn.models.lif`). The discrete step is the
LIF's :func:`~snn.models.lif.integrate`; every projection into a CubaLIF goes through an
exponential channel with the neuron's ``tau_syn`` (:func:`~snn.models.lif.exponential_channel`).
NIR writes ``tau_syn dI/dt = -I + w_in S``: a NIR weight ``W`` becomes ``w_in W / tau_syn``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from snn import validate
from snn.errors import ValidationError
from snn.models.base import register
from snn.models.lif import LIF, check_euler_step


@register
@dataclass(frozen=True, kw_only=True)
class CubaLIF(LIF):
    """LIF with its own synaptic current (equations: :mod:`snn.models.cubalif`).

    Parameters (besides the LIF's)
    ----------
    tau_syn: synaptic current time constant (s), > 0. Projections into a CubaLIF leave
        their ``synapse`` at the default (or give ``Exponential`` with this ``tau_syn``).
    """

    state_variables: ClassVar[tuple[str, ...]] = ("v",)
    tau_syn: float = 5e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "tau_syn", validate.positive("CubaLIF.tau_syn", self.tau_syn))

    def input_synapse(self, synapse):
        from snn.synapses import Delta, Exponential

        own = Exponential(tau_syn=self.tau_syn)
        if isinstance(synapse, Delta) or synapse == own:
            return own
        raise ValidationError(
            "Projection.synapse",
            f"a CubaLIF integrates its input through its own tau_syn ({self.tau_syn} s); leave the synapse "
            f"unset, got {synapse!r}",
        )

    def check_step(self, dt: float) -> None:
        """Forward Euler needs dt <= tau_mem and dt <= tau_syn."""
        super().check_step(dt)
        if self.integration == "euler":
            check_euler_step("CubaLIF.tau_syn", self.tau_syn, dt)
