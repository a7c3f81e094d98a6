"""pytest plugin: a running Prosper Voice mock for your client's tests, no set-up.

Installed with the package (``pytest11`` entry point), it adds:

* ``prosper`` — the fixture most tests want: the mock's base URL, the world
  reset to its seeded state before the test, helpers that shape the world
  (``start_call``, ``map_variables``, ``end_call``, ``add_call_log``, each
  returning the snapshot a client would see), ``advance_clock`` and the
  request journal;
* ``prosper_server`` — the session's ``MockServer`` (one per session, or per
  xdist worker, on a free loopback port);
* ``prosper_base_url`` — the URL under test (the mock, or ``--prosper-base-url``);
* the marker ``@pytest.mark.prosper_world(seed=..., live_calls=..., call_logs=...,
  file=...)`` that gives one test its own world.

Nothing starts until a test asks for one of these fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .clock import VirtualClock
from .generate import WorldRecipe
from .journal import JournalEntry
from .render import snapshot
from .server import MockServer
from .world import World

_DEFAULTS = WorldRecipe()
_OPTIONS = (
    # (name, type, default, help)
    ("seed", int, _DEFAULTS.seed, "seed of the mock's world"),
    ("live_calls", int, _DEFAULTS.live_calls, "live calls in the mock's world"),
    ("call_logs", int, _DEFAULTS.call_logs, "finished calls in the mock's world"),
    ("world", str, None, "world file to serve instead of a generated world"),
    ("base_url", str, None, "point the fixtures at this endpoint instead of the mock"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("prosper", "Prosper Voice mock (prosper-voice-mock)")
    for name, _type, default, text in _OPTIONS:
        flag = "--prosper-" + name.replace("_", "-")
        group.addoption(
            flag,
            dest=f"prosper_{name}",
            default=None,
            help=f"{text} (ini: prosper_{name}; default: {default})",
        )
        parser.addini(f"prosper_{name}", text, default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "prosper_world(seed=None, live_calls=None, call_logs=None, file=None): "
        "give this test its own Prosper mock world",
    )


def _option(config: pytest.Config, name: str) -> Any:
    typ, default = next((t, d) for n, t, d, _ in _OPTIONS if n == name)
    raw = config.getoption(f"prosper_{name}") or config.getini(f"prosper_{name}")
    if raw in (None, ""):
        return default
    try:
        return typ(raw)
    except ValueError:
        raise pytest.UsageError(f"prosper_{name} must be {typ.__name__}, got {raw!r}") from None


def _world(
    config: pytest.Config,
    seed: Any = None,
    live_calls: Any = None,
    call_logs: Any = None,
    file: Any = None,
) -> World:
    sized = seed is not None or live_calls is not None or call_logs is not None
    if file is None and not sized:
        file = _option(config, "world")
    if file is not None:
        path = Path(file)
        return World.from_file(path if path.is_absolute() else Path(config.rootpath) / path)
    return World.generate(
        WorldRecipe(
            seed=_option(config, "seed") if seed is None else seed,
            live_calls=_option(config, "live_calls") if live_calls is None else live_calls,
            call_logs=_option(config, "call_logs") if call_logs is None else call_logs,
        )
    )


@pytest.fixture(scope="session")
def prosper_server(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """The session's mock on a free loopback port (skipped with ``--prosper-base-url``)."""
    if _option(pytestconfig, "base_url"):
        pytest.skip("--prosper-base-url is set: no local mock is started")
    with MockServer(_world(pytestconfig)) as server:
        yield server


