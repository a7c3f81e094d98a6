"""Variable text forms follow PostgreSQL's ``->>``."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prosper_mock.world.textform import text_form


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("PAT-001", "PAT-001"),
        ("", ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (25.0, "25.0"),
        (1.5, "1.5"),
        (1e20, "100000000000000000000"),  # NUMERIC never prints an exponent
        (1e-7, "0.0000001"),
        ({"b": 1, "aa": [True, None]}, '{"b": 1, "aa": [true, null]}'),  # jsonb key order
        ([1, "x", {"k": "v"}], '[1, "x", {"k": "v"}]'),
    ],
)
def test_text_form_is_postgres_text(value: object, text: str) -> None:
    assert text_form(value) == text


def test_null_never_matches() -> None:
    assert text_form(None) is None


@given(st.text())
def test_strings_are_their_own_text(value: str) -> None:
    assert text_form(value) == value


@given(st.integers())
def test_integers_are_json_text(value: int) -> None:
    assert text_form(value) == json.dumps(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_has_no_exponent_and_keeps_the_value(value: float) -> None:
    text = text_form(value)
    assert "e" not in text.lower()
    assert float(text) == value
