"""Hierarchical temporal memory (HTM): sparse distributed representations, encoders, the
false-match probability, the spatial pooler, the temporal memory with Hebbian dendritic
segments, and the anomaly likelihood.

Numpy + numba only, like the rest of :mod:`snn`; the kernels work on flat arrays.
"""

from __future__ import annotations

from snn.htm.encoders import CategoryEncoder, DateEncoder, RandomDistributedScalarEncoder, ScalarEncoder
from snn.htm.sdr import SDR, false_match_probability
from snn.htm.temporal_memory import TemporalMemory, TemporalMemoryParameters

__all__ = [
    "SDR",
    "CategoryEncoder",
    "DateEncoder",
    "RandomDistributedScalarEncoder",
    "ScalarEncoder",
    "TemporalMemory",
    "TemporalMemoryParameters",
    "false_match_probability",
]
