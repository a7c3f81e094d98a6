"""Shared fixtures for the kit's own tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from prosper_mock import MockServer, World, WorldRecipe
from tests.dists import Distributions, shared_distributions
from tests.nodeids import one_node_id_each
from tests.redisserver import RedisServer
from tests.tiers import is_slow

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_WORLD = ROOT / "fixtures" / "world.json"

# The suite never asserts a wall-clock time, so neither may hypothesis: its per-example
# deadline and its too_slow health check fail tests on a busy 2-core CI machine.
settings.register_profile("kit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kit")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that start processes or inner pytest runs ``slow`` (tests/tiers.py),
    and run them first: under xdist the long ones then start early and the many short ones
    fill the workers' last minutes, instead of one long test running alone at the end.
    Every test gets a node id of its own, so each is reported (tests/nodeids.py)."""
    one_node_id_each(items)
    for item in items:
        if item.get_closest_marker("slow") is None and is_slow(item):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable


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


@pytest.fixture(scope="session")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    """The kit's sdist and wheel, built once per run (``python -m build``, tests/dists.py)."""
    return shared_distributions(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real ``redis-server`` on a free loopback port, one per test session (per xdist
    worker): tests keep apart by namespace (``redis_namespace``)."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as running:
        yield running


@pytest.fixture
def redis_namespace(request: pytest.FixtureRequest) -> str:
    """A store namespace of this test's own on the session's Redis."""
    return "t" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
