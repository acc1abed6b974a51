"""Training a GAN with any two-player optimiser of :mod:`ann_bridge.games` (device-agnostic)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from ann_bridge.games import make
from ann_bridge.gan.losses import Loss
from snn import validate


def train(
    generator: torch.nn.Module,
    discriminator: torch.nn.Module,
    real: Callable[[int], torch.Tensor],
    *,
    loss: Loss,
    optimizer: str,
    steps: int,
    batch: int = 256,
    lr_g: float = 1e-3,
    lr_d: float | None = None,
    seed: int = 0,
    options: dict | None = None,
    progress: bool | None = None,
) -> dict:
    """Train for ``steps`` steps; ``real(n)`` draws n real samples (a tensor on the models'
    device). The generator is player x (minimising), the discriminator player y. Returns the
    history: per step G's and D's losses, CG iterations, and the median seconds per step."""
    steps = validate.count("steps", steps)
    batch = validate.count("batch", batch, low=2)
    torch.manual_seed(seed)
    opt = make(optimizer, list(generator.parameters()), list(discriminator.parameters()),
               lr_x=lr_g, lr_y=lr_d, **(options or {}))  # fmt: skip
    device = next(generator.parameters()).device
    _check_shapes(generator, discriminator, real(2), device)
    history = {"loss_g": [], "loss_d": [], "cg_iterations": [], "seconds": []}
    from ann_bridge.training import epochs_bar

    for _ in epochs_bar(steps, f"{loss.name} + {optimizer}", progress, unit="step"):
        x = real(batch)
        z = torch.randn(batch, generator.latent, device=device, dtype=x.dtype)
        started = time.perf_counter()
        info = opt.step(
            lambda x=x, z=z: loss.game(generator, discriminator, x, z, zero_sum=opt.zero_sum_only)
        )
        history["seconds"].append(time.perf_counter() - started)
        history["loss_g"].append(info.loss_x)
        history["loss_d"].append(info.loss_y)  # D's own loss (-f in a zero-sum game)
        history["cg_iterations"].append(info.cg_iterations)
        if not all(np.isfinite([info.loss_x, info.loss_y])):
            history["diverged"] = True
            break
    history["seconds_per_step"] = float(np.median(history["seconds"]))
    return history


def _check_shapes(generator, discriminator, real: torch.Tensor, device) -> None:
    """The generator must make samples shaped like the data, and the discriminator give one
    value per sample (EBGAN's: one energy)."""
    from snn.errors import ValidationError

    z = torch.randn(2, generator.latent, device=device, dtype=real.dtype)
    with torch.no_grad():
        try:
            fake = generator(z)
        except RuntimeError as error:
            raise ValidationError(
                "generator", f"cannot run on latents of {generator.latent}: {error}"
            ) from None
        if fake.shape[1:] != real.shape[1:]:
            raise ValidationError(
                "generator",
                f"makes samples of shape {tuple(fake.shape[1:])}, the data's are {tuple(real.shape[1:])}",
            )
        try:
            scores = discriminator(real)
        except RuntimeError as error:
            raise ValidationError(
                "discriminator", f"does not fit the data's shape {tuple(real.shape[1:])}: {error}"
            ) from None
        if scores.shape != (real.shape[0],):
            raise ValidationError(
                "discriminator",
                f"must give one value per sample, shape ({real.shape[0]},); got {tuple(scores.shape)}",
            )


def generate(generator: torch.nn.Module, n: int, seed: int = 0) -> np.ndarray:
    """``n`` samples from ``generator`` (eval mode, no gradients) as a numpy array."""
    device = next(generator.parameters()).device
    dtype = next(generator.parameters()).dtype
    z = torch.randn(n, generator.latent, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(
        device
    )
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        out = generator(z).cpu().numpy()
    generator.train(was_training)
    return out
