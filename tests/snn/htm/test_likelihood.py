"""HTM anomaly likelihood (snn.htm.likelihood) against closed forms, scipy, an independent
re-derivation and fixed vectors from Numenta's reference implementation."""

from __future__ import annotations

import io
import math
import time

import numpy as np
import pytest
from scipy.stats import norm

from snn.errors import ValidationError
from snn.htm.likelihood import (
    ANOMALY_THRESHOLD,
    AnomalyLikelihood,
    gaussian_tail,
    is_anomaly,
    likelihoods,
    log_likelihood,
    nab_periods,
    tail_probability,
)

SQRT2_REF = 1.4142  # the reference's sqrt(2) in Q(z) = erfc(z / sqrt 2) / 2


# ------------------------------------------------------------------------------------------
# Fixed vectors from Numenta's own code. Inputs: 150 records made once with numpy (seed
# 20170601) and rounded, with calm stretches, spikes, a very low stretch (mean floor), a flat
# metric stretch (broad fit) and a high stretch. Expected outputs (records 20..149; records
# 0..19 are the probationary 0.5): the reference AnomalyLikelihood(learningPeriod=12,
# estimationSamples=8, historicWindowSize=40, reestimationPeriod=7).anomalyProbability(value,
# score) of numenta/nupic src/nupic/algorithms/anomaly_likelihood.py, run unmodified under
# Python 3.11 / numpy 2.3:
# * two-sided: nupic at b9ebedaf54f49a33de22d8d44dff7c765cdb5548 (master, = release 1.0.5);
# * one-sided: nupic tag 0.5.7 (5cd6668096ca61bf6420ec99a0d5079c09b72ad2), before the tail
#   became two-sided.
# Our implementation reproduced both bit for bit when they were made.
# ------------------------------------------------------------------------------------------
SCORES = [
    0.218,
    0.104,
    0.0,
    0.042,
    0.226,
    0.0,
    0.178,
    0.0,
    0.0,
    0.01,
    0.0,
    0.0,
    0.012,
    0.0,
    0.004,
    0.0,
    0.005,
    0.0,
    0.008,
    0.0,
    0.0,
    0.0,
    0.007,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.008,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.009,
    0.0,
    0.008,
    0.0,
    0.006,
    0.008,
    0.009,
    0.006,
    0.008,
    0.0,
    0.008,
    0.0,
    0.001,
    0.001,
    0.0,
    0.012,
    0.0,
    0.0,
    0.229,
    0.0,
    0.0,
    1.0,
    1.0,
    0.9,
    1.0,
    0.184,
    0.231,
    0.137,
    0.0,
    0.0,
    0.0,
    0.0,
    0.037,
    0.0,
    0.0,
    0.247,
    0.0,
    0.216,
    0.0,
    0.0,
    0.142,
    0.183,
    0.0,
    0.01,
    0.0,
    0.019,
    0.221,
    0.111,
    0.0,
    0.146,
    0.231,
    0.0,
    0.181,
    0.156,
    0.009,
    0.0,
    0.013,
    0.118,
    0.116,
    0.239,
    0.0,
    1.0,
    1.0,
    1.0,
    1.0,
    0.0,
    0.0,
    0.123,
    0.194,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.158,
    0.184,
    0.086,
    0.0,
    0.0,
    0.498,
    0.44,
    0.429,
    0.417,
    0.451,
    0.408,
    0.423,
    0.417,
    0.47,
    0.437,
    0.418,
    0.462,
    0.495,
    0.403,
    0.488,
    0.446,
    0.456,
    0.407,
    0.479,
    0.416,
    0.465,
    0.429,
    0.0,
    0.124,
    0.082,
    0.0,
    0.0,
    0.0,
    0.0,
    0.05,
    0.0,
    0.232,
]
VALUES = [
    9.65,
    9.88,
    8.81,
    14.03,
    9.39,
    10.26,
    12.43,
    9.02,
    13.42,
    11.73,
    9.48,
    7.84,
    8.82,
    7.48,
    10.55,
    12.82,
    11.53,
    13.12,
    12.51,
    13.91,
    6.57,
    7.97,
    10.64,
    9.79,
    7.08,
    8.61,
    6.14,
    8.22,
    11.7,
    9.81,
    7.98,
    13.27,
    10.25,
    8.31,
    7.62,
    10.09,
    8.1,
    11.27,
    9.21,
    11.37,
    11.09,
    10.74,
    8.2,
    14.17,
    8.64,
    11.13,
    11.29,
    6.46,
    13.79,
    10.72,
    10.74,
    12.29,
    8.81,
    7.15,
    8.51,
    13.0,
    8.21,
    10.39,
    6.29,
    8.04,
    8.76,
    10.48,
    14.32,
    6.61,
    10.23,
    4.92,
    12.64,
    10.14,
    5.61,
    13.45,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.5,
    12.07,
    7.88,
    13.74,
    8.16,
    9.9,
    7.19,
    11.67,
    8.35,
    10.3,
    10.85,
    8.63,
    12.89,
    10.33,
    13.05,
    9.13,
    12.42,
    13.37,
    11.38,
    8.99,
    8.93,
    9.88,
    10.47,
    10.23,
    8.92,
    11.19,
]
EXPECTED_TWO_SIDED = [
    0.9411656515227047,
    0.9411656515227047,
    0.9444761927631076,
    0.9444761927631076,
    0.9470172697960859,
    0.9470172697960859,
    0.9500629244911414,
    0.9500629244911414,
    0.954643876061568,
    0.954643876061568,
    0.954643876061568,
    0.9500629244911414,
    0.9540904417832768,
    0.9540904417832768,
    0.9540904417832768,
    0.9540904417832768,
    0.9540904417832768,
    0.9540904417832768,
    0.9540904417832768,
    0.9488618529407298,
    0.9488618529407298,
    0.9488618529407298,
    0.9488618529407298,
    0.9451203087597074,
    0.9397988384212176,
    0.9333383955047788,
    0.9287417271373147,
    0.9222391330617203,
    0.9222391330617203,
    0.9230757640659143,
    0.9230757640659143,
    0.9287417271373147,
    0.9279525042077337,
    0.9325886393801527,
    0.9295242960785853,
    0.9362730343124079,
    0.9404853203311233,
    0.6113749181052813,
    0.6113749181052813,
    0.6289572304771442,
    0.999999974019377,
    0.999,
    0.999,
    0.999,
    0.999,
    0.999,
    0.999,
    0.999,
    0.999,
    0.999,
    0.9266827896292661,
    0.8121784100315865,
    0.6395971506457063,
    0.5909222604838809,
    0.5764884449408263,
    0.628765098055361,
    0.6111002176517054,
    0.6635364722371786,
    0.6635364722371786,
    0.632686774905298,
    0.5916577669713732,
    0.600050941753092,
    0.5977868955528645,
    0.5977868955528645,
    0.68111466291112,
    0.6316089275859075,
    0.6554643053806126,
    0.6554643053806126,
    0.622148338277281,
    0.6013651170788061,
    0.6437204673088259,
    0.6353302396498752,
    0.5998250055008665,
    0.5976056775643377,
    0.6022871470122171,
    0.6524419087743765,
    0.6507911785930943,
    0.6230418029844642,
    0.6717081243319237,
    0.7138888183121386,
    0.5178130074901196,
    0.6485132553825813,
    0.7939739275677857,
    0.9091800385264257,
    0.9091800385264257,
    0.9996347789135076,
    0.9996414943649775,
    0.9997324616518236,
    0.9993562810491502,
    0.9993562810491502,
    0.9860515693202855,
    0.8807415903608466,
    0.5001469318476333,
    0.5001805231069459,
    0.5001731824993112,
    0.5001697515631138,
    0.5001746585997643,
    0.5001823981534517,
    0.5001625306392158,
    0.5001449770118431,
    0.5001278622248843,
    0.5001112261729991,
    0.5000932337041967,
    0.500083260051783,
    0.5000737252400269,
    0.5000605201240955,
    0.9153169482623553,
    0.9540866801532191,
    0.9483220086374928,
    0.9499618520003037,
    0.9546335418861338,
    0.953673067863801,
    0.956176632773219,
    0.8801023013560091,
    0.8840363890610147,
    0.8828540425596756,
    0.8839185370822669,
    0.8814239851028396,
    0.8869551215539604,
    0.8830911925037513,
    0.5209298891797594,
    0.5633177568272922,
    0.6235983721064601,
    0.6864561678798894,
    0.7455483729331731,
    0.7928895716751516,
    0.8413489052856113,
    0.8362671618855433,
    0.8988853079373679,
    0.9193369370098392,
]
EXPECTED_ONE_SIDED = [
    0.058834348477295295,
    0.058834348477295295,
    0.05552380723689243,
    0.05552380723689243,
    0.052982730203914086,
    0.052982730203914086,
    0.04993707550885862,
    0.04993707550885862,
    0.045356123938432025,
    0.045356123938432025,
    0.045356123938432025,
    0.04993707550885862,
    0.045909558216723156,
    0.045909558216723156,
    0.045909558216723156,
    0.045909558216723156,
    0.045909558216723156,
    0.045909558216723156,
    0.045909558216723156,
    0.05113814705927022,
    0.05113814705927022,
    0.05113814705927022,
    0.05113814705927022,
    0.05487969124029257,
    0.060201161578782414,
    0.06666160449522118,
    0.07125827286268527,
    0.07776086693827966,
    0.07776086693827966,
    0.0769242359340857,
    0.0769242359340857,
    0.07125827286268527,
    0.07204749579226633,
    0.06741136061984732,
    0.07047570392141467,
    0.06372696568759206,
    0.05951467966887669,
    0.38862508189471867,
    0.38862508189471867,
    0.37104276952285575,
    0.999999974019377,
    0.999,
    0.999,
    0.999,
    0.999,
    0.999,
    0.999,
    0.999,
    0.999,
    0.999,
    0.9266827896292661,
    0.8121784100315865,
    0.6395971506457063,
    0.40907773951611914,
    0.4235115550591737,
    0.37123490194463904,
    0.3888997823482946,
    0.3364635277628214,
    0.3364635277628214,
    0.367313225094702,
    0.4083422330286268,
    0.39994905824690796,
    0.40221310444713554,
    0.40221310444713554,
    0.31888533708888,
    0.3683910724140925,
    0.3445356946193874,
    0.3445356946193874,
    0.377851661722719,
    0.39863488292119387,
    0.3562795326911741,
    0.36466976035012477,
    0.4001749944991335,
    0.4023943224356623,
    0.3977128529877829,
    0.34755809122562353,
    0.3492088214069057,
    0.3769581970155358,
    0.32829187566807627,
    0.2861111816878614,
    0.4821869925098804,
    0.6485132553825813,
    0.7939739275677857,
    0.9091800385264257,
    0.9091800385264257,
    0.9996347789135076,
    0.9996414943649775,
    0.9997324616518236,
    0.9993562810491502,
    0.9993562810491502,
    0.9860515693202855,
    0.8807415903608466,
    0.49985306815236674,
    0.49981947689305406,
    0.4998268175006888,
    0.49983024843688617,
    0.4998253414002357,
    0.49981760184654833,
    0.4998374693607842,
    0.49985502298815687,
    0.49987213777511574,
    0.4998887738270009,
    0.49990676629580333,
    0.49991673994821695,
    0.4999262747599731,
    0.4999394798759045,
    0.9153169482623553,
    0.9540866801532191,
    0.9483220086374928,
    0.9499618520003037,
    0.9546335418861338,
    0.953673067863801,
    0.956176632773219,
    0.8801023013560091,
    0.8840363890610147,
    0.8828540425596756,
    0.8839185370822669,
    0.8814239851028396,
    0.8869551215539604,
    0.8830911925037513,
    0.47907011082024065,
    0.43668224317270776,
    0.3764016278935399,
    0.3135438321201106,
    0.2544516270668269,
    0.20711042832484838,
    0.15865109471438865,
    0.1637328381144567,
    0.10111469206263213,
    0.0806630629901608,
]


def _stream(rng: np.random.Generator, n: int) -> np.ndarray:
    """Raw scores as a temporal memory gives them: mostly 0, some partial, a few bursts of 1."""
    scores = np.where(rng.random(n) < 0.65, 0.0, rng.random(n) * 0.3)
    scores[rng.random(n) < 0.01] = 1.0
    return scores


def _oracle(scores, values, lp, es, window, period, avg, one_sided=False) -> np.ndarray:
    """The likelihood re-derived from its definition, step by step, refitting from scratch.

    Independent of the module: windowed means by np.mean over explicit slices, |z| or signed z
    into erfc, and the filter on the previous raw tail."""
    n = len(scores)
    out = np.full(n, 0.5)
    fit = None
    prev = math.nan
    refit_at = refit_n = 0
    for t in range(lp + es, n):
        if fit is None or t % period == 0:
            lo = max(0, t - window)
            hist, vals = scores[lo:t], values[lo:t]
            skip = min(t, max(0, lp - max(0, t - window)))
            means = np.array([np.mean(hist[max(0, k - avg + 1) : k + 1]) for k in range(len(hist))])
            if len(hist) <= skip or (not np.isnan(vals).any() and np.var(vals[skip:]) < 1.5e-5):
                fit = (0.5, 1000.0)
            else:
                fit = (max(np.mean(means[skip:]), 0.03), math.sqrt(max(np.var(means[skip:]), 3e-4)))
            refit_at, refit_n = t, len(hist)
            prev = _q(means[-1], fit, one_sided)
        k = min(avg, refit_n + (t - refit_at) + 1)  # the average restarts from the window's tail
        q = _q(np.mean(scores[t - k + 1 : t + 1]), fit, one_sided)
        out[t] = 1.0 - (1e-3 if q <= 1e-5 and prev <= 1e-5 else q)
        prev = q
    return out


def _q(x: float, fit: tuple[float, float], one_sided: bool) -> float:
    z = (x - fit[0]) / fit[1]
    return 0.5 * math.erfc((z if one_sided else abs(z)) / SQRT2_REF)


# -- the Gaussian tail -----------------------------------------------------------------------


def test_gaussian_tail_is_scipy_norm_sf():
    z = np.linspace(-8.0, 30.0, 761)
    np.testing.assert_allclose(gaussian_tail(z), norm.sf(z), rtol=1e-12, atol=0)
    assert gaussian_tail(z.reshape(761, 1)).shape == (761, 1)
    assert isinstance(gaussian_tail(1.5), float)
    assert gaussian_tail(1.5) == pytest.approx(norm.sf(1.5), rel=1e-14)
    assert gaussian_tail(0.0) == 0.5


@pytest.mark.parametrize("mean, stdev", [(0.2, 0.05), (0.03, math.sqrt(3e-4)), (0.5, 1000.0)])
def test_reference_tail_is_norm_sf_with_rounded_sqrt2(mean, stdev):
    # Q(z sqrt(2) / 1.4142): the reference's erfc(z / 1.4142) / 2, two-sided by reflection
    x = np.linspace(0.0, 1.0, 201)
    z = (x - mean) / stdev
    scale = math.sqrt(2.0) / SQRT2_REF
    two = np.array([tail_probability(v, mean, stdev) for v in x])
    one = np.array([tail_probability(v, mean, stdev, one_sided=True) for v in x])
    np.testing.assert_allclose(two, norm.sf(np.abs(z) * scale), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(one, norm.sf(z * scale), rtol=1e-12, atol=1e-300)
    # the rounded sqrt(2) is what the reference uses: the exact Q differs visibly in the tail
    far = mean + 4.5 * stdev
    assert abs(tail_probability(far, mean, stdev) / norm.sf(4.5) - 1) > 2e-4


# -- closed forms ----------------------------------------------------------------------------


@pytest.mark.parametrize("level, mu", [(0.2, 0.2), (0.01, 0.03)])  # 0.01: below the mean floor
def test_constant_then_jump_matches_hand_computation(level, mu):
    lp, es = 20, 30
    detector = AnomalyLikelihood(learning_period=lp, estimation_samples=es)
    before = [detector.update(level) for _ in range(lp + es)]
    assert before == [0.5] * (lp + es)
    sigma = math.sqrt(0.0003)  # a constant window has variance 0: the floor
    # first jump: the short-term average of the last 10 scores is (9 level + 1) / 10
    z1 = ((9 * level + 1.0) / 10 - mu) / sigma
    q1 = 0.5 * math.erfc(z1 / SQRT2_REF)
    first = detector.update(1.0)
    mean, variance, stdev = detector.distribution
    assert mean == pytest.approx(mu, abs=1e-15) and variance == 0.0003 and stdev == sigma
    assert 1.0 - first == pytest.approx(q1, rel=1e-9)
    assert 1.0 - first == pytest.approx(norm.sf(z1 * math.sqrt(2) / SQRT2_REF), rel=1e-9)
    # red (tail <= 1e-5); the record before (the window's last average, tail 0.5) was not: kept
    assert q1 <= 1e-5 and is_anomaly(first)
    # second jump: (8 level + 2) / 10 is red again right after red: reported as yellow, 1e-3
    z2 = ((8 * level + 2.0) / 10 - mu) / sigma
    assert 0.5 * math.erfc(z2 / SQRT2_REF) <= 1e-5
    second = detector.update(1.0)
    assert second == 1.0 - (1.0 - 0.999) and not is_anomaly(second)
    # back to the level: (9 level + 1 + 1 + ...) stays red-after-red until the spike leaves
    assert detector.update(level) == second


def test_drop_below_the_mean_two_sided_and_one_sided():
    # the reference's final tail is two-sided: a drop is as unlikely as a rise; the paper's
    # (and nupic 0.5.x's) one-sided tail gives a likelihood near 0 instead
    lp, es = 10, 20
    scores = [0.5] * (lp + es) + [0.0]
    z = ((9 * 0.5) / 10 - 0.5) / math.sqrt(0.0003)  # -2.89
    two = likelihoods(scores, learning_period=lp, estimation_samples=es)[-1]
    one = likelihoods(scores, learning_period=lp, estimation_samples=es, one_sided=True)[-1]
    assert two == pytest.approx(1.0 - 0.5 * math.erfc(-z / SQRT2_REF), rel=1e-12)
    assert one == pytest.approx(1.0 - 0.5 * math.erfc(z / SQRT2_REF), rel=1e-9)
    assert two > 0.99 and one < 0.01


def test_flat_metric_gets_the_broad_fit():
    # a flat metric value (variance < 1.5e-5) makes every score likely; without values the
    # check is skipped
    lp, es = 10, 20
    scores = [0.0] * (lp + es) + [1.0]
    flat = AnomalyLikelihood(learning_period=lp, estimation_samples=es)
    out_flat = flat.update_many(scores, values=[3.0] * len(scores))[-1]
    assert flat.distribution == (0.5, 1e6, 1e3)
    # the average 0.1 lies below the broad mean 0.5: two-sided tail of |z| = 0.4 / 1000
    assert out_flat == pytest.approx(1.0 - 0.5 * math.erfc(0.4 / 1e3 / SQRT2_REF), rel=1e-12)
    assert likelihoods(scores, learning_period=lp, estimation_samples=es)[-1] > 0.9999


# -- probation and NAB's periods ---------------------------------------------------------------


@pytest.mark.parametrize("lp, es", [(288, 100), (0, 1), (7, 0), (375, 375), (84, 85)])
def test_probationary_period_reports_one_half(lp, es):
    scores = _stream(np.random.default_rng(lp + es), lp + es + 50)
    scores[lp + es] = 1.0
    out = likelihoods(scores, learning_period=lp, estimation_samples=es, historic_window=max(es, 500))
    assert AnomalyLikelihood(lp, es, max(es, 500)).probationary_period == lp + es
    assert np.all(out[: lp + es] == 0.5)
    assert out[lp + es] != 0.5 and np.all((out[lp + es :] >= 0.5) & (out[lp + es :] <= 1.0))


@pytest.mark.parametrize(
    "n_rows, expected",
    # NAB's 0.15 of the file, capped at 750 rows, half learning and half estimation
    [(10320, (375, 375)), (4032, (302, 302)), (1127, (84, 85)), (5000, (375, 375)), (7, (0, 1))],
)
def test_nab_periods(n_rows, expected):
    assert nab_periods(n_rows) == expected
    detector = AnomalyLikelihood.for_nab(n_rows)
    assert (detector.learning_period, detector.estimation_samples) == expected
    assert (detector.historic_window, detector.reestimation_period, detector.averaging_window) == (
        8640,
        100,
        10,
    )


def test_log_likelihood_and_threshold():
    # NAB's scores during probation are log_likelihood(0.5) = 0.0301029996659 (its CSVs)
    assert round(log_likelihood(0.5), 13) == 0.0301029996659
    assert log_likelihood(1.0) == pytest.approx(1.0, abs=1e-12)
    assert log_likelihood(ANOMALY_THRESHOLD) == pytest.approx(0.5, abs=1e-6)
    grid = np.array([[0.5, 0.9], [0.999, 0.99999]])
    logs = log_likelihood(grid)
    assert logs.shape == (2, 2)
    np.testing.assert_allclose(logs, np.log(1.0000000001 - grid) / np.log(1.0 - 0.9999999999), rtol=1e-14)
    assert is_anomaly(1.0 - 1e-5) and not is_anomaly(1.0 - 2e-5) and not is_anomaly(0.999)
    assert is_anomaly(np.array([0.5, 0.999999])).tolist() == [False, True]


# -- against the reference and an independent derivation ----------------------------------------


@pytest.mark.parametrize("one_sided", [False, True])
def test_matches_numentas_reference_vector(one_sided):
    expected = np.array(EXPECTED_ONE_SIDED if one_sided else EXPECTED_TWO_SIDED)
    out = likelihoods(
        SCORES,
        VALUES,
        learning_period=12,
        estimation_samples=8,
        historic_window=40,
        reestimation_period=7,
        one_sided=one_sided,
    )
    assert np.all(out[:20] == 0.5)
    # bit for bit: the same floating-point operations in the same order as the reference (should
    # a numpy release change np.mean's / np.var's summation, both would move; then regenerate)
    np.testing.assert_array_equal(out[20:], expected)
    assert np.count_nonzero(out == 0.999) >= 9  # the filter acted
    assert np.count_nonzero(out[20:] < 0.5) == (92 if one_sided else 0)


@pytest.mark.parametrize(
    "lp, es, window, period, avg, with_values, one_sided",
    [
        (30, 20, 120, 9, 10, True, False),
        (50, 10, 60, 1, 10, False, False),  # refit every record; skip shrinks as the window slides
        (0, 5, 30, 4, 3, True, True),
        (12, 3, 6, 5, 10, False, True),  # window shorter than the average
        (5, 5, 200, 250, 1, True, False),  # refit only at the first record and at 250
    ],
)
def test_matches_an_independent_derivation(lp, es, window, period, avg, with_values, one_sided):
    rng = np.random.default_rng(window * 1000 + period)
    n = 600
    scores = _stream(rng, n)
    values = np.round(rng.normal(size=n), 2) if with_values else np.full(n, np.nan)
    if with_values:
        values[200 : 200 + window + 40] = 7.0  # flat metric
    out = likelihoods(
        scores,
        values if with_values else None,
        learning_period=lp,
        estimation_samples=es,
        historic_window=window,
        reestimation_period=period,
        averaging_window=avg,
        one_sided=one_sided,
    )
    expected = _oracle(scores, values, lp, es, window, period, avg, one_sided)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9)


# -- stepping, saving and resuming ---------------------------------------------------------------


def _detector() -> AnomalyLikelihood:
    return AnomalyLikelihood(
        learning_period=50,
        estimation_samples=30,
        historic_window=200,
        reestimation_period=17,
        averaging_window=10,
    )


def test_update_and_update_many_agree():
    rng = np.random.default_rng(3)
    scores, values = _stream(rng, 400), rng.normal(size=400)
    one = _detector()
    stepped = np.array([one.update(s, v) for s, v in zip(scores, values, strict=True)])
    block = _detector().update_many(scores, values)
    assert np.array_equal(stepped, block) and one.iteration == 400


@pytest.mark.parametrize("cut", [0, 1, 79, 80, 81, 85, 102, 500, 2999, 3000])
def test_save_and_resume_gives_the_identical_series(cut):
    rng = np.random.default_rng(7)
    scores, values = _stream(rng, 3000), np.round(rng.normal(size=3000), 2)
    values[1000:1300] = 2.0
    whole = _detector().update_many(scores, values)
    first = _detector()
    head = first.update_many(scores[:cut], values[:cut])
    state = first.state()
    assert all(isinstance(v, (int, np.ndarray)) for v in state.values())
    buffer = io.BytesIO()
    np.savez(buffer, **state)
    buffer.seek(0)
    with np.load(buffer) as saved:
        resumed = AnomalyLikelihood.from_state(dict(saved))
    tail = resumed.update_many(scores[cut:], values[cut:])
    assert np.array_equal(np.concatenate([head, tail]), whole)
    end, again = first.update_many(scores[cut:], values[cut:]).copy(), resumed.state()
    assert np.array_equal(end, tail)
    for key, value in first.state().items():
        np.testing.assert_array_equal(again[key], value, err_msg=key)


def test_state_is_a_copy():
    detector = _detector()
    detector.update_many(_stream(np.random.default_rng(1), 300))
    state = detector.state()
    state["history_scores"][:] = 1.0
    state["average_window"][:] = 1.0
    assert not np.array_equal(detector.state()["history_scores"], state["history_scores"])
    assert not np.array_equal(detector.state()["average_window"], state["average_window"])


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"learning_period": -1}, "AnomalyLikelihood.learning_period"),
        ({"learning_period": 2.5}, "AnomalyLikelihood.learning_period"),
        ({"estimation_samples": -3}, "AnomalyLikelihood.estimation_samples"),
        ({"historic_window": 0}, "AnomalyLikelihood.historic_window"),
        ({"reestimation_period": 0}, "AnomalyLikelihood.reestimation_period"),
        ({"averaging_window": 0}, "AnomalyLikelihood.averaging_window"),
        ({"averaging_window": True}, "AnomalyLikelihood.averaging_window"),
        ({"estimation_samples": 200, "historic_window": 100}, "AnomalyLikelihood.estimation_samples"),
        ({"learning_period": 0, "estimation_samples": 0}, "AnomalyLikelihood.estimation_samples"),
        ({"one_sided": "yes"}, "AnomalyLikelihood.one_sided"),
    ],
)
def test_invalid_parameters_name_the_field(kwargs, field):
    with pytest.raises(ValidationError) as caught:
        AnomalyLikelihood(**kwargs)
    assert caught.value.field == field


@pytest.mark.parametrize("score", [math.nan, -0.1, 1.5, math.inf, "0.5", None])
def test_invalid_raw_score(score):
    detector = AnomalyLikelihood()
    with pytest.raises(ValidationError) as caught:
        detector.update(score)
    assert caught.value.field == "AnomalyLikelihood.raw_score"
    assert detector.iteration == 0


def test_invalid_series_and_values():
    detector = AnomalyLikelihood()
    with pytest.raises(ValidationError, match=r"in \[0, 1\]") as caught:
        detector.update_many([0.1, 0.2, 0.3, 1.2])
    assert caught.value.field == "raw_scores[3]"
    for bad, field in [([[0.1, 0.2]], "raw_scores"), ([0.1, np.nan], "raw_scores"), (["a"], "raw_scores")]:
        with pytest.raises(ValidationError) as caught:
            detector.update_many(bad)
        assert caught.value.field == field
    with pytest.raises(ValidationError) as caught:
        detector.update_many([0.1, 0.2], values=[1.0])
    assert caught.value.field == "values"
    with pytest.raises(ValidationError) as caught:
        detector.update(0.1, value=math.nan)
    assert caught.value.field == "AnomalyLikelihood.value"
    assert detector.iteration == 0
    for bad in (1.5, -0.2, math.nan, [0.5, 2.0]):
        with pytest.raises(ValidationError) as caught:
            log_likelihood(bad)
        assert caught.value.field == "likelihood"
    with pytest.raises(ValidationError) as caught:
        nab_periods(6)
    assert caught.value.field == "n_rows"


def test_invalid_state():
    detector = _detector()
    detector.update_many(_stream(np.random.default_rng(2), 120))
    good = detector.state()
    for key, bad, field in [
        ("iteration", 10, "state.history_scores"),  # 120 records kept, 10 announced
        ("history_scores", good["history_scores"][:-1], "state.history_scores"),
        ("format", 2, "state.format"),
        ("has_distribution", 2, "state.has_distribution"),
        ("average_window", np.zeros(11), "state.average_window"),
        ("averaging_window", 0, "state.averaging_window"),
    ]:
        with pytest.raises(ValidationError) as caught:
            AnomalyLikelihood.from_state({**good, key: bad})
        assert caught.value.field == field, key
    with pytest.raises(ValidationError, match="misses distribution"):
        AnomalyLikelihood.from_state({k: v for k, v in good.items() if k != "distribution"})


# -- speed -------------------------------------------------------------------------------------


def test_a_long_series_is_fast():
    # O(1) work per record plus O(W) per refit; 20 000 records take ~0.03 s (reference: ~2 s)
    scores = _stream(np.random.default_rng(0), 20000)
    likelihoods(scores[:500], learning_period=10, estimation_samples=10)  # compile the kernel
    start = time.perf_counter()
    out = likelihoods(scores)
    assert time.perf_counter() - start < 2.0
    assert out.shape == (20000,) and np.all(out[:388] == 0.5)
