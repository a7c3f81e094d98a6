"""Operating hours: the first moment a call may be placed."""

from __future__ import annotations

from datetime import datetime

from prosper_mock.world.hours import intervals, next_open

NINE_TO_FIVE = {"monday": [{"start": "09:00", "end": "17:00"}], "tz": "America/New_York"}


def _at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_a_moment_inside_the_hours_stays() -> None:
    monday_noon = _at("2026-01-19T12:00:00-05:00")
    assert next_open(monday_noon, NINE_TO_FIVE) == monday_noon


def test_a_moment_before_or_after_moves_to_the_next_opening() -> None:
    assert next_open(_at("2026-01-19T07:00:00-05:00"), NINE_TO_FIVE) == _at(
        "2026-01-19T09:00:00-05:00"
    )
    assert next_open(_at("2026-01-19T17:00:00-05:00"), NINE_TO_FIVE) == _at(
        "2026-01-26T09:00:00-05:00"
    )


def test_the_default_zone_is_us_eastern() -> None:
    hours = {"monday": NINE_TO_FIVE["monday"]}
    assert next_open(_at("2026-01-19T07:00:00-05:00"), hours) == _at("2026-01-19T09:00:00-05:00")


def test_a_schedule_that_cannot_be_read_or_never_opens_puts_no_limit() -> None:
    at = _at("2026-01-19T07:00:00-05:00")
    for schedule in (None, {}, {"monday": []}, {"monday": [{"start": "9am", "end": "5pm"}]},
                     {**NINE_TO_FIVE, "tz": "Mars/Olympus"}, {"monday": "all day"}):  # fmt: skip
        assert next_open(at, schedule) == at


def test_intervals_are_read_per_weekday_sorted_and_empty_ones_dropped() -> None:
    found = intervals(
        {
            "tuesday": [{"start": "13:00", "end": "17:00"}, {"start": "08:00", "end": "12:00"}],
            "friday": [{"start": "10:00", "end": "10:00"}],
        }
    )
    assert found is not None and list(found) == [1]
    assert [str(start) for start, _ in found[1]] == ["08:00:00", "13:00:00"]
