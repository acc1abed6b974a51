"""Energy-based models in torch (device-agnostic): energy networks and inference, SGLD with a
replay buffer, contrastive losses (maximum likelihood, hinge, square-square, NCE), the
denoising auto-encoder, a latent-variable EBM, and a classifier read as an EBM (JEM)."""

from ann_bridge.ebm.energy import EnergyMLP, JointEnergy, infer
from ann_bridge.ebm.latent import LatentCurveEBM, ellipse_distance, ellipse_points
from ann_bridge.ebm.losses import DenoisingAutoencoder, hinge, maximum_likelihood, nce, square_square
from ann_bridge.ebm.sampling import ReplayBuffer, sgld

__all__ = [
    "DenoisingAutoencoder", "EnergyMLP", "JointEnergy", "LatentCurveEBM", "ReplayBuffer", "ellipse_distance",
    "ellipse_points", "hinge", "infer", "maximum_likelihood", "nce", "sgld", "square_square",
]  # fmt: skip
