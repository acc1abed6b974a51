"""Hypothesis strategies for hostile input: what a TOML file or a careless caller can hand us.

Each value is either plausible (so the constructors get past their first check) or nasty:
ragged lists, integers of hundreds of digits, bools where numbers go, NaN and infinities,
strings and tables where names go, huge sizes, odd unicode, very long text.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 1e308, 1e-7, 2e-3, 0.02, -0.05, 0.5, 1.0, 20.0]),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.just(10**400),
    st.booleans(),
)
NAMES = st.one_of(
    st.sampled_from(["exc", "inh", "drive", "a", "x-1", "../etc", "", "𝒩𝓊𝓇𝑜𝓃", "a" * 101]),
    st.text(max_size=12),
    st.text(min_size=1000, max_size=1000),
)
SCALARS = st.one_of(NUMBERS, NAMES, st.none())


def _ragged(inner):
    return st.lists(st.lists(inner, max_size=3), min_size=2, max_size=3)


ARRAYS = st.one_of(
    st.lists(NUMBERS, max_size=6),
    _ragged(NUMBERS),
    st.lists(st.lists(st.floats(-1, 1), min_size=3, max_size=3), min_size=1, max_size=4),
    st.builds(lambda n: np.zeros(n), st.integers(0, 5)),
    st.builds(lambda n: np.ones((n, 2), dtype=bool), st.integers(0, 3)),
    st.just(np.array(["a", "b"])),
)
ANY = st.recursive(
    st.one_of(SCALARS, ARRAYS),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
SIZES = st.one_of(st.integers(1, 8), st.sampled_from([0, -1, 10**12, 3 * 10**9, 10**25, 10**400]), NUMBERS)


def kwargs_for(defaults: dict) -> st.SearchStrategy[dict]:
    """Keyword arguments: each field valid (its default) or replaced by something hostile."""
    return st.fixed_dictionaries(
        {},
        optional={key: st.one_of(st.just(value), ANY, SIZES) for key, value in defaults.items()},
    ).map(lambda changed: {**defaults, **changed})


def finite_or_none(value) -> bool:
    return value is None or (isinstance(value, float) and math.isfinite(value))
