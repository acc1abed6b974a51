"""Neuron models, one module each; :data:`MODELS` is the registry every layer reads.

===========  ==========================  =======================================
model        module                      step the Numba kernels call
===========  ==========================  =======================================
LIF          :mod:`snn.models.lif`       ``lif.integrate``, ``lif.crossed``, ``lif.reset``
ALIF         :mod:`snn.models.alif`      LIF's, with ``alif.threshold``, ``alif.adapt``
IF           :mod:`snn.models.if_`       LIF's with ``alpha = 1``
LI           :mod:`snn.models.li`        ``lif.integrate`` (never fires)
CubaLIF      :mod:`snn.models.cubalif`   LIF's, behind its own exponential current
AdEx         :mod:`snn.models.adex`      ``adex.step``
Izhikevich   :mod:`snn.models.izhikevich` ``izhikevich.step``
===========  ==========================  =======================================
"""

from snn.models.adex import AdEx
from snn.models.alif import ALIF
from snn.models.base import MODELS, RESETS, NeuronModel, Reset, register
from snn.models.cubalif import CubaLIF
from snn.models.if_ import IF
from snn.models.izhikevich import Izhikevich
from snn.models.li import LI
from snn.models.lif import LIF

__all__ = [
    "ALIF", "IF", "LI", "LIF", "MODELS", "RESETS", "AdEx", "CubaLIF", "Izhikevich", "NeuronModel", "Reset",
    "register",
]  # fmt: skip
