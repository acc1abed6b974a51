"""The spatial pooler: fixed sparsity, the top-k rule, similarity kept, learning stabilises
the code, boosting spreads the winners, local inhibition, save/load, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from snn import ValidationError
from snn.htm import SDR
from snn.htm.spatial_pooler import SpatialPooler, SpatialPoolerParameters


def _inputs(rng, count, size=400, active=21):
    return [SDR.sample(size, active, rng) for _ in range(count)]


def test_global_inhibition_picks_the_top_scores():
    p = SpatialPoolerParameters(input_size=400, columns=512, active_columns=20, seed=3)
    sp = SpatialPooler(p)
    x = _inputs(np.random.default_rng(0), 1)[0]
    # the closed form: overlap with connected synapses, top 20 by overlap (+ the tie-breaker)
    connected = sp.connected()
    overlap = connected[:, x.indices].sum(axis=1)
    expected = np.sort(np.argsort(-(overlap + sp._arrays.tie_breaker), kind="stable")[:20])
    out = sp.compute(x, learn=False)
    assert out.active == 20 and np.array_equal(out.indices, expected)


def test_similar_inputs_give_similar_columns_and_learning_stabilises_them():
    rng = np.random.default_rng(1)
    p = SpatialPoolerParameters(input_size=400, columns=1024, active_columns=20, seed=5)
    sp = SpatialPooler(p)
    patterns = _inputs(rng, 10)
    near = SDR(
        400, np.concatenate([patterns[0].indices[:18], np.setdiff1d(np.arange(400), patterns[0].indices)[:3]])
    )
    far = patterns[1]
    a, b, c = (sp.compute(x, learn=False) for x in (patterns[0], near, far))
    assert a.overlap(b) > 10 > a.overlap(c)

    def strength(codes):  # connected synapses from each pattern's winners onto the pattern
        connected = sp.connected()
        return np.mean(
            [connected[code.indices][:, x.indices].sum() for code, x in zip(codes, patterns, strict=True)]
        )

    before = strength([sp.compute(x, learn=False) for x in patterns])
    for _ in range(30):
        for x in patterns:
            sp.compute(x, learn=True)
    after = [sp.compute(x, learn=False) for x in patterns]
    again = [sp.compute(x, learn=False) for x in patterns]
    assert all(u == v for u, v in zip(after, again, strict=True))  # no learning: deterministic
    # learning connects each winner to the pattern's bits in its pool: before, the winners were
    # the columns that happened to be connected best (287 of a possible ~400, measured); after,
    # at least 95 % of what their pools allow
    pools = np.mean(
        [sp._arrays.potential[c.indices][:, x.indices].sum() for c, x in zip(after, patterns, strict=True)]
    )
    assert strength(after) > before and strength(after) >= 0.95 * pools


def test_boosting_spreads_wins_over_more_columns():
    # boosting raises columns that win too seldom: the wins' entropy grows with the boost
    # strength and the spread of win counts shrinks (measured: entropy 5.77, 5.97, 6.17 of
    # ln 512 = 6.24 at strengths 0, 3, 10; coefficient of variation 0.86, 0.63, 0.29)
    rng = np.random.default_rng(2)
    inputs = _inputs(rng, 50)

    def wins(boost):
        params = SpatialPoolerParameters(
            input_size=400,
            columns=512,
            active_columns=10,
            boost_strength=boost,
            duty_cycle_period=100,
            seed=9,
        )
        sp = SpatialPooler(params)
        counts = np.zeros(512)
        for step in range(600):
            out = sp.compute(inputs[step % 50])
            if step >= 300:  # after the duty cycles settled
                counts[out.indices] += 1
        return counts

    def entropy(counts):
        p = counts[counts > 0] / counts.sum()
        return -(p * np.log(p)).sum()

    none, some, strong = wins(0.0), wins(3.0), wins(10.0)
    assert entropy(none) < entropy(some) < entropy(strong)
    assert strong.std() / strong.mean() < 0.5 * none.std() / none.mean()


def test_local_inhibition_keeps_local_density():
    params = SpatialPoolerParameters(
        input_size=400, columns=600, global_inhibition=False, local_density=0.05, inhibition_radius=20,
        potential_radius=40, seed=4,
    )  # fmt: skip
    sp = SpatialPooler(params)
    rng = np.random.default_rng(3)
    for x in _inputs(rng, 5, active=80):
        out = sp.compute(x, learn=False).dense()
        # in every window of 41 columns at most round(0.05 x 41) = 2 columns beat a winner, so
        # no window holds many more than a handful of winners
        windows = np.convolve(out, np.ones(41), mode="valid")
        assert windows.max() <= 6 and out.sum() > 10


def test_save_load_and_seed_reproducibility(tmp_path):
    rng = np.random.default_rng(4)
    inputs = _inputs(rng, 20)
    p = SpatialPoolerParameters(input_size=400, columns=256, active_columns=8, boost_strength=1.0, seed=2)
    one, two = SpatialPooler(p), SpatialPooler(p)
    for x in inputs[:10]:
        assert one.compute(x) == two.compute(x)
    resumed = SpatialPooler.load(one.save(tmp_path / "sp.npz"))
    for x in inputs[10:]:
        assert one.compute(x) == resumed.compute(x)
    assert np.array_equal(one._arrays.permanence, resumed._arrays.permanence)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"active_columns": 0}, "active_columns"),
        ({"active_columns": 5000}, "active_columns"),
        ({"syn_perm_connected": 1.5}, "syn_perm_connected"),
        ({"local_density": 0.0}, "local_density"),
        ({"potential_pct": 0.0}, "potential_pct"),
        ({"boost_strength": -1.0}, "boost_strength"),
        ({"input_size": 0}, "input_size"),
    ],
)
def test_bad_parameters_name_the_field(kwargs, field):
    with pytest.raises(ValidationError, match=f"SpatialPoolerParameters.{field}"):
        SpatialPoolerParameters(**{"input_size": 100, **kwargs})


def test_input_of_the_wrong_size_is_refused():
    sp = SpatialPooler(SpatialPoolerParameters(input_size=100, columns=64, active_columns=4))
    with pytest.raises(ValidationError, match="SpatialPooler.input"):
        sp.compute(SDR(99, [1]))
    with pytest.raises(ValidationError, match="SDR.indices"):
        sp.compute(np.array([100]))


@pytest.mark.parametrize("connected", [0.2, 0.7])
def test_the_connected_table_stays_in_step_with_the_permanences(connected):
    # 0.7 rounds down in float32: a permanence equal to float32(0.7) is below the threshold in
    # float64, the precision the kernel compares in (found in review)
    params = SpatialPoolerParameters(
        input_size=400,
        columns=256,
        active_columns=8,
        syn_perm_connected=connected,
        boost_strength=1.0,
        seed=0,
    )
    sp = SpatialPooler(params)
    rng = np.random.default_rng(6)
    for step in range(60):
        expected = sp._arrays.potential & (sp._arrays.permanence.astype(np.float64) >= connected)
        assert np.array_equal(sp._arrays.connected_by_input.T.astype(bool), expected), step
        sp.compute(SDR.sample(400, 21, rng))
