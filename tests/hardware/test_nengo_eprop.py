"""e-prop as a nengo learning rule (hardware.nengo_eprop) against the Numba e-prop kernel."""

import numpy as np
import pytest

pytest.importorskip("nengo")

from hardware.nengo_eprop import learn_online  # noqa: E402
from snn.learning.eprop import EProp, gradients  # noqa: E402
from snn.lsnn import LSNN, initial_weights  # noqa: E402


def problem():
    lsnn = LSNN(n_in=8, n_lif=10, n_alif=10, n_out=3, dt=1e-3, tau_adapt=0.2, beta=0.5, tau_ref=2e-3)
    weights = initial_weights(lsnn, np.random.default_rng(0), input_gain=3.0)
    steps = 200
    x = (np.random.default_rng(1).random((steps, lsnn.n_in)) < 0.05).astype(float)
    target = np.zeros((steps, 3))
    target[:, 1] = 1.0
    mask = np.zeros(steps)
    mask[-30:] = 1.0  # the loss on the last 30 steps, as in a recall task
    return lsnn, weights, x, target, mask


def relative(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.abs(ours - theirs).max() / np.abs(ours).max())


def test_eprop_in_nengo_accumulates_the_kernels_gradient():
    lsnn, weights, x, target, mask = problem()
    ours = gradients(EProp(gamma=0.3), lsnn, weights, x[None], target[None], mask[None], loss="softmax")
    assert 10 < ours.rates_hz.mean() < 200  # LIF and ALIF neurons fired, refractory periods included
    theirs = learn_online(lsnn, weights, x, target, mask, learning_rate=1e-15)
    assert np.abs(ours.w_in).max() > 0 and np.abs(ours.w_rec).max() > 0
    # nengo learns online (weights move every step), the kernel holds them over the sequence:
    # at a vanishing rate the accumulated updates are the kernel's gradient
    assert relative(ours.w_in, theirs["w_in"]) < 1e-9
    assert relative(ours.w_rec, theirs["w_rec"] * weights.mask) < 1e-9
    # and the difference is the online learning itself: it grows with the rate
    faster = learn_online(lsnn, weights, x, target, mask, learning_rate=1e-10)
    assert relative(ours.w_rec, faster["w_rec"] * weights.mask) > 1e3 * relative(
        ours.w_rec, theirs["w_rec"] * weights.mask
    )


def test_eprop_refuses_neurons_it_cannot_read():
    import nengo

    from hardware.nengo_eprop import eprop_rule

    with nengo.Network() as model:
        pre = nengo.Ensemble(4, 1)
        post = nengo.Ensemble(3, 1, neuron_type=nengo.LIF())
        nengo.Connection(pre.neurons, post.neurons, transform=np.zeros((3, 4)),
                         learning_rule_type=eprop_rule(np.ones((3, 2)), kappa=0.9))  # fmt: skip
    with pytest.raises(Exception, match="e-prop into LIF"):
        nengo.Simulator(model, progress_bar=False)
