"""The control API's tests share one small world on a virtual clock, served on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prosper_mock import MockServer, VirtualClock, World, WorldRecipe


@pytest.fixture
def mock() -> Iterator[MockServer]:
    """The mock serving a seed-6 world (4 live calls, 12 call logs) at a fixed virtual time."""
    clock = VirtualClock("2026-01-15T15:00:00+00:00")
    world = World.generate(WorldRecipe(seed=6, live_calls=4, call_logs=12), clock=clock)
    with MockServer(world) as server:
        yield server
