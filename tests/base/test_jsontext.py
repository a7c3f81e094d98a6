"""Strict JSON: what Python's json accepts and JSON does not is refused, saying where."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prosper_mock.base.jsontext import JSONTextError, dumps_in_slices, loads, short

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_whatever_json_can_hold_reads_back_as_it_was(value: object) -> None:
    assert loads(json.dumps(value)) == value
    assert loads(json.dumps(value).encode()) == value


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"variables": {"y": -1e400}}', "variables.y: -1e400 is not a finite number"),
        ('{"a": [1, NaN]}', "a[1]: NaN is not a finite number"),
        ("Infinity", "Infinity is not a finite number"),
        ('{"rows": [{"id": 1, "id": 2}]}', 'rows[0]: duplicate key "id"'),
        ('{"live_calls": [], "live_calls": []}', 'duplicate key "live_calls"'),
        ('{"x": "\\ud800"}', "a string holds a lone surrogate"),
        ("[" * 100_000 + "]" * 100_000, "it is nested too deeply"),
        ('{"id": ' + "9" * 4301 + "}", "an integer has more than 4300 digits"),
    ],
)
def test_what_json_refuses_is_refused_naming_where(text: str, says: str) -> None:
    with pytest.raises(JSONTextError) as refused:
        loads(text)
    assert str(refused.value).startswith(says)


def test_text_that_is_not_json_is_a_decode_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads("{nope")
    with pytest.raises(UnicodeDecodeError):
        loads(b"\xff")


def test_a_paired_surrogate_escape_is_a_character_not_a_refusal() -> None:
    assert loads('"\\ud83d\\ude00"') == "\U0001f600"


def test_short_keeps_a_message_to_one_short_line() -> None:
    assert short({"a": 1}) == '{"a":1}'
    cut = short(list(range(1000)), 40)
    assert len(cut) == 40 and cut.endswith("...")


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.text(max_size=3), inner, max_size=6)
        | st.dictionaries(st.integers(), inner, max_size=3)
    ),
    max_leaves=40,
)


@given(ANY_JSON, st.sampled_from([{}, {"separators": (",", ":")}]))
def test_dumps_in_slices_is_json_dumps_text_for_text(value: Any, options: dict[str, Any]) -> None:
    expected = json.dumps(value, ensure_ascii=False, **options)
    assert dumps_in_slices(value, items=2, ensure_ascii=False, **options) == expected


def test_a_large_object_is_encoded_a_slice_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = json.dumps

    def counted(value: Any, **options: Any) -> str:
        text = real(value, **options)
        calls.append(text)
        return text

    monkeypatch.setattr("prosper_mock.base.jsontext.json.dumps", counted)
    change = {"whole": False, "document": {"call_logs": {str(i): {"n": i} for i in range(2500)}}}
    assert dumps_in_slices(change, items=1000) == real(change)
    assert max(len(c) for c in calls) < len(real(change)) / 2  # never the whole at once
