"""GANs in the bridge: losses as two-player games, networks, toys and metrics, trained with
any optimiser of :mod:`ann_bridge.games`."""

from ann_bridge.gan.losses import LOSSES, Loss
from ann_bridge.gan.training import generate, train

__all__ = ["LOSSES", "Loss", "generate", "train"]
