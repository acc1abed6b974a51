"""Two-player optimisers against closed forms, a direct linear solve, and the authors' package."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ann_bridge.games import ACGD, CGD, OPTIMIZERS, bilinear, make, random_quadratic
from snn.errors import ValidationError


@pytest.mark.parametrize(("eta", "alpha"), [(0.01, 1.0), (0.1, 1.0), (0.3, 3.0), (1.0, 0.5), (2.0, 2.0)])
def test_bilinear_game_gda_expands_and_cgd_contracts_by_the_closed_form(eta, alpha):
    """f = alpha x.y: per step |z| grows by sqrt(1 + eta^2 alpha^2) under simultaneous GDA and
    shrinks by the same factor under CGD (Schaefer & Anandkumar 2019, section 2)."""
    factor = math.sqrt(1 + eta**2 * alpha**2)
    for name, expected in (("gda", factor), ("cgd", 1 / factor)):
        game = bilinear(alpha, x0=(1.0, -0.4, 0.2), y0=(0.3, 0.8, -1.1))
        optimizer = make(name, [game.x], [game.y], lr_x=eta)
        for _ in range(5):
            before = game.distance()
            optimizer.step(game.f)
            assert game.distance() / before == pytest.approx(expected, rel=1e-12)


def _spectral_radius_ogda(eta_alpha: float) -> float:
    """OGDA on the bilinear game, per coordinate pair: z_{t+1} = z_t - eta J (2 z_t - z_{t-1}),
    J = [[0, alpha], [-alpha, 0]]; the spectral radius of its companion matrix."""
    j = np.array([[0.0, eta_alpha], [-eta_alpha, 0.0]])
    companion = np.block([[np.eye(2) - 2 * j, j], [np.eye(2), np.zeros((2, 2))]])
    return float(np.max(np.abs(np.linalg.eigvals(companion))))


def _contracts(name: str, eta: float, steps: int = 400) -> bool:
    game = bilinear(1.0, x0=(1.0,), y0=(1.0,))
    optimizer = make(name, [game.x], [game.y], lr_x=eta)
    start = game.distance()
    for _ in range(steps):
        optimizer.step(game.f)
    return game.distance() < 0.5 * start


def test_acgd_converges_and_ogda_extragradient_converge_only_for_small_steps():
    # ACGD: every step size tried (its steps are about eta per coordinate, so small eta takes longer)
    for eta in (0.01, 0.1, 1.0, 10.0):
        game = bilinear(1.0, x0=(1.0,), y0=(1.0,))
        optimizer = ACGD([game.x], [game.y], lr_x=eta)
        for _ in range(max(300, int(30 / eta))):
            optimizer.step(game.f)
        assert game.distance() < 1e-3, eta
    # extragradient on the bilinear game contracts by sqrt(1 - (eta alpha)^2 + (eta alpha)^4) per
    # step: converges exactly while eta alpha < 1; OGDA where its companion matrix's radius < 1
    assert _contracts("extragradient", 0.9) and not _contracts("extragradient", 1.1)
    grid = np.linspace(0.05, 1.5, 30)
    predicted = grid[np.argmax([_spectral_radius_ogda(e) >= 1.0 for e in grid])]  # first step size that fails
    assert 0.3 < predicted < 1.2
    assert _contracts("ogda", predicted * 0.8) and not _contracts("ogda", predicted * 1.2)
    assert not _contracts("gda", 0.01) and not _contracts("alt-gda", 0.5, steps=2000)


@pytest.mark.parametrize("solve_for", ["x", "y"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cgd_step_is_the_direct_solve_of_the_local_game(seed, solve_for):
    """The Nash equilibrium of the local bilinear game: dx/eta_x + B dy = -grad_x f and
    dy/eta_y - B^T dx = grad_y f, solved directly (B = D_xy f of the quadratic game)."""
    game, parts = random_quadratic(5, 7, seed=seed)
    eta_x, eta_y = 0.3, 0.7
    x, y = parts["x0"], parts["y0"]
    grad_x = parts["a"] @ x + parts["b"] @ y + parts["gx"]
    grad_y = parts["b"].T @ x - parts["c"] @ y + parts["gy"]
    system = torch.cat([
        torch.cat([torch.eye(5, dtype=torch.float64) / eta_x, parts["b"]], 1),
        torch.cat([-parts["b"].T, torch.eye(7, dtype=torch.float64) / eta_y], 1),
    ])  # fmt: skip
    move = torch.linalg.solve(system, torch.cat([-grad_x, grad_y]))
    optimizer = CGD([game.x], [game.y], lr_x=eta_x, lr_y=eta_y, tol=1e-14, solve_for=solve_for)
    info = optimizer.step(game.f)
    np.testing.assert_allclose(game.x.detach() - x, move[:5], rtol=0, atol=1e-8)
    np.testing.assert_allclose(game.y.detach() - y, move[5:], rtol=0, atol=1e-8)
    assert 1 <= info.cg_iterations <= 7 and info.cg_residual < 1e-10


@pytest.mark.parametrize("kind", ["cgd", "acgd"])
def test_cgd_and_acgd_match_the_authors_package(kind):
    """The same game, step sizes and start through cgds (Schaefer/Zheng's BCGD and ACGD; their
    max player is our y, their min player our x): 20 steps agree to 1e-6.

    Both solves are made exact so the comparison is of the algorithm, not of when each solver
    stops: cgds's conjugate gradient takes at most n iterations from a cold start (n - 1 once
    warm-started, ~1e-7 short of the direct solve), so its warm start is cleared before each
    step (ours is too); and it starts from ``torch.zeros`` of the default dtype, so float64
    is made the default here (else its solves are float32)."""
    cgds = pytest.importorskip("CGDs")
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        _compare_with_cgds(cgds, kind)
    finally:
        torch.set_default_dtype(default)


def _compare_with_cgds(cgds, kind: str) -> None:
    theirs, _ = random_quadratic(6, 4, seed=3)
    ours, _ = random_quadratic(6, 4, seed=3)
    if kind == "cgd":
        reference = cgds.BCGD(max_params=[theirs.y], min_params=[theirs.x], lr_max=0.2, lr_min=0.1,
                              tol=1e-30, atol=1e-30, collect_info=False)  # fmt: skip
        optimizer = CGD([ours.x], [ours.y], lr_x=0.1, lr_y=0.2, tol=1e-15, solve_for="y")
    else:
        reference = cgds.ACGD(max_params=[theirs.y], min_params=[theirs.x], lr_max=0.2, lr_min=0.1,
                              eps=1e-8, beta=0.99, tol=1e-30, atol=1e-30)  # fmt: skip
        optimizer = ACGD(
            [ours.x], [ours.y], lr_x=0.1, lr_y=0.2, eps=1e-8, beta=0.99, tol=1e-15, solve_for="y"
        )
    start = ours.distance()
    for _ in range(20):
        reference.zero_grad()
        reference.state["old_max"] = reference.state["old_min"] = None  # cold: n iterations, exact
        reference.step(theirs.f())
        optimizer._warm = None
        optimizer.step(ours.f)
        np.testing.assert_allclose(ours.x.detach(), theirs.x.detach(), rtol=0, atol=1e-6)
        np.testing.assert_allclose(ours.y.detach(), theirs.y.detach(), rtol=0, atol=1e-6)
    assert abs(ours.distance() - start) > 0.1  # a real trajectory, not the start


def test_one_api_for_every_optimiser_and_general_sum_losses():
    for name in OPTIMIZERS:
        game = bilinear(1.0)
        optimizer = make(name, [game.x], [game.y], lr_x=0.05)
        info = optimizer.step(game.f)
        assert info.loss_x == pytest.approx(1.0)
        # alternating GDA evaluates y's loss after x's move
        assert info.loss_y == pytest.approx(-1.0) or (name == "alt-gda" and info.loss_y > -1.0)
    game = bilinear(1.0)
    gda = make("gda", [game.x], [game.y], lr_x=0.1)
    gda.step(lambda: (game.f(), -game.f()))  # the same game given as two losses
    assert float(game.x.detach()) == pytest.approx(0.9) and float(game.y.detach()) == pytest.approx(1.1)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda g: make("sgd", [g.x], [g.y]), "optimizer"),
        (lambda g: make("cgd", [g.x], [g.y], lr_x=0.0), "CGD.lr_x"),
        (lambda g: make("adam", [g.x], [g.y], lr_x=-1.0), "AdamGDA.lr_x"),
        (lambda g: make("acgd", [g.x], [g.y], beta=1.0), "ACGD.beta"),
        (lambda g: make("cgd", [g.x], [g.y], solve_for="both"), "CGD.solve_for"),
        (lambda g: make("cgd", [g.x], [g.y]).step(lambda: (g.f(), -g.f())), "CGD.closure"),
        (lambda g: make("gda", [], [g.y]), "SimultaneousGDA.params"),
    ],
)
def test_bad_input_names_the_field(build, field):
    with pytest.raises(ValidationError) as error:
        build(bilinear(1.0))
    assert error.value.field == field
