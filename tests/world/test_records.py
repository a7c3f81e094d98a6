"""Rows from JSON are validated: unknown fields, wrong types and naive times are refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from prosper_mock.world.records import (
    MAX_CALL_ID,
    MAX_DEPTH,
    call_log_from_dict,
    json_problem,
    live_call_from_dict,
    to_dict,
)

LIVE = {"call_log_id": 1, "user_phone_number": "+1", "started_at": "2026-01-01T00:00:00+00:00"}
LOG = {"id": 1, "user_phone_number": "+1", "created_at": "2026-01-01T00:00:00+00:00"}


def test_the_largest_call_id_is_postgresqls_largest_bigint() -> None:
    assert live_call_from_dict({**LIVE, "call_log_id": MAX_CALL_ID}).call_log_id == 2**63 - 1
    assert call_log_from_dict({**LOG, "id": 0}).id == 0


def test_round_trip_keeps_field_order() -> None:
    call = live_call_from_dict(LIVE)
    assert list(to_dict(call))[:3] == ["call_log_id", "user_phone_number", "started_at"]
    assert live_call_from_dict(to_dict(call)) == call


@pytest.mark.parametrize(
    "bad",
    [
        {**LIVE, "extra": 1},
        {**LIVE, "call_log_id": "x"},
        {**LIVE, "call_log_id": "1"},  # strict: no coercion
        {**LIVE, "call_log_id": 1.0},
        {**LIVE, "call_log_id": True},
        {**LIVE, "call_log_id": -1},  # call ids: 0 .. 2**63 - 1 (kit decision 30)
        {**LIVE, "call_log_id": 2**63},
        {**LIVE, "call_log_id": int("9" * 4300)},
        {**LIVE, "user_phone_number": b"+1"},
        {**LIVE, "transcript": [{"role": 1}]},
        {k: v for k, v in LIVE.items() if k != "started_at"},
    ],
)
def test_bad_live_rows_are_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        live_call_from_dict(bad)


@pytest.mark.parametrize("when", ["2026-01-01T00:00:00", "soon"])
def test_times_need_iso_format_and_an_offset(when: str) -> None:
    with pytest.raises(ValueError):
        call_log_from_dict({"id": 1, "user_phone_number": "+1", "created_at": when})


def nested(levels: int, leaf: object = 1) -> object:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "where", "problem"),
    [
        (float("nan"), "variables.y", "finite"),
        (float("-inf"), "variables.y", "finite"),
        ([1, {"a": float("inf")}], "variables.y.1.a", "finite"),
        (nested(MAX_DEPTH - 1), "variables.y", f"more than {MAX_DEPTH} levels"),
        (nested(330), "variables.y", f"more than {MAX_DEPTH} levels"),
        ({1: "a"}, "variables.y", "keys must be strings"),
        ("\ud800", "variables.y", "lone surrogate"),
        ((1, 2), "variables.y", "tuple is not a JSON value"),
        (object(), "variables.y", "object is not a JSON value"),
        (10**5000, "variables.y", "too long"),
    ],
    ids=["nan", "-inf", "inside", "deep", "deeper", "key", "surrogate", "tuple", "object", "long"],
)
def test_values_no_answer_could_carry_are_refused_where_they_are(
    value: object, where: str, problem: str
) -> None:
    with pytest.raises(ValidationError) as info:
        live_call_from_dict({**LIVE, "variables": {"y": value}})
    (error,) = info.value.errors(include_url=False)
    assert ".".join(map(str, error["loc"])) == where
    assert problem in error["msg"]


def test_the_depth_limit_counts_the_row_as_the_first_level() -> None:
    # row (1) > variables (2) > MAX_DEPTH - 2 lists: exactly MAX_DEPTH levels.
    deepest = nested(MAX_DEPTH - 2)
    assert live_call_from_dict({**LIVE, "variables": {"y": deepest}}).variables["y"] == deepest
    with pytest.raises(ValidationError):
        call_log_from_dict(
            {**LOG, "qa": {"notes": nested(MAX_DEPTH - 1)}}  # one level more
        )


def test_json_problem_accepts_plain_json() -> None:
    assert json_problem({"a": [1, 2.5, "é", None, True, {"b": -(2**70)}]}) is None
