"""What the nonlinear models (AdEx, Izhikevich) share: how a synapse's slot enters them,
and their integration settings.

Their step is forward Euler (Brian2's ``euler``: every derivative from the state at the
start of the substep), ``substeps`` times per ``dt``; a spike ends the step early. A delta
synapse's weight (V) jumps ``v`` at the start of the next step; an exponential synapse's
slot is a current (A) held for the step and decayed exactly by ``exp(-dt / tau_syn)``.
"""

from __future__ import annotations

import numpy as np

from snn import validate

SUBSTEPS_MAX = 1000


def nonlinear_channel(synapse, dt: float) -> tuple[float, float]:
    """(decay, coefficient): delta slots are voltage jumps (decay 0), exponential ones currents."""
    from snn.synapses import Delta

    if isinstance(synapse, Delta):
        return 0.0, 1.0
    return float(np.exp(-dt / synapse.tau_syn)), 1.0


def check_substeps(kind: str, substeps) -> int:
    return validate.count(f"{kind}.substeps", substeps, low=1, high=SUBSTEPS_MAX)


def neutral_linear(v_reset: float, v_th: float, initial_v: float, initial_w: float, extra: tuple) -> dict:
    """The linear columns a nonlinear population leaves unused, and its own ones."""
    from snn.models.base import EXTRA_COLUMNS

    padded = tuple(float(x) for x in extra) + (0.0,) * (EXTRA_COLUMNS - len(extra))
    return {
        "alpha": 1.0,
        "const_drive": 0.0,
        "drive_gain": 0.0,
        "rho": 1.0,
        "beta": 0.0,
        "v_reset": v_reset,
        "v_th": v_th,
        "reset_amount": 0.0,
        "reset_subtract": False,
        "ref_steps": 0,
        "initial_v": initial_v,
        "initial_w": initial_w,
        "extra": padded,
    }
