"""TOML writer + loader: non-BMP names survive the round trip (regression)."""

import tomllib
from hypothesis import given, settings
from hypothesis import strategies as st

from snn.toml_writer import dumps


def test_non_bmp_name_round_trips():
    data = {"network": {"name": "net\U0001d400\U0001f600"}, "x": 'q"\\\n\x7f'}
    assert tomllib.loads(dumps(data)) == data


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",))))
def test_any_string_round_trips(text):
    assert tomllib.loads(dumps({"s": text, text or "k": 1})) == {"s": text, text or "k": 1}
