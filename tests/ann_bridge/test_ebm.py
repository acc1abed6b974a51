"""Energy-based models: SGLD against its closed-form stationary law, NCE against the closed-form
optimum, the losses, inference, the latent ellipse against scipy's distances, SGLD EBMs
against a Gaussian baseline, JEM's accuracy and the OOD scores; bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ann_bridge.ebm import (
    DenoisingAutoencoder,
    ReplayBuffer,
    ellipse_distance,
    hinge,
    infer,
    maximum_likelihood,
    nce,
    sgld,
    square_square,
)
from ann_bridge.ebm.jem import EnergyHead, JEMConfig, auroc, energy, scores, train_jem
from ann_bridge.ebm.sampling import Sampler
from ann_bridge.ebm.training import EBMConfig, mmd
from snn.errors import ValidationError


def test_sgld_samples_the_closed_form_stationary_law():
    # F(x) = |x|^2 / 2 with noise^2 = step: x' = (1 - step/2) x + sqrt(step) xi, whose
    # stationary variance is step / (1 - (1 - step/2)^2) = 1 / (1 - step/4)
    torch.manual_seed(0)
    step = 0.1
    x = sgld(
        lambda x: 0.5 * x.pow(2).sum(1), torch.zeros(20000, 2), steps=300, step_size=step, noise=step**0.5
    )
    assert abs(float(x.mean())) < 0.02
    assert float(x.var()) == pytest.approx(1 / (1 - step / 4), rel=0.03)


def test_nce_learns_the_density_and_its_normaliser():
    # data N(1, 0.5^2), energy a x^2 + b x, noise N(0, 2^2): the NCE optimum is the data's
    # density, a = 1 / (2 sigma^2) = 2, b = -mu / sigma^2 = -4, and the learned c is
    # log Z = log sqrt(pi / a) + b^2 / (4 a) = 0.5 log(pi / 2) + 2
    gen = torch.Generator().manual_seed(0)
    data = 1.0 + 0.5 * torch.randn(20000, generator=gen)
    noise = 2.0 * torch.randn(20000, generator=gen)

    def log_q(x):
        return -0.5 * (x / 2.0) ** 2 - math.log(2.0 * math.sqrt(2 * math.pi))

    params = torch.zeros(3, requires_grad=True)  # a, b, c
    optimiser = torch.optim.Adam([params], lr=0.05)
    for _ in range(1500):
        optimiser.zero_grad()
        a, b, c = params
        loss = nce(a * data**2 + b * data, a * noise**2 + b * noise, log_q(data), log_q(noise), c)
        loss.backward()
        optimiser.step()
    a, b, c = params.tolist()
    assert a == pytest.approx(2.0, rel=0.1)
    assert b == pytest.approx(-4.0, rel=0.1)
    assert c == pytest.approx(0.5 * math.log(math.pi / 2) + 2.0, abs=0.15)


def test_samplers_run_inside_no_grad_and_configs_keep_coerced_values():
    with torch.no_grad():  # evaluation code calls them this way
        x = sgld(lambda x: 0.5 * x.pow(2).sum(1), torch.ones(4, 2), steps=3, step_size=0.1, noise=0.0)
        y = infer(lambda x, y: (y - x).pow(2).sum(-1), torch.ones(4, 1), torch.zeros(4, 1), steps=3, lr=0.1)
    assert torch.allclose(x, torch.full((4, 2), 0.95**3)) and torch.allclose(
        y, torch.full((4, 1), 1 - 0.8**3)
    )
    config = EBMConfig(steps=2.0, batch=4.0, sampler=Sampler(chain=3.0))
    assert (
        isinstance(config.steps, int)
        and isinstance(config.batch, int)
        and isinstance(config.sampler.chain, int)
    )


def test_contrastive_losses_closed_forms():
    pos, neg = torch.tensor([0.0, 1.0]), torch.tensor([0.5, 3.0])
    assert float(hinge(pos, neg, margin=1.0)) == pytest.approx((0.5 + 0.0) / 2)
    assert float(square_square(pos, neg, margin=1.0)) == pytest.approx(0.5 + 0.25 / 2)
    assert float(maximum_likelihood(pos, neg, alpha=0.0)) == pytest.approx(0.5 - 1.75)
    assert float(maximum_likelihood(pos, neg, alpha=1.0)) == pytest.approx(0.5 - 1.75 + 0.5 + 4.625)


def test_inference_by_gradient_descent_on_y():
    x = torch.linspace(-1, 1, 7)[:, None]
    y = infer(lambda x, y: (y - 2 * x).pow(2).sum(-1), x, torch.zeros_like(x), steps=200, lr=0.1)
    assert torch.allclose(y, 2 * x, atol=1e-6)


def test_replay_buffer_restarts_and_keeps_chains():
    buffer = ReplayBuffer(
        (2,), capacity=100, low=-1, high=1, reinit=0.0, generator=torch.Generator().manual_seed(0)
    )
    starts = buffer.sample(10)
    assert torch.all(starts.abs() <= 1)
    picked = set(buffer._last.tolist())  # the rows the chains came from get their ends back
    buffer.push(torch.full((10, 2), 5.0))
    stored = set(torch.nonzero((buffer.points == 5.0).all(1)).ravel().tolist())
    assert stored == picked
    fresh = ReplayBuffer((2,), capacity=100, reinit=1.0, generator=torch.Generator().manual_seed(0))
    fresh.points[:] = 5.0
    assert torch.all(fresh.sample(50).abs() <= 1)  # reinit = 1: every start fresh from the box
    with pytest.raises(ValidationError):
        buffer.push(torch.zeros(3, 2))  # no sample() to answer


def test_ellipse_distance_closed_forms():
    # (0, 0.5) -> (0, 1): 0.5 (the curvature radius a^2/b = 4 there exceeds 0.5); (3, 0) -> (2, 0): 1
    np.testing.assert_allclose(ellipse_distance(np.array([[0.0, 0.5], [3.0, 0.0], [0.0, -2.5]])),
                               [0.5, 1.0, 1.5], atol=1e-9)  # fmt: skip


def test_latent_ebm_free_energy_is_the_distance_to_the_ellipse():
    from studies.experiments.energy_runs import ellipse

    report = ellipse(seed=0, steps=2000)
    assert report["within_5_percent"] == 1.0, report["max_relative_error"]


def test_sgld_ebm_beats_a_gaussian_on_the_ring():
    from studies.experiments.energy_runs import toy

    report = toy("ring", seed=0, steps=1000)
    assert report["mmd_fresh_chains"] < 0.6 * report["mmd_gaussian"]
    assert report["mmd_replay_buffer"] < 0.6 * report["mmd_gaussian"]
    assert abs(report["mmd_data"]) < 0.02  # the statistic is ~0 between two samples of the data


def test_mmd_tells_apart_and_not():
    gen = np.random.default_rng(0)
    a, b = gen.standard_normal((500, 2)), gen.standard_normal((500, 2))
    assert abs(mmd(a, b)) < 0.02 and mmd(a, b + 1.0) > 0.2


def test_denoising_autoencoder_energy_is_low_on_data():
    gen = torch.Generator().manual_seed(0)
    angles = 2 * math.pi * torch.rand(2000, generator=gen)
    data = torch.stack([torch.cos(angles), torch.sin(angles)], 1)
    torch.manual_seed(0)
    model = DenoisingAutoencoder(2, hidden=64, noise=0.1)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(1500):
        optimiser.zero_grad()
        model.loss(data).backward()
        optimiser.step()
    with torch.no_grad():
        on, off = model.energy(data).mean(), model.energy(0.3 * data).mean()
    assert on < 0.2 * off


def test_jem_on_digits_reaches_95_percent():
    from studies.experiments.energy_runs import jem

    report = jem(seed=0, epochs=60)
    assert report["jem_accuracy"] >= 0.95 and report["mlp_accuracy"] >= 0.95


def test_ood_scores_of_ann_and_liquid_features():
    from studies.experiments.energy_runs import ood

    rows = {r["features"]: r for r in ood(seed=0, features=("mlp", "mlp-hidden", "lsm"), epochs=20)}
    for row in rows.values():
        assert 0.75 < row["auroc_energy"] <= 1.0 and 0.5 < row["auroc_softmax"] <= 1.0
        assert row["accuracy"] > 0.9


def test_energy_scores_auroc_and_head():
    logits = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    assert energy(logits).tolist() == pytest.approx([-math.log(math.exp(2) + 1), -math.log(2)])
    assert auroc([2.0, 3.0], [0.0, 1.0]) == 1.0 and auroc([0.0], [1.0]) == 0.0
    out = scores(np.array([[5.0, 0.0]]))
    assert out["softmax"][0] == pytest.approx(1 / (1 + math.exp(-5)))
    gen = np.random.default_rng(0)
    features = np.r_[gen.normal(0, 1, (100, 3)), gen.normal(3, 1, (100, 3))]
    labels = np.r_[np.zeros(100, int), np.ones(100, int)]
    head = EnergyHead(3, 2).fit(features, labels)
    assert np.mean(head.logits(features).argmax(1) == labels) > 0.95


@pytest.mark.parametrize(
    "build, field",
    [
        (lambda: sgld(lambda x: x.sum(1), torch.zeros(2, 2), step_size=0.0), "SGLD.step_size"),
        (lambda: sgld(lambda x: x.sum(1), torch.zeros(2, 2), steps=0), "SGLD.steps"),
        (lambda: Sampler(step_size=-1.0), "Sampler.step_size"),
        (lambda: Sampler(chain=0), "Sampler.chain"),
        (lambda: Sampler(low=1.0, high=0.0), "Sampler.high"),
        (lambda: EBMConfig(batch=1), "EBMConfig.batch"),
        (lambda: JEMConfig(sampler=0.1), "JEMConfig.sampler"),
        (lambda: ReplayBuffer((2,), low=1.0, high=0.0), "ReplayBuffer.high"),
        (lambda: hinge(torch.zeros(1), torch.zeros(1), margin=0.0), "margin"),
        (lambda: auroc([], [1.0]), "auroc"),
        (lambda: sgld(lambda x: x.sum(1), torch.zeros(2, 2), low=1.0, high=0.0), "SGLD.high"),
        (lambda: EnergyHead(3, 2).fit(np.zeros((4, 2)), [0, 1, 0, 1]), "features"),
        (lambda: EnergyHead(3, 2).fit(np.zeros((4, 3)), [0, 1, 0, 2]), "labels"),
        (lambda: train_jem(torch.nn.Linear(3, 2), np.zeros((4, 3)), [0, 1, -1, 0]), "y_train"),
        (lambda: train_jem(torch.nn.Linear(3, 2), np.zeros(4), [0, 1, 1, 0]), "x_train"),
    ],
)
def test_bad_input_names_the_field(build, field):
    with pytest.raises(ValidationError) as error:
        build()
    assert error.value.field == field


def test_joint_energy_learns_both_branches_of_a_multivalued_map():
    # y = +-sqrt(x): a regression averages the branches to 0, an energy F(x, y) trained with
    # square-square (data down to 0, points >= 0.1 off the branches up to the margin) plus a
    # hinge on pairs of the same x (a data point 0.5 below its contrastive point) keeps both
    from ann_bridge.ebm import JointEnergy

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = JointEnergy(1, 1, hidden=64)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(3000):
        x = 0.1 + 0.9 * torch.rand(256, 1, generator=gen)
        y = torch.where(torch.rand(256, 1, generator=gen) < 0.5, -1.0, 1.0) * x.sqrt()
        # contrastive points: uniform ones, and ones 0.1-0.4 off the data (they shape the valley)
        offsets = (0.1 + 0.3 * torch.rand(256, 1, generator=gen)) * torch.where(
            torch.rand(256, 1, generator=gen) < 0.5, -1.0, 1.0
        )
        y_neg = torch.where(
            torch.rand(256, 1, generator=gen) < 0.5, 3 * torch.rand(256, 1, generator=gen) - 1.5, y + offsets
        )
        far = ((y_neg.abs() - x.sqrt()).abs() > 0.1)[:, 0]
        optimiser.zero_grad()
        e_pos, e_neg = model(x, y), model(x, y_neg)
        loss = square_square(e_pos, e_neg[far], margin=1.0) + hinge(e_pos[far], e_neg[far], margin=0.5)
        loss.backward()
        optimiser.step()
    x = torch.linspace(0.2, 0.9, 8)[:, None]
    grid = torch.linspace(-1.5, 1.5, 301)
    with torch.no_grad():
        energies = model(x.repeat_interleave(len(grid), 0), grid.repeat(len(x))[:, None]).reshape(len(x), -1)
    for half, sign in ((grid > 0, 1.0), (grid < 0, -1.0)):
        best = grid[half][energies[:, half].argmin(1)]  # the lowest energy on each side
        refined = infer(model, x, best[:, None], steps=100, lr=1e-3)  # gradient descent on y stays there
        assert torch.all((refined[:, 0] - sign * x[:, 0].sqrt()).abs() < 0.1)
