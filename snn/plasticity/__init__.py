"""Synaptic plasticity: learning rules attached to projections.

>>> import snn
>>> from snn.plasticity import PairSTDP
>>> rule = PairSTDP(a_plus=0.01, a_minus=0.012, w_max=0.5)
>>> rule.tau_plus
0.02

Rules are data (:mod:`snn.plasticity.rules`); the builder turns them into arrays
(:mod:`snn.plasticity.build`) and :mod:`snn.plasticity.kernels` updates the weights.
"""

from snn.plasticity.freeze import freeze
from snn.plasticity.rules import BCM, RULES, Oja, PairSTDP, PlasticityRule, RewardSTDP, TripletSTDP

__all__ = ["BCM", "RULES", "Oja", "PairSTDP", "PlasticityRule", "RewardSTDP", "TripletSTDP", "freeze"]
