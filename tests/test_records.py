"""Rows from JSON are validated: unknown fields, wrong types and naive times are refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from prosper_mock.records import call_log_from_dict, live_call_from_dict, to_dict

LIVE = {"call_log_id": 1, "user_phone_number": "+1", "started_at": "2026-01-01T00:00:00+00:00"}


def test_round_trip_keeps_field_order() -> None:
    call = live_call_from_dict(LIVE)
    assert list(to_dict(call))[:3] == ["call_log_id", "user_phone_number", "started_at"]
    assert live_call_from_dict(to_dict(call)) == call


@pytest.mark.parametrize(
    "bad",
    [
        {**LIVE, "extra": 1},
        {**LIVE, "call_log_id": "x"},
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
