"""GAN runs: the 2-D toys (ring, grid) and scikit-learn digits, with every loss and two-player
optimiser, the same networks and step budget for each; metrics of :mod:`ann_bridge.gan`.

- toys: MLP generator (latent 8) and discriminator, 3 hidden layers of 64; 2500 samples
  scored by modes covered and the high-quality share (VEEGAN's definition);
- digits: scikit-learn's 8x8 digits in [-1, 1], DCGAN-size convolutional generator (latent
  32) and discriminator; MNIST-1D: its 40-sample signals (standardised), MLP generator
  (latent 16) and discriminator, 3 hidden layers of 128. Both scored by the Frechet
  distance between 1000 generated samples and the held-out test set in the hidden layer of
  a classifier of the data trained once (cached), and a classifier two-sample test
  (accuracy of telling generated from real on held-out features; 0.5 is indistinguishable).
"""

from __future__ import annotations

import numpy as np
import torch

from ann_bridge.gan import Loss, generate, train
from snn.errors import ValidationError

DATA = ("ring", "grid", "digits", "mnist1d")
#: data sets scored by the features of a classifier trained on them (the others: by modes)
CLASSIFIED = ("digits", "mnist1d")
#: ann: an MLP / convolutional discriminator; snn: ann_bridge.gan.networks.SpikingDiscriminator
DISCRIMINATORS = ("ann", "snn")
#: Step sizes per optimiser (generator and discriminator alike), the same for every data set
DEFAULT_LR = {"gda": 0.01, "alt-gda": 0.01, "adam": 1e-3, "ogda": 0.01, "extragradient": 0.01,
              "cgd": 0.01, "acgd": 1e-3}  # fmt: skip
DEFAULT_STEPS = {"ring": 8000, "grid": 8000, "digits": 2000, "mnist1d": 2000}


def check(data: str, optimizer: str, model: str, discriminator: str = "ann") -> Loss:
    """The loss of a valid combination; a ValidationError naming the option otherwise."""
    from ann_bridge.games import OPTIMIZERS

    if data not in DATA:
        raise ValidationError("--data", f"must be one of {list(DATA)}, got {data!r}")
    if optimizer not in OPTIMIZERS:
        raise ValidationError("--optimizer", f"must be one of {list(OPTIMIZERS)}, got {optimizer!r}")
    loss = Loss(model)
    if OPTIMIZERS[optimizer].zero_sum_only and not loss.has_zero_sum:
        raise ValidationError("--optimizer", f"{optimizer} plays zero-sum games and {model} is not one")
    if discriminator not in DISCRIMINATORS:
        raise ValidationError(
            "--discriminator", f"must be one of {list(DISCRIMINATORS)}, got {discriminator!r}"
        )
    if discriminator == "snn" and model == "ebgan":
        raise ValidationError("--discriminator", "ebgan's discriminator is an auto-encoder: use ann")
    return loss


def _networks(data: str, model: str, discriminator: str = "ann"):
    from ann_bridge.gan.networks import (
        AutoencoderDiscriminator,
        ConvDiscriminator,
        ConvGenerator,
        MLPDiscriminator,
        MLPGenerator,
    )  # fmt: skip

    if discriminator == "snn":  # (combinations checked by check())
        from ann_bridge.gan.networks import SpikingDiscriminator

        if data == "digits":
            return ConvGenerator(latent=32, width=32), SpikingDiscriminator(
                64, hidden=128, low=-1.0, high=1.0
            )
        if data == "mnist1d":
            return MLPGenerator(16, 40, hidden=128, depth=3), SpikingDiscriminator(40, hidden=128)
        # the grid's modes reach +-4.15: the rate code spans +-5 (clipped outside, where D is blind)
        return MLPGenerator(8, 2, hidden=64, depth=3), SpikingDiscriminator(2, hidden=64, low=-5.0, high=5.0)
    if data == "mnist1d":  # 40-sample standardised signals
        generator = MLPGenerator(16, 40, hidden=128, depth=3)
        discriminator = (
            AutoencoderDiscriminator(40, hidden=128, code=16)
            if model == "ebgan"
            else MLPDiscriminator(40, 128, 3)
        )
        return generator, discriminator
    if data == "digits":
        generator = ConvGenerator(latent=32, width=32)
        discriminator = (
            AutoencoderDiscriminator(64, hidden=128, code=32) if model == "ebgan" else ConvDiscriminator(32)
        )
        return generator, discriminator
    generator = MLPGenerator(8, 2, hidden=64, depth=3)
    discriminator = (
        AutoencoderDiscriminator(2, hidden=64, code=8) if model == "ebgan" else MLPDiscriminator(2, 64, 3)
    )
    return generator, discriminator


