"""The neuron models' step functions, compiled for the Numba kernels.

Each model's update is written once, as plain arithmetic in its module under
:mod:`snn.models` (so ``import snn`` needs no Numba and the torch mirror can call the same
functions on tensors); this module only compiles them. Inlined into every kernel that calls
them, so a kernel's loop vectorises as if the arithmetic were written in place.
"""

from __future__ import annotations

from numba import njit

from snn.learning import surrogates
from snn.models import adex, alif, izhikevich, lif
from snn.models.base import ADEX


def _compiled(function):
    return njit(cache=True, inline="always")(function)


lif_integrate = _compiled(lif.integrate)
lif_crossed = _compiled(lif.crossed)
lif_reset = _compiled(lif.reset)
lif_holding = _compiled(lif.holding)
lif_count_down = _compiled(lif.count_down)
alif_threshold = _compiled(alif.threshold)
alif_adapt = _compiled(alif.adapt)
adex_step = _compiled(adex.step)
izhikevich_step = _compiled(izhikevich.step)
fast_sigmoid = _compiled(surrogates.fast_sigmoid)
triangle = _compiled(surrogates.triangle)
arctan = _compiled(surrogates.arctan)


@njit(cache=True, inline="always")
def nonlinear_step(kind, v, w, current, v_peak, v_reset, p):
    """The step of the nonlinear model with kernel code ``kind`` (:data:`snn.models.base.ADEX`
    or ``IZHIKEVICH``): ``(v, w, spiked)`` after ``dt``, ``current`` (A) held for the step."""
    if kind == ADEX:
        return adex_step(v, w, current, v_peak, v_reset, p)
    return izhikevich_step(v, w, current, v_peak, v_reset, p)
