"""Numba kernels: the only place with per-neuron and per-synapse loops."""