@pytest.fixture(scope="session")
def prosper_base_url(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> str:
    """Base URL of the endpoint under test: ``--prosper-base-url``, or the session's mock."""
    url = _option(pytestconfig, "base_url")
    if url:
        return str(url).rstrip("/")
    return request.getfixturevalue("prosper_server").base_url


@dataclass
class Prosper:
    """One test's view of the mock: its URL, helpers to shape the world, and the journal.

    Every helper returns the flat snapshot a client would get for that call.
    Against a real endpoint (``--prosper-base-url``) the helpers skip the test:
    the suite cannot change a real world.
    """

    base_url: str
    server: MockServer | None = None
    _world: World | None = field(default=None, repr=False)

    def url(self, path: str = "/api/v1/live-calls") -> str:
        return self.base_url + path

    @property
    def world(self) -> World:
        """The world being served (only against the mock)."""
        if self._world is None:
            pytest.skip(
                "this test changes the world, which --prosper-base-url (a real "
                "endpoint) does not allow"
            )
        return self._world

    def start_call(self, **fields: Any) -> dict[str, Any]:
        """Start a live call; given fields win, the rest is generated from the seed."""
        return snapshot("live_calls", self.world.start_call(fields))

    def map_variables(self, call_log_id: int, **variables: Any) -> dict[str, Any]:
        """Map (set or change) variables on a live call, as its flow does."""
        return snapshot("live_calls", self.world.map_variables(call_log_id, variables))

    def end_call(self, call_log_id: int, **fields: Any) -> dict[str, Any]:
        """End a live call: from now on it is found in the call logs."""
        return snapshot("call_logs", self.world.end_call(call_log_id, fields))

    def add_call_log(self, **fields: Any) -> dict[str, Any]:
        """Add a finished call; given fields win, the rest is generated."""
        return snapshot("call_logs", self.world.add_call_log(fields))

    def advance_clock(self, seconds: float) -> float:
        """Move this test's clock forward (the world switches to a virtual clock, frozen at
        the moment of the first call, for the rest of the test); returns the new time."""
        world = self.world
        if not isinstance(world.clock, VirtualClock):
            world.clock = VirtualClock(world.clock.now())
        return world.clock.advance(seconds)

    @property
    def journal(self) -> list[JournalEntry]:
        """The requests the mock answered during this test, oldest first."""
        if self.server is None:
            pytest.skip("the request journal needs the local mock, not --prosper-base-url")
        return self.server.state.journal.entries()

    def requests_for(self, **params: str) -> list[JournalEntry]:
        """Journal entries whose query parameters include all of ``params``."""
        return [e for e in self.journal if all(e.params.get(k) == v for k, v in params.items())]


@pytest.fixture
def prosper(request: pytest.FixtureRequest, prosper_base_url: str) -> Iterator[Prosper]:
    """The mock for one test: a fresh seeded world, helpers, and the journal."""
    if _option(request.config, "base_url"):
        yield Prosper(base_url=prosper_base_url)
        return
    server: MockServer = request.getfixturevalue("prosper_server")
    state = server.state
    marker = request.node.get_closest_marker("prosper_world")
    session_world = state.world
    if marker is not None:
        state.world = _marker_world(request.config, marker)
    state.world.reset()
    state.journal.clear()
    clock = state.world.clock
    try:
        yield Prosper(base_url=prosper_base_url, server=server, _world=state.world)
    finally:
        state.world.clock = clock
        state.world = session_world


_MARKER_WORLDS = pytest.StashKey[dict[tuple[Any, ...], World]]()


def _marker_world(config: pytest.Config, marker: pytest.Mark) -> World:
    """A marker's world, built once per session and reset before each use."""
    kwargs = dict(marker.kwargs)
    unknown = set(kwargs) - {"seed", "live_calls", "call_logs", "file"}
    if marker.args or unknown:
        raise pytest.UsageError(
            f"prosper_world takes keyword arguments seed, live_calls, call_logs, file; "
            f"got {marker.args or sorted(unknown)}"
        )
    cache = config.stash.setdefault(_MARKER_WORLDS, {})
    key = tuple(sorted(kwargs.items()))
    if key not in cache:
        cache[key] = _world(config, **kwargs)
    return cache[key]
