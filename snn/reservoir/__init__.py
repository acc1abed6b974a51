"""Reservoir computing: echo state networks (rate), liquid state machines (spiking) and
the trained readouts they share. Only the readout learns; the reservoir is fixed."""

from __future__ import annotations

from snn.reservoir.esn import ESN, ESNWeights
from snn.reservoir.lsm import LSM, filtered_spikes
from snn.reservoir.readouts import RLS, Ridge, Softmax
from snn.reservoir.spectral import spectral_radius

__all__ = ["ESN", "ESNWeights", "LSM", "RLS", "Ridge", "Softmax", "filtered_spikes", "spectral_radius"]
