"""Clocks: the real one, and a virtual one that only moves forward when told."""

from __future__ import annotations

import time

import pytest

from prosper_mock import SystemClock, VirtualClock


def test_system_clock_is_wall_time() -> None:
    assert abs(SystemClock().now() - time.time()) < 5


def test_virtual_clock_moves_only_when_told_and_never_back() -> None:
    clock = VirtualClock("2026-01-15T15:00:00+00:00")
    start = clock.now()
    assert clock.now() == start
    assert clock.advance(90) == start + 90
    assert clock.set("2026-01-15T16:00:00+00:00") == start + 3600
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="does not go back"):
        clock.set("2026-01-15T15:30:00+00:00")
    assert clock.now() == start + 3600


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), 1e300])
def test_virtual_clock_refuses_times_it_could_not_write(seconds: float) -> None:
    clock = VirtualClock("2026-01-15T15:00:00+00:00")
    with pytest.raises(ValueError):
        clock.advance(seconds)
    with pytest.raises(ValueError, match="year 9000"):
        clock.set("9999-12-31T00:00:00+00:00")
    assert clock.now() == VirtualClock("2026-01-15T15:00:00+00:00").now()  # unmoved


def test_virtual_clock_start_needs_an_offset() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        VirtualClock("2026-01-15T15:00:00")
