"""The JSON columns' text (`hubdesk.db.jsontext`): what `json` reads and writes, faster."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubdesk.db import jsontext

_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text() | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_values)
def test_reads_back_what_json_reads(value: object) -> None:
    # the same value as the standard library's text gives, whichever of the two wrote it
    ours = jsontext.dumps(value)
    assert jsontext.loads(ours) == json.loads(json.dumps(value))
    assert json.loads(ours) == json.loads(json.dumps(value))
    assert jsontext.loads(json.dumps(value)) == json.loads(json.dumps(value))


def test_integers_beyond_64_bits_read_back_exactly() -> None:
    # orjson reads them as floats without a word (found by the property test above)
    for value in (-(2**63) - 1, 2**64, [1, 10**20], {"n": -(2**63) - 1}):
        assert jsontext.loads(json.dumps(value)) == value
        assert jsontext.loads(json.dumps(value).encode()) == value
    assert jsontext.loads('"+4512345678901234567890"') == "+4512345678901234567890"


def test_what_orjson_refuses_is_written_as_json_writes_it() -> None:
    for value in ({"n": 2**70}, {"s": "lone \ud800 surrogate"}, {1: "a", "1x": 2}):
        assert jsontext.loads(jsontext.dumps(value)) == json.loads(json.dumps(value))
    assert jsontext.dumps({"n": 2**70}) == json.dumps({"n": 2**70})
    assert jsontext.dumps({"s": "lone \ud800"}) == json.dumps({"s": "lone \ud800"})


def test_numbers_json_has_no_text_for_are_null() -> None:
    # `json.dumps` wrote NaN, which is not JSON (PostgreSQL's JSONB refused it)
    assert jsontext.loads(jsontext.dumps([math.nan, math.inf, 1.5])) == [None, None, 1.5]


def test_old_text_orjson_cannot_read_is_read_by_json() -> None:
    assert math.isnan(jsontext.loads("[NaN]")[0])
    assert jsontext.loads('{"n": 1180591620717411303424}') == {"n": 2**70}


def test_a_value_neither_can_write_is_refused() -> None:
    with pytest.raises(TypeError):
        jsontext.dumps({"x": object()})