def run(data: str = "ring", model: str = "gan", optimizer: str = "acgd", *, seed: int = 0,
        steps: int | None = None, lr: float | None = None, batch: int = 256, discriminator: str = "ann",
        progress: bool | None = None) -> dict:  # fmt: skip
    """Train one GAN and score it; returns metrics, the loss history and generated samples."""
    loss = check(data, optimizer, model, discriminator)
    steps = steps or DEFAULT_STEPS[data]
    lr = lr if lr is not None else DEFAULT_LR[optimizer]
    from ann_bridge import device

    torch.manual_seed(seed)
    kind = discriminator
    generator, discriminator = (net.to(device()) for net in _networks(data, model, kind))
    rng = np.random.default_rng(seed)
    if data in CLASSIFIED:
        train_x = torch.from_numpy(_classified_data(data, seed)[0]).to(device())

        def real(n: int) -> torch.Tensor:
            return train_x[torch.from_numpy(rng.integers(len(train_x), size=n)).to(device())]
    else:
        from ann_bridge.gan.toys import sample

        def real(n: int) -> torch.Tensor:
            return torch.from_numpy(sample(data, n, rng)).to(device())

    history = train(generator, discriminator, real, loss=loss, optimizer=optimizer, steps=steps, batch=batch,
                    lr_g=lr, seed=seed, progress=progress)  # fmt: skip
    report = {"data": data, "model": model, "optimizer": optimizer, "discriminator": kind, "seed": seed,
              "steps": steps, "lr": lr,
              "batch": batch, "seconds_per_step": history["seconds_per_step"],
              "cg_iterations_per_step": float(np.mean(history["cg_iterations"])),
              "diverged": bool(history.get("diverged", False))}  # fmt: skip
    if data in CLASSIFIED:
        samples = generate(generator, 1000, seed)
        report.update(feature_metrics(data, samples, seed))
    else:
        from ann_bridge.gan.toys import mode_metrics

        samples = generate(generator, 2500, seed)
        finite = samples[np.all(np.isfinite(samples), axis=1)]
        report.update(mode_metrics(data, finite))
    report["curves"] = {"loss_g": history["loss_g"], "loss_d": history["loss_d"], "samples": samples}
    return report


def _classified_data(data: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) as the GAN sees them: digits scaled to [-1, 1],
    MNIST-1D standardised; the training part is ``seed``'s split (the test set is fixed)."""
    from studies.experiments.datasets import load

    d = load(data, seed)
    if data == "digits":
        return d.x_train * 2 - 1, d.y_train, d.x_test * 2 - 1, d.y_test
    return d.x_train, d.y_train, d.x_test, d.y_test


def feature_metrics(data: str, samples: np.ndarray, seed: int = 0) -> dict:
    """Frechet distance and classifier two-sample test of generated samples ((n, features),
    scaled as :func:`_classified_data` gives the data) against the held-out test set, in the
    hidden features of a classifier of seed 0's training split, trained once and cached
    (digits: 96 % test accuracy)."""
    from ann_bridge.gan.metrics import cached_model, frechet_distance, two_sample_accuracy

    x_train, y_train, x_test, y_test = _classified_data(data, 0)
    classifier = cached_model(data, x_train, y_train, x_test, y_test)
    fake, real = classifier.features(samples), classifier.features(x_test)
    return {
        "frechet_distance": frechet_distance(fake, real),
        "two_sample_accuracy": two_sample_accuracy(fake, real, seed),
    }


def sweep(data: str, model: str, optimizers: list[str], seeds: list[int], steps: int | None = None,
          discriminator: str = "ann", progress: bool | None = None) -> list[dict]:  # fmt: skip
    """:func:`run` for every optimiser and seed (same networks and budget); curves dropped."""
    rows = []
    for optimizer in optimizers:
        for seed in seeds:
            report = run(data, model, optimizer, seed=seed, steps=steps, discriminator=discriminator,
                         progress=progress)  # fmt: skip
            report.pop("curves")
            rows.append(report)
    return rows
