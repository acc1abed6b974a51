"""The spiking LCA reaches the LASSO optimum that scikit-learn's Lasso finds, on the Numba
simulator and spike for spike on Brian2."""

from __future__ import annotations

import numpy as np
import pytest

from snn.errors import ValidationError
from snn.lca import LCA
from snn.simulator import Simulator
from studies.experiments.sparse_runs import sklearn_optimum, synthetic_problem


def _problem(seed=0, dim=30, atoms=60, lam=0.1, scale=1.0):
    # atoms not normalised (norm ~ scale sqrt(dim)): the network must scale them itself
    return synthetic_problem(seed, dim, atoms, lam, active=5, scale=scale, normalise=False)


def _optimum(phi, x, lam, positive=False) -> float:
    return sklearn_optimum(phi, x, lam, positive)[1]


@pytest.mark.parametrize("signed, scale", [(True, 1.0), (True, 0.2), (False, 1.0)])
def test_rates_reach_the_lasso_optimum_within_one_percent(signed, scale):
    phi, x, lam = _problem(scale=scale)
    optimum = _optimum(phi, x, lam, positive=not signed)
    lca = LCA(dictionary=phi, signal=x, lam=lam, signed=signed)
    result = Simulator(lca.network(), dt=1e-4, progress=False).run(4.0)
    codes = lca.codes(result, 2.0)
    gap = lca.objective(codes) / optimum - 1
    assert 0 <= gap < 0.01  # the optimum is a lower bound; the rates come within 1 %
    assert result.spikes["lca"][0].size > 100  # it solved by spiking
    if not signed:
        assert codes.min() >= 0
    assert lca.time_to_solution(result, optimum) < 4.0


def test_convergence_checkpoints_stay_inside_the_run():
    phi, x, lam = _problem()
    lca = LCA(dictionary=phi, signal=x, lam=lam)
    result = Simulator(lca.network(), dt=1e-4, progress=False).run(0.107)  # not a multiple of 0.01
    times, gaps = lca.convergence(result, _optimum(phi, x, lam))
    assert times[-1] == pytest.approx(0.1) and len(gaps) == 10
    with pytest.raises(ValidationError, match="every"):
        lca.convergence(result, 1.0, every=0.2)


def test_the_transient_is_far_from_the_optimum():
    # the check above can fail: the first 20 ms (all neurons driven, no competition yet) are not a solution
    phi, x, lam = _problem()
    lca = LCA(dictionary=phi, signal=x, lam=lam)
    result = Simulator(lca.network(), dt=1e-4, progress=False).run(0.5)
    assert lca.objective(lca.codes(result, 0.0, 0.02)) / _optimum(phi, x, lam) - 1 > 0.05


@pytest.mark.parametrize("backend", ["brian2", "nengo"])
def test_backends_run_the_same_network_spike_for_spike(backend):
    import hardware

    phi, x, lam = _problem(dim=12, atoms=20)
    lca = LCA(dictionary=phi, signal=x, lam=lam)
    network = lca.network()
    ours = Simulator(network, dt=1e-4, progress=False).run(0.2)
    theirs = hardware.get(backend).run(network, 0.2, dt=1e-4, progress=False)
    assert ours.spikes["lca"][0].size > 20
    for mine, other in zip(ours.spikes["lca"], theirs.spikes["lca"], strict=True):
        np.testing.assert_array_equal(mine, other)


def test_nir_refuses_what_it_cannot_express():
    import hardware
    from snn.errors import UnsupportedFeature

    phi, x, lam = _problem(dim=12, atoms=20)
    with pytest.raises(UnsupportedFeature, match="reset='subtract' on a IF"):
        hardware.get("nir").check(LCA(dictionary=phi, signal=x, lam=lam).network())


@pytest.mark.parametrize(
    "change, field",
    [
        ({"lam": -0.1}, "lambda"),
        ({"dictionary": np.ones((5, 4))}, "signals"),
        ({"dictionary": np.ones(30)}, "dictionary"),
        ({"dictionary": np.zeros((30, 4))}, "dictionary"),
        ({"dictionary": np.full((30, 4), 1.3e154)}, "dictionary"),  # norms overflow (long fuzz)
        ({"tau_syn": 0.0}, "LCA.tau_syn"),
        ({"max_rate": -1.0}, "LCA.max_rate"),
    ],
)
def test_bad_problems_name_the_field(change, field):
    phi, x, lam = _problem()
    with pytest.raises(ValidationError) as error:
        LCA(**{"dictionary": phi, "signal": x, "lam": lam, **change})
    assert error.value.field == field
