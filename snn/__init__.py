"""neurobridge's spiking core: model description, reference simulator, results.

``import snn`` stays light (numpy only); the Numba simulator loads on first use of
:class:`Simulator`.
"""

from __future__ import annotations

from snn.connectivity import AllToAll, FixedInDegree, FixedProbability, Sparse
from snn.errors import UnsupportedFeature, ValidationError
from snn.inputs import Current, LatencyEncoder, PoissonSource, RateEncoder, Reward, SpikeSource
from snn.network import Network, Population, Probe, Projection, Uniform
from snn.neurons import ALIF, IF, LI, LIF, AdEx, CubaLIF, Izhikevich
from snn.result import Result, Trace
from snn.synapses import Delta, Exponential

__version__ = "0.1.0"

__all__ = [
    "ALIF",
    "AdEx",
    "CubaLIF",
    "Izhikevich",
    "IF",
    "LI",
    "LIF",
    "AllToAll",
    "Current",
    "Delta",
    "Exponential",
    "FixedInDegree",
    "FixedProbability",
    "LatencyEncoder",
    "Network",
    "PoissonSource",
    "Population",
    "Probe",
    "Projection",
    "RateEncoder",
    "Result",
    "Reward",
    "Simulator",
    "Sparse",
    "SpikeSource",
    "Trace",
    "Uniform",
    "UnsupportedFeature",
    "ValidationError",
    "load_toml",
]


def __getattr__(name: str):
    # the simulator pulls in numba (~0.5 s); load it only when asked for
    if name == "Simulator":
        from snn.simulator import Simulator

        return Simulator
    if name == "load_toml":
        from snn.config import load_toml

        return load_toml
    raise AttributeError(f"module 'snn' has no attribute {name!r}")
