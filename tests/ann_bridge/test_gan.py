"""GAN parts against closed forms: toy metrics, Frechet distance, two-sample test, losses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ann_bridge.gan import Loss, train
from ann_bridge.gan.losses import gradient_penalty, pulling_away
from ann_bridge.gan.metrics import frechet_distance, two_sample_accuracy
from ann_bridge.gan.networks import MLPDiscriminator, MLPGenerator
from ann_bridge.gan.toys import centres, mode_metrics, sample
from snn.errors import ValidationError


@pytest.mark.parametrize("toy", ["ring", "grid"])
def test_real_samples_cover_every_mode_at_the_2d_gaussian_rate(toy):
    """Of a 2-D Gaussian's samples, a share 1 - exp(-9/2) = 0.9889 lies within 3 std."""
    metrics = mode_metrics(toy, sample(toy, 20_000, np.random.default_rng(0)))
    assert metrics["modes_covered"] == metrics["modes"] == len(centres(toy)[0])
    assert metrics["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.004)


def test_a_collapsed_generator_covers_one_mode():
    means, std = centres("ring")
    collapsed = means[3] + std * np.random.default_rng(1).standard_normal((2500, 2))
    metrics = mode_metrics("ring", collapsed)
    assert metrics["modes_covered"] == 1 and metrics["per_mode"][3] > 2400


def test_frechet_distance_of_gaussians_matches_the_closed_form():
    """N(m1, diag(s1^2)) vs N(m2, diag(s2^2)): |m1 - m2|^2 + sum (s1 - s2)^2 = 2 + 1 + 1 = 4."""
    rng = np.random.default_rng(0)
    a = rng.normal([0.0, 0.0], [1.0, 2.0], size=(200_000, 2))
    b = rng.normal([1.0, 1.0], [2.0, 3.0], size=(200_000, 2))
    assert frechet_distance(a, b) == pytest.approx(4.0, rel=0.02)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_two_sample_test_is_at_chance_on_one_distribution_and_high_on_two():
    rng = np.random.default_rng(0)
    same = two_sample_accuracy(rng.normal(size=(2000, 5)), rng.normal(size=(2000, 5)))
    apart = two_sample_accuracy(rng.normal(size=(2000, 5)), rng.normal(0.5, 1.0, size=(2000, 5)))
    # two unit Gaussians d apart: the best classifier's accuracy is Phi(d / 2), d = 0.5 sqrt(5)
    bayes = 0.5 * (1 + math.erf(0.5 * math.sqrt(5) / 2 / math.sqrt(2)))
    assert abs(same - 0.5) < 0.05 and apart == pytest.approx(bayes, abs=0.03)


def test_losses_are_the_textbook_ones():
    torch.manual_seed(0)
    generator, discriminator = MLPGenerator(4, 2, 16, 2), MLPDiscriminator(2, 16, 2)
    real, z = torch.randn(64, 2), torch.randn(64, 4)
    score_real, score_fake = discriminator(real), discriminator(generator(z))
    f = Loss("gan").game(generator, discriminator, real, z, zero_sum=True)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    expected_d = bce(score_real, torch.ones(64)) + bce(score_fake, torch.zeros(64))
    assert float(-f.detach()) == pytest.approx(
        float(expected_d.detach()), rel=1e-6
    )  # D's loss is the cross-entropy
    loss_g, loss_d = Loss("gan").game(generator, discriminator, real, z, zero_sum=False)
    non_saturating = bce(score_fake, torch.ones(64))
    assert float(loss_g.detach()) == pytest.approx(float(non_saturating.detach()), rel=1e-6)
    w = Loss("wgan").game(generator, discriminator, real, z, zero_sum=True)
    assert float(w) == pytest.approx(float(score_real.mean() - score_fake.mean()), rel=1e-6)


def test_gradient_penalty_of_a_linear_critic_and_the_pulling_away_term():
    critic = torch.nn.Linear(3, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0, 0.0]]))  # |grad| = 5 everywhere: penalty (5 - 1)^2
    penalty = gradient_penalty(lambda x: critic(x).squeeze(1), torch.randn(8, 3), torch.randn(8, 3))
    assert float(penalty) == pytest.approx(16.0)
    assert float(pulling_away(torch.eye(4))) == pytest.approx(0.0, abs=1e-7)  # orthogonal codes
    assert float(pulling_away(torch.ones(4, 3))) == pytest.approx(1.0)  # identical codes


