"""Validation errors as one line: the path to each value, then what is wrong with it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from prosper_mock.base.problems import location, one_line


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: int
    items: list[int] = []


def _errors(data: Any) -> list[Any]:
    with pytest.raises(ValidationError) as info:
        _Row.model_validate(data)
    return info.value.errors(include_url=False)


def test_paths_read_with_dots_or_brackets_and_an_empty_one_is_the_root() -> None:
    assert location(("query", "ids", 0)) == "query.ids.0"
    assert location(("variables", "y"), "live_calls[3]") == "live_calls[3].variables.y"
    assert location(("items", 2), "row", brackets=True) == "row.items[2]"
    assert location((), "") == "(root)" and location((), "body") == "body"


def test_a_key_no_text_can_hold_reads_as_its_escape() -> None:
    """A lone surrogate key (JSON's ``"\\ud800"``) is named so that the message can be sent."""
    where = location(("\ud800", "é", 0), "input_data", brackets=True)
    assert where == 'input_data."\\ud800".é[0]'
    where.encode("utf-8")


def test_every_error_is_shown_unless_limited_and_the_rest_counted() -> None:
    errors = _errors({"a": "x", "items": ["p", "q", "r"], "extra": 1})
    assert len(errors) == 5
    assert one_line(errors, "w", brackets=True) == (
        "w.a: Input should be a valid integer, unable to parse string as an integer; "
        "w.items[0]: Input should be a valid integer, unable to parse string as an integer; "
        "w.items[1]: Input should be a valid integer, unable to parse string as an integer; "
        "w.items[2]: Input should be a valid integer, unable to parse string as an integer; "
        "w.extra: Extra inputs are not permitted"
    )
    limited = one_line(errors, "body", limit=1, count_rest=True)
    assert limited == (
        "body.a: Input should be a valid integer, unable to parse string as an integer (and 4 more)"
    )
    assert one_line(errors[-1:], messages={"extra_forbidden": "unknown key"}) == (
        "extra: unknown key"
    )
    assert one_line(errors, limit=1) == limited.removeprefix("body.").removesuffix(" (and 4 more)")
