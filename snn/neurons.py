"""The neuron models, as one namespace (each lives in its own module under :mod:`snn.models`)."""

from snn.models import ALIF, IF, LI, LIF, MODELS, RESETS, AdEx, CubaLIF, Izhikevich, NeuronModel, Reset

__all__ = [
    "ALIF",
    "IF",
    "LI",
    "LIF",
    "MODELS",
    "RESETS",
    "AdEx",
    "CubaLIF",
    "Izhikevich",
    "NeuronModel",
    "Reset",
]
