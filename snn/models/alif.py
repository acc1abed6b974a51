r"""Adaptive LIF (ALIF): the LIF with a spike-triggered adaptive threshold.

Continuous time: the LIF of :mod:`snn.models.lif`, with the threshold ``A = v_th + beta b``
and ``tau_adapt db/dt = -b + dt sum_k delta(t - t_k)``.

Discrete step (Bellec et al. 2020): the LIF's :func:`~snn.models.lif.integrate`, then the
spike test against :func:`threshold` with ``b`` from the previous step, then
:func:`adapt`, ``b <- rho b + (1 - rho) z`` with ``rho = exp(-dt / tau_adapt)`` and ``z`` the
step's 0/1 spike. ALIF reuses the LIF's step and only shifts its threshold, as Nengo's
AdaptiveLIF reuses LIF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from snn import validate
from snn.models.base import register
from snn.models.lif import LIF


def threshold(v_th, beta, b):
    """The adaptive threshold ``v_th + beta b`` (V)."""
    return v_th + beta * b


def adapt(b, rho, z):
    """``b`` after a step with spike indicator ``z`` (0.0 or 1.0; a float or a tensor)."""
    return rho * b + (1.0 - rho) * z


@register
@dataclass(frozen=True, kw_only=True)
class ALIF(LIF):
    """LIF with a spike-triggered adaptive threshold ``A = v_th + beta * b`` (equations:
    :mod:`snn.models.alif`).

    Parameters (besides the LIF's)
    ----------
    tau_adapt: adaptation time constant (s), > 0.
    beta: threshold increase per unit of ``b`` (V), >= 0. ``b`` is dimensionless and
        jumps by ``1 - exp(-dt / tau_adapt)`` per spike, so it averages about
        ``rate * dt`` and the threshold rises by about ``beta * rate * dt``
        (Bellec et al.'s discrete form; their beta = 1.8 with v_th = 0.01 at dt = 1 ms).
    """

    state_variables: ClassVar[tuple[str, ...]] = ("v", "b")
    tau_adapt: float = 200e-3
    beta: float = 1.8

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "tau_adapt", validate.positive("ALIF.tau_adapt", self.tau_adapt))
        object.__setattr__(self, "beta", validate.non_negative("ALIF.beta", self.beta))

    def constants(self, dt: float) -> dict:
        return {**super().constants(dt), "rho": float(np.exp(-dt / self.tau_adapt)), "beta": self.beta}
