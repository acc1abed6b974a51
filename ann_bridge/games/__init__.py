"""Competitive optimisation: two-player optimisers (GDA, Adam, OGDA, extragradient, CGD,
ACGD) with one API, and small games with known equilibria. Torch, device-agnostic."""

from ann_bridge.games.games import Game, bilinear, quadratic, random_quadratic
from ann_bridge.games.optimizers import (
    ACGD,
    CGD,
    OPTIMIZERS,
    AdamGDA,
    AlternatingGDA,
    Extragradient,
    GameOptimizer,
    OptimisticGDA,
    SimultaneousGDA,
    StepInfo,
    make,
)

__all__ = [
    "ACGD", "CGD", "OPTIMIZERS", "AdamGDA", "AlternatingGDA", "Extragradient", "Game", "GameOptimizer",
    "OptimisticGDA", "SimultaneousGDA", "StepInfo", "bilinear", "make", "quadratic", "random_quadratic",
]  # fmt: skip
