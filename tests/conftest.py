"""Shared fixtures for the kit's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from prosper_mock import MockServer, World, WorldRecipe

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_WORLD = ROOT / "fixtures" / "world.json"


@pytest.fixture
def world() -> World:
    """A small seeded world, fresh for each test."""
    return World.generate(WorldRecipe(seed=3, live_calls=10, call_logs=40))


@pytest.fixture
def server(world: World) -> Iterator[MockServer]:
    """The mock on a free loopback port, serving ``world``."""
    with MockServer(world) as running:
        yield running


@pytest.fixture
def quiet_pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    """pytester with an ini of its own, so inner sessions don't warn about unset options."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester
