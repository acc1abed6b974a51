"""SDRs, encoders and the false-match probability."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import hypergeom

from snn import ValidationError
from snn.htm import (
    SDR,
    CategoryEncoder,
    DateEncoder,
    RandomDistributedScalarEncoder,
    ScalarEncoder,
    false_match_probability,
)


def test_false_match_probability_matches_the_literature_example():
    # Ahmad & Hawkins 2016 ("How do neurons operate on sparse distributed representations?"):
    # n = 100 000 bits, a = 2000 on, a segment of s = 6 synapses with threshold 6 -> ~6.35e-11
    assert false_match_probability(100_000, 2000, 6, 6) == pytest.approx(6.35e-11, rel=1e-3)


@pytest.mark.parametrize(
    ("n", "a", "s", "theta"),
    [(2048, 40, 20, 13), (2048, 40, 20, 10), (1024, 200, 16, 8), (60000, 60000, 5, 5)],
)
def test_false_match_probability_is_the_hypergeometric_tail(n, a, s, theta):
    # an independent closed form: scipy's hypergeometric survival function
    assert false_match_probability(n, a, s, theta) == pytest.approx(
        hypergeom(n, s, a).sf(theta - 1), rel=1e-9
    )


@pytest.mark.parametrize(("n", "a", "s", "theta"), [(256, 40, 16, 6), (500, 100, 12, 5), (2048, 400, 20, 8)])
def test_false_match_probability_against_monte_carlo(n, a, s, theta):
    rng = np.random.default_rng(5)
    segment = SDR.sample(n, s, rng)
    trials = 20000
    hits = sum(SDR.sample(n, a, rng).overlap(segment) >= theta for _ in range(trials))
    p = false_match_probability(n, a, s, theta)
    assert hits > 100  # measurable
    assert hits / trials == pytest.approx(p, rel=0.10)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((100, 10, 5, 6), "theta"),
        ((100, 10, 0, 0), "s"),
        ((100, 0, 5, 3), "a"),
        ((100, 101, 5, 3), "a"),
        ((0, 1, 1, 1), "n"),
    ],
)
def test_false_match_bad_input(args, field):
    with pytest.raises(ValidationError, match=f"false_match_probability.{field}"):
        false_match_probability(*args)


def test_sdr_set_operations():
    x, y = SDR(16, [3, 1, 7]), SDR(16, [7, 2, 1])
    assert list(x.indices) == [1, 3, 7] and x.active == 3 and x.sparsity == 3 / 16
    assert x.overlap(y) == 2 and list(x.union(y).indices) == [1, 2, 3, 7]
    assert list(x.intersection(y).indices) == [1, 7]
    assert SDR.from_dense(x.dense()) == x
    both = SDR.concatenate(x, SDR(4, [0]))
    assert both.size == 20 and list(both.indices) == [1, 3, 7, 16]
    sub = x.subsample(2, np.random.default_rng(0))
    assert sub.active == 2 and set(sub.indices) <= set(x.indices)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: SDR(0), "SDR.size"),
        (lambda: SDR(8, [8]), "SDR.indices"),
        (lambda: SDR(8, [-1]), "SDR.indices"),
        (lambda: SDR(8, [2, 2]), "SDR.indices"),
        (lambda: SDR(8, [0.5]), "SDR.indices"),
        (lambda: SDR(8).require_active("input"), "input"),
        (lambda: SDR(8, [1]).overlap(SDR(9, [1])), "SDR.size"),
        (lambda: SDR.from_dense(np.array([0, 2])), "SDR.dense"),
    ],
)
def test_bad_sdrs_name_the_field(make, field):
    with pytest.raises(ValidationError, match=field):
        make()


def test_scalar_encoder_overlap_falls_with_distance():
    enc = ScalarEncoder(minimum=0.0, maximum=100.0, size=400, active_bits=21)
    base = enc.encode(50.0)
    overlaps = [base.overlap(enc.encode(50.0 + d)) for d in (0.0, 0.3, 1.0, 3.0, 10.0)]
    assert overlaps[0] == 21 and overlaps == sorted(overlaps, reverse=True) and overlaps[-1] == 0
    assert enc.encode(-5.0) == enc.encode(0.0) and enc.encode(1e9) == enc.encode(100.0)  # clipped
    wrap = ScalarEncoder(minimum=0.0, maximum=24.0, size=48, active_bits=5, periodic=True)
    assert wrap.encode(23.9).overlap(wrap.encode(0.1)) > 0  # periodic: midnight is near 23:59


def test_rdse_shares_bits_by_bucket_distance_for_any_range():
    enc = RandomDistributedScalarEncoder(resolution=0.5, size=400, active_bits=21, seed=3)
    for centre in (0.0, -1e6, 3.7e8):
        base = enc.encode(centre)
        assert base.active >= 19  # a hash collision can merge a bit or two
        for d in range(1, 25):
            expected = max(0, 21 - d)
            # shared by construction, minus collisions, plus chance overlaps of the other bits
            # (two random 21-of-400 codes share about 1.1 bits; P(>= 7) < 1e-4)
            assert expected - 2 <= base.overlap(enc.encode(centre + 0.5 * d)) <= expected + 6, (centre, d)
    assert enc.encode(1.0) == RandomDistributedScalarEncoder(
        resolution=0.5, size=400, active_bits=21, seed=3
    ).encode(1.0)
    assert enc.encode(1.0) != RandomDistributedScalarEncoder(
        resolution=0.5, size=400, active_bits=21, seed=4
    ).encode(1.0)


def test_category_and_date_encoders():
    cat = CategoryEncoder(categories=("a", "b", "c"), active_bits=4)
    assert cat.encode("a").overlap(cat.encode("b")) == 0 and cat.encode("c").active == 4
    with pytest.raises(ValidationError, match="CategoryEncoder.category"):
        cat.encode("d")
    date = DateEncoder(time_of_day=(21, 9.49), day_of_week=(5, 1.0), weekend=3)
    monday_9 = date.encode("2014-04-07 09:00:00")  # a Monday
    assert monday_9.active == 21 + 5 + 3
    assert monday_9.overlap(date.encode("2014-04-07 09:30:00")) > monday_9.overlap(
        date.encode("2014-04-07 15:00:00")
    )
    saturday = date.encode("2014-04-12 09:00:00")
    weekend_bits = np.arange(date.size - 6, date.size)
    assert np.intersect1d(saturday.indices, weekend_bits).tolist() == list(range(date.size - 3, date.size))
    with pytest.raises(ValidationError, match="DateEncoder.timestamp"):
        date.encode("not a date")