def test_training_refuses_networks_that_do_not_fit_the_data():
    def real(n):
        return torch.randn(n, 2)

    with pytest.raises(ValidationError) as error:
        train(MLPGenerator(4, 3), MLPDiscriminator(2), real, loss=Loss("gan"), optimizer="adam", steps=1)
    assert error.value.field == "generator"
    with pytest.raises(ValidationError) as error:
        train(MLPGenerator(4, 2), MLPDiscriminator(5), real, loss=Loss("gan"), optimizer="adam", steps=1)
    assert error.value.field == "discriminator"
    with pytest.raises(ValidationError, match="zero-sum"):
        from ann_bridge.gan.networks import AutoencoderDiscriminator

        train(
            MLPGenerator(4, 2),
            AutoencoderDiscriminator(2),
            real,
            loss=Loss("ebgan"),
            optimizer="cgd",
            steps=1,
        )
    with pytest.raises(ValidationError, match="--model"):
        Loss("lsgan")


@pytest.mark.parametrize("optimizer", ["gda", "adam", "ogda", "extragradient", "cgd", "acgd"])
def test_each_optimiser_trains_a_small_gan_towards_the_ring(optimizer):
    """A short run (150 steps) moves the generated samples towards the ring's radius 2 (they
    start near the origin): the mean radius error shrinks with every optimiser."""
    from ann_bridge.gan import generate
    from studies.experiments.gan_runs import DEFAULT_LR

    torch.manual_seed(0)
    generator, discriminator = MLPGenerator(8, 2, 32, 2), MLPDiscriminator(2, 32, 2)
    rng = np.random.default_rng(0)
    before = np.abs(np.linalg.norm(generate(generator, 500), axis=1) - 2).mean()
    history = train(generator, discriminator, lambda n: torch.from_numpy(sample("ring", n, rng)),
                    loss=Loss("gan"), optimizer=optimizer, steps=150, batch=128,
                    lr_g=DEFAULT_LR[optimizer] * 3, progress=False)  # fmt: skip
    after = np.abs(np.linalg.norm(generate(generator, 500), axis=1) - 2).mean()
    assert after < 0.8 * before, (before, after)
    assert len(history["loss_g"]) == 150 and (max(history["cg_iterations"]) > 0) == (
        optimizer in ("cgd", "acgd")
    )


def test_the_spiking_discriminator_spikes_passes_gradients_and_trains_a_generator():
    from ann_bridge.games.hvp import gradient, mixed_product
    from ann_bridge.gan import generate
    from ann_bridge.gan.networks import SpikingDiscriminator

    torch.manual_seed(0)
    generator, discriminator = MLPGenerator(8, 2, 64, 3), SpikingDiscriminator(2, hidden=64)
    x = generator(torch.randn(64, 8))
    spikes, _ = discriminator.first(discriminator.encode(x), return_state=True)
    assert set(torch.unique(spikes.detach()).tolist()) <= {0.0, 1.0} and spikes.sum() > 0
    f = discriminator(x).mean()
    grad_g = gradient(f, list(generator.parameters()), create_graph=True)
    assert grad_g.abs().sum() > 0  # through the rate code, straight through
    d_params = list(discriminator.parameters())
    assert mixed_product(grad_g, d_params, torch.ones_like(grad_g)).abs().sum() > 0  # what CGD needs
    rng = np.random.default_rng(0)
    before = np.abs(np.linalg.norm(generate(generator, 500), axis=1) - 2).mean()
    train(generator, discriminator, lambda n: torch.from_numpy(sample("ring", n, rng)), loss=Loss("gan"),
          optimizer="adam", steps=200, batch=256, lr_g=1e-3, progress=False)  # fmt: skip
    after = np.abs(np.linalg.norm(generate(generator, 500), axis=1) - 2).mean()
    assert after < 0.8 * before, (before, after)
