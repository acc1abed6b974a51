"""Oja and BCM on given rates (the simulator's update, linear units): their textbook results."""

from __future__ import annotations

import numpy as np
import pytest

import snn
from snn.plasticity import BCM, Oja, PairSTDP
from snn.plasticity.rates import learn_on_rates

DT = 1e-3


def test_oja_finds_the_first_principal_component():
    # Oja 1982: w -> the unit eigenvector of E[x x^T] with the largest eigenvalue
    rng = np.random.default_rng(1)
    mixing = rng.normal(size=(6, 3))
    rates = 10 * np.log1p(np.exp(rng.normal(size=(40000, 3)) @ mixing.T))  # Hz, >= 0
    weights, _, _ = learn_on_rates(Oja(learning_rate=1e-3), rng.uniform(0, 0.1, (1, 6)), rates, DT)
    _, vectors = np.linalg.eigh(rates.T @ rates / len(rates))
    w = weights[0]
    assert abs(w @ vectors[:, -1]) / np.linalg.norm(w) >= 0.99
    assert np.linalg.norm(w) == pytest.approx(1.0, rel=0.01)  # beta = 1: unit norm


def test_bcm_becomes_selective_at_its_fixed_point():
    # two patterns, each half the time: with theta = <y^2> the stable state answers one
    # pattern with y = 1 / P = 2 Hz (y (y - theta) = 0 and theta = P y^2) and the other with 0
    rng = np.random.default_rng(1)
    a = np.array([20, 20, 20, 0, 0, 0.0])
    shown = np.repeat(rng.integers(0, 2, 3000), 20)  # a pattern every 20 ms, 60 s
    rates = np.where(shown[:, None] == 0, a, a[::-1])
    start = 0.05 + rng.uniform(0, 0.005, (1, 6))
    weights, post, theta = learn_on_rates(BCM(learning_rate=3e-4, tau_theta=0.2), start, rates, DT)
    responses = sorted([weights[0] @ a, weights[0] @ a[::-1]])
    assert (responses[1] - responses[0]) / sum(responses) >= 0.9
    assert responses[1] == pytest.approx(2.0, rel=0.05)
    # the threshold is the exponentially weighted mean of y^2 over tau_theta (closed form)
    keep = np.exp(-DT / 0.2)
    weighted = (1 - keep) * np.sum(keep ** np.arange(len(post))[::-1] * post[:, 0] ** 2)
    assert theta[0] == pytest.approx(weighted, rel=1e-9)


def test_rate_rules_refuse_bad_input():
    with pytest.raises(snn.ValidationError, match="Oja or BCM"):
        learn_on_rates(PairSTDP(), np.zeros((1, 2)), np.zeros((5, 2)), DT)
    with pytest.raises(snn.ValidationError) as error:
        learn_on_rates(Oja(), np.zeros((1, 2)), np.zeros((5, 3)), DT)
    assert error.value.field == "pre_rates"


def test_oja_in_the_spiking_simulator_turns_the_weights_to_the_principal_component():
    # the simulator's Oja on filtered spike trains into a LIF neuron: inputs 0-1 share one
    # strong rate modulation, 2-3 fire weakly and independently; the first principal
    # component of the rates' second moment is ~(0.69, 0.69, 0.16, 0.16), at cos 0.85 from
    # the equal starting weights; after 20 s the weights point along it
    windows = 1000
    rng = np.random.default_rng(3)
    values = np.empty((windows, 4))
    values[:, :2] = rng.uniform(0, 1, windows)[:, None]
    values[:, 2:] = 0.1 + 0.1 * rng.uniform(0, 1, (windows, 2))
    net = snn.Network()
    net.add(snn.RateEncoder(name="inputs", values=values, max_rate=100.0, window=20e-3))
    net.add(snn.Population(name="out", size=1, model=snn.LIF(v_rest=0, v_reset=0, v_th=1.0, tau_mem=20e-3)))
    net.connect(
        "inputs",
        "out",
        snn.Sparse(pre=np.arange(4), post=np.zeros(4, int), weights=0.3),
        plasticity=Oja(learning_rate=1e-4, tau_rate=50e-3),
        name="learn",
    )
    w = snn.Simulator(net, dt=1e-4, progress=False).run(windows * 20e-3).weights["learn"]
    rates = values * 100.0
    _, vectors = np.linalg.eigh(rates.T @ rates / windows)
    assert abs(w @ vectors[:, -1]) / np.linalg.norm(w) >= 0.99, w


def test_rate_rules_keep_their_bounds_hard_or_soft():
    # pure Hebbian growth (beta = 0) for 2 s: hard bounds clip at w_max, soft ones approach it
    rates = np.full((2000, 2), 20.0)
    for bounds in ("hard", "soft"):
        rule = Oja(learning_rate=0.01, beta=0.0, w_min=0.0, w_max=0.5, bounds=bounds)
        weights, _, _ = learn_on_rates(rule, np.full((1, 2), 0.1), rates, DT)
        if bounds == "hard":
            assert np.all(weights == 0.5)
        else:
            assert np.all((weights > 0.4) & (weights < 0.5))
