"""Brian2's CUBA example run in Brian2 and here, from the same parameters, in one test."""

import numpy as np
import pytest

import snn
from snn.examples import CubaParameters, cuba

brian2 = pytest.importorskip("brian2")


def test_cuba_rate_and_irregularity_match_brian2():
    from studies.experiments.peers.brian2_cuba import run_cuba

    params = CubaParameters()
    duration = 2.0
    ours_rates, ours_cvs, theirs_rates, theirs_cvs = [], [], [], []
    for seed in (1, 2):
        result = snn.Simulator(cuba(params), dt=1e-4, seed=seed, progress=False).run(duration)
        ours_rates.append(result.mean_rate())
        ours_cvs.append(result.isi_cv())
        peer = run_cuba(params, duration, dt=1e-4, target="numpy", seed=seed)
        theirs_rates.append(peer.mean_rate(duration))
        theirs_cvs.append(peer.isi_cv())
    ours_rate, theirs_rate = np.mean(ours_rates), np.mean(theirs_rates)
    assert theirs_rate > 1.0  # the network is active in Brian2 too
    assert abs(ours_rate - theirs_rate) <= 0.10 * theirs_rate
    assert abs(np.mean(ours_cvs) - np.mean(theirs_cvs)) <= 0.1


def test_cuba_structure():
    model = snn.Simulator(cuba(), dt=1e-4, seed=0, progress=False).model
    synapses = model.connectivity.targets.size
    expected = 4000 * 4000 * 0.02
    assert abs(synapses - expected) < 5 * np.sqrt(expected)
    # float64 weights: int32 target + float64 weight + indptr share
    assert model.nbytes_synapses / synapses <= 16
