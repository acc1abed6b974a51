"""AdEx and Izhikevich on our simulator against Brian2, run in the same test on the same
parameters (the published sets of :mod:`tests.models.published`), input, integration method
(forward Euler) and step (0.1 ms)."""

from __future__ import annotations

import numpy as np
import pytest

import snn
from tests.models.patterns import firing_pattern, matched_fraction
from tests.models.published import DT, IZHIKEVICH_FIG_2, NAUD_TABLE_1, adex, izhikevich, network, per_neuron

pytest.importorskip("brian2")
import hardware  # noqa: E402

DURATION = 1.0


def both(net: snn.Network, dt: float = DT):
    ours = snn.Simulator(net, dt=dt, progress=False).run(DURATION)
    theirs = hardware.get("brian2-numpy").run(net, DURATION, dt=dt)
    return ours, theirs


def check_pattern(model, current, expected, dt=DT):
    ours, theirs = both(network(model, current), dt)
    (mine,), (peer,) = per_neuron(ours, 1), per_neuron(theirs, 1)
    assert mine.size > 0
    assert matched_fraction(mine, peer, 1e-3) >= 0.95, (mine[:10], peer[:10])
    assert firing_pattern(mine) == firing_pattern(peer) == expected, (np.diff(mine)[:12], np.diff(peer)[:12])


@pytest.mark.parametrize("name", NAUD_TABLE_1)
def test_adex_firing_patterns_match_brian2(name):
    row, expected = NAUD_TABLE_1[name]
    check_pattern(adex(row), row[-1] * 1e-12, expected)


@pytest.mark.parametrize("name", IZHIKEVICH_FIG_2)
def test_izhikevich_firing_patterns_match_brian2(name):
    row, expected, dt = IZHIKEVICH_FIG_2[name]
    check_pattern(izhikevich(row), 0.01, expected, dt)


@pytest.mark.parametrize(
    "model, currents",
    [
        (snn.AdEx(), np.linspace(0.2e-9, 2.0e-9, 10)),  # Brette & Gerstner's regular-spiking cell
        (snn.Izhikevich(), np.linspace(0.0, 0.03, 10)),  # RS, I = 0..30
    ],
    ids=["adex", "izhikevich"],
)
def test_f_i_curve_matches_brian2(model, currents):
    ours, theirs = both(network(model, currents))
    rates = np.array([s.size for s in per_neuron(ours, currents.size)]) / DURATION
    peer = np.array([s.size for s in per_neuron(theirs, currents.size)]) / DURATION
    assert rates[-1] > rates[0] and rates[-1] > 20  # the curve rises and the neurons fire
    assert np.all(np.diff(rates) >= 0)
    np.testing.assert_allclose(rates, peer, atol=1.0)  # spikes per second
