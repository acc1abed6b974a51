"""e-prop against autograd BPTT on the same LSNN, weights and inputs (float64).

With W_rec = 0 and symmetric feedback e-prop's online estimate is the exact gradient
(Bellec et al. 2020, Methods), so the two must agree to rounding; with recurrence the
paper reports a high but imperfect correlation, checked here as a cosine similarity.
"""

import numpy as np
import pytest
import torch

from ann_bridge.lsnn import LSNNModule, bptt_gradients
from snn.learning.eprop import EProp, gradients
from snn.lsnn import LSNN, initial_weights, run


def _problem(kind="softmax", seed=0):
    lsnn = LSNN(n_in=10, n_lif=6, n_alif=6, n_out=3, tau_adapt=0.1, tau_ref=5e-3)
    rng = np.random.default_rng(seed)
    weights = initial_weights(lsnn, rng, input_gain=3.0).replace(b_out=rng.standard_normal(3) * 0.1)
    batch, steps = 4, 200
    x = (rng.random((batch, steps, 10)) < 0.05).astype(float)
    if kind == "softmax":
        labels = rng.integers(0, 3, batch)
        target = np.zeros((batch, steps, 3))
        target[np.arange(batch), :, labels] = 1
    else:
        target = rng.standard_normal((batch, steps, 3))
    mask = np.zeros((batch, steps))
    mask[:, -50:] = 1 / 50
    return lsnn, weights, x, target, mask


@pytest.mark.parametrize("kind", ["softmax", "mse"])
@pytest.mark.parametrize("reg_rate", [0.0, 1e-3])
def test_eprop_equals_bptt_without_recurrence(kind, reg_rate):
    lsnn, weights, x, target, mask = _problem(kind)
    weights = weights.replace(w_rec=np.zeros_like(weights.w_rec))
    estimate = gradients(EProp(reg_rate=reg_rate, target_rate=5.0), lsnn, weights, x, target, mask, kind)
    assert estimate.rates_hz.mean() > 5  # neurons fire, so the traces are exercised
    loss, reference = bptt_gradients(lsnn, weights, x, target, mask, kind, reg_rate=reg_rate, target_rate=5.0)
    assert estimate.loss == pytest.approx(loss, rel=1e-12)
    for name, expected in reference.items():
        got = estimate.arrays()[name]
        assert np.abs(expected).max() > 0, name
        assert np.abs(got - expected).max() <= 1e-6 * np.abs(expected).max(), name


def test_eprop_approximates_bptt_with_recurrence():
    lsnn, weights, x, target, mask = _problem(seed=1)
    estimate = gradients(EProp(), lsnn, weights, x, target, mask)
    _, reference = bptt_gradients(lsnn, weights, x, target, mask)
    for name in ("w_in", "w_rec"):
        a, b = estimate.arrays()[name], reference[name]
        cosine = np.sum(a * b) / np.linalg.norm(a) / np.linalg.norm(b)
        assert 0.8 < cosine < 1 - 1e-9, (name, cosine)  # close, but not the exact gradient
    np.testing.assert_allclose(estimate.w_out, reference["w_out"], rtol=1e-10, atol=1e-14)


def test_random_feedback_changes_only_the_learning_signal():
    lsnn, weights, x, target, mask = _problem()
    rule = EProp(feedback="random")
    feedback = rule.feedback_matrix(weights, np.random.default_rng(5))
    symmetric = gradients(EProp(), lsnn, weights, x, target, mask)
    randomised = gradients(rule, lsnn, weights, x, target, mask, feedback=feedback)
    np.testing.assert_array_equal(symmetric.w_out, randomised.w_out)
    assert not np.allclose(symmetric.w_in, randomised.w_in)


def test_torch_and_numba_lsnn_spike_identically():
    lsnn, weights, x, _, _ = _problem()
    with torch.no_grad():
        spikes, outputs = LSNNModule(lsnn, weights)(torch.as_tensor(x))
    expected = run(lsnn, weights, x)
    assert expected["spikes"].sum() > 50
    np.testing.assert_array_equal(spikes.numpy(), expected["spikes"])
    np.testing.assert_allclose(outputs.numpy(), expected["y"], rtol=0, atol=1e-12)
