"""pytest plugin: a running Prosper Voice mock for your client's tests, no set-up.

Installed with the package (``pytest11`` entry point), it adds:

* ``prosper`` — the fixture most tests want: the mock's base URL, the world
  reset to its seeded state before the test, helpers that shape the world
  (``start_call``, ``map_variables``, ``end_call``, ``add_call_log``, each
  returning the snapshot a client would see), ``advance_clock``, the request
  journal, ``stub`` and ``verify``, and the control client;
* ``prosper_server`` — the session's ``MockServer`` (one per session, or per
  xdist worker, on a free loopback port);
* ``prosper_base_url`` — the URL under test (the mock, or ``--prosper-base-url``);
* ``prosper_webhooks`` — a loopback receiver every campaign sends its target-finished
  webhooks to, with ``wait_for(target_id)`` (``webhookfixture.py``);
* the marker ``@pytest.mark.prosper_world(seed=..., live_calls=..., call_logs=...,
  file=...)`` that gives one test its own world.

With ``--prosper-base-url`` the fixtures point at that endpoint. When it is a
running prosper-voice-mock (``GET /__mock/health`` says so) the helpers work
through its control API; otherwise tests that change the world are skipped.

Loading the plugin costs nothing: the mock's modules are imported, and the
server started, only when a test asks for one of these fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from prosper_mock.base.upstream import LIVE_CALLS_PATH
from prosper_mock.webhookfixture import _prosper_receiver, prosper_webhooks  # noqa: F401

if TYPE_CHECKING:
    from prosper_mock.control.client import ControlClient
    from prosper_mock.control.verdicts import StubHandle
    from prosper_mock.server import MockServer
    from prosper_mock.serving.journal import JournalEntry
    from prosper_mock.world.driver import WorldDriver
    from prosper_mock.world.model import World

_OPTIONS = (
    # (name, type, help); an unset world option keeps WorldRecipe's default
    ("seed", int, "seed of the mock's world (default 0)"),
    ("live_calls", int, "live calls in the mock's world (default 25)"),
    ("call_logs", int, "finished calls in the mock's world (default 250)"),
    ("world", str, "world file to serve instead of a generated world"),
    ("base_url", str, "point the fixtures at this endpoint instead of a local mock"),
)
_MARKER_KEYS = ("seed", "live_calls", "call_logs", "file")
_TOKEN_ENV = "PROSPER_MOCK_CONTROL_TOKEN"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("prosper", "Prosper Voice mock (prosper-voice-mock)")
    for name, _type, text in _OPTIONS:
        group.addoption(
            "--prosper-" + name.replace("_", "-"),
            dest=f"prosper_{name}",
            default=None,
            help=f"{text}; ini: prosper_{name}",
        )
        parser.addini(f"prosper_{name}", text, default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "prosper_world(seed=None, live_calls=None, call_logs=None, file=None): "
        "give this test its own Prosper mock world",
    )


def _option(config: pytest.Config, name: str) -> Any:
    """The command line's value, else the ini file's, else ``None``."""
    typ = next(t for n, t, _ in _OPTIONS if n == name)
    raw = config.getoption(f"prosper_{name}") or config.getini(f"prosper_{name}")
    if raw in (None, ""):
        return None
    try:
        return typ(raw)
    except ValueError:
        raise pytest.UsageError(f"prosper_{name} must be {typ.__name__}, got {raw!r}") from None


def _world(config: pytest.Config, **chosen: Any) -> World:
    """The world a marker (``chosen``) or else the options describe."""
    from prosper_mock.world.generate import WorldRecipe
    from prosper_mock.world.model import World

    file = chosen.pop("file", None)
    sizes = {k: v for k, v in chosen.items() if v is not None}
    if file is None and not sizes:
        file = _option(config, "world")
    if file is not None:
        path = Path(file)
        return World.from_file(path if path.is_absolute() else Path(config.rootpath) / path)
    for name in ("seed", "live_calls", "call_logs"):
        if name not in sizes and _option(config, name) is not None:
            sizes[name] = _option(config, name)
    return World.generate(WorldRecipe(**sizes))


@pytest.fixture(scope="session")
def prosper_server(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """The session's mock on a free loopback port (skipped with ``--prosper-base-url``)."""
    if _option(pytestconfig, "base_url"):
        pytest.skip("--prosper-base-url is set: no local mock is started")
    from prosper_mock.server import MockServer

    with MockServer(_world(pytestconfig)) as server:
        yield server


@pytest.fixture(scope="session")
def prosper_base_url(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> str:
    """Base URL of the endpoint under test: ``--prosper-base-url``, or the session's mock."""
    url = _option(pytestconfig, "base_url")
    if url:
        return str(url).rstrip("/")
    server: MockServer = request.getfixturevalue("prosper_server")
    return server.base_url


@dataclass(frozen=True)
class _Remote:
    """What ``--prosper-base-url`` turned out to be: a mock to drive, or read-only."""

    control: ControlClient | None
    read_only_reason: str = ""
    journal_reason: str = "the request journal needs a mock, not a real endpoint"


@pytest.fixture(scope="session")
def _prosper_remote(pytestconfig: pytest.Config, prosper_base_url: str) -> _Remote:
    from prosper_mock.control.client import ControlClient

    token_env = getattr(pytestconfig.option, "prosper_control_token_env", None) or _TOKEN_ENV
    control = ControlClient(prosper_base_url, token=os.environ.get(token_env), timeout=5.0)
    if not control.is_mock():
        return _Remote(
            None,
            f"this test changes the world, which --prosper-base-url ({prosper_base_url}, "
            "a real endpoint: GET /__mock/health does not answer as prosper-voice-mock) "
            "does not allow",
        )
    # From this session's config, not PYTEST_XDIST_WORKER_COUNT: a pytest run nested
    # inside an xdist worker (pytester) inherits the variable but is not a worker.
    workerinput = getattr(pytestconfig, "workerinput", None) or {}
    workers = int(workerinput.get("workercount", 1))
    if workers > 1:
        # Every worker would reset the one remote world under the others' feet.
        shared = (
            f"the mock at {prosper_base_url}, which {workers} xdist workers share: "
            "run with -n 0 (or without --prosper-base-url)"
        )
        return _Remote(
            None,
            f"this test changes the world of {shared}",
            f"this test reads the request journal (the other workers' requests too) of {shared}",
        )
    return _Remote(control)


@dataclass
class Prosper:
    """One test's view of the mock: its URL, helpers to shape the world, and the journal.

    Every helper returns the flat snapshot a client would get for that call and
    raises ``WorldError`` for a change the world refuses (``UnknownCall``, ``CallConflict``,
    ``InvalidChange``: the same class for a local or a running mock). The
    helpers go through ``driver``, a ``WorldDriver``: the local mock's
    ``LocalDriver``, or, against a running mock at ``--prosper-base-url``, a
    ``RemoteDriver`` over its control API; against any other endpoint there is
    none, and they skip the test.
    """

    base_url: str
    """The URL under test, without a trailing slash: the session's mock, or
    ``--prosper-base-url``."""
    server: MockServer | None = None
    """The session's ``MockServer`` (``None`` with ``--prosper-base-url``)."""
    driver: WorldDriver | None = field(default=None, repr=False)
    """The ``WorldDriver`` the helpers go through (``None`` against an endpoint that is
    not a prosper-voice-mock)."""
    _world: World | None = field(default=None, repr=False)
    _control: ControlClient | None = field(default=None, repr=False)
    # The journal's entries since the test began (the fixture knows where they are kept).
    _read_journal: Callable[[], list[JournalEntry]] | None = field(default=None, repr=False)
    # What a test that moves a system clock gets: the local world switches to a virtual
    # clock; a running mock cannot, and the test is skipped.
    _on_system_clock: Callable[[], None] | None = field(default=None, repr=False)
    _read_only_reason: str = field(default="", repr=False)
    _journal_reason: str = field(default="", repr=False)
    _control_used: bool = field(default=False, repr=False)

    def url(self, path: str = LIVE_CALLS_PATH) -> str:
        """``base_url`` followed by ``path`` (by default the live-call lookup's)."""
        return self.base_url + path

    @property
    def world(self) -> World:
        """The local mock's ``World`` (skips the test with ``--prosper-base-url``)."""
        if self._world is None:
            self._skip_unless_changeable()
            pytest.skip(
                "prosper.world is the local mock's World: against --prosper-base-url "
                "use the helpers or prosper.control"
            )
        return self._world

    @property
    def control(self) -> ControlClient:
        """A ``ControlClient`` for the mock under test (faults, clock, world file...).

        Faults set through it are cleared after the test.
        """
        self._skip_unless_changeable()
        if self._control is None:
            from prosper_mock.control.client import ControlClient

            self._control = ControlClient(self.base_url)
        self._control_used = True
        return self._control

    def start_call(self, **fields: Any) -> dict[str, Any]:
        """Start a live call; given fields win, the rest is generated from the seed."""
        return self._driver().start_call(**fields)["snapshot"]

    def map_variables(self, call_log_id: int, **variables: Any) -> dict[str, Any]:
        """Map (set or change) variables on a live call, as its flow does."""
        return self._driver().map_variables(call_log_id, **variables)["snapshot"]

    def end_call(self, call_log_id: int, keep_live: bool = False, **fields: Any) -> dict[str, Any]:
        """End a live call: from now on it is found in the call logs.

        ``keep_live`` leaves its live row in place too, as upstream does for a moment.
        """
        return self._driver().end_call(call_log_id, keep_live=keep_live, **fields)["snapshot"]

    def add_call_log(self, **fields: Any) -> dict[str, Any]:
        """Add a finished call; given fields win, the rest is generated."""
        return self._driver().add_call_log(**fields)["snapshot"]

    def campaigns(self) -> list[dict[str, Any]]:
        """The world's campaigns, each a dict: ``id``, ``name``, ``flow_id``, ``kind`` (of target:
        ``patient``, ``payor``, ``provider``), the ``variables`` its flow takes."""
        return self._driver().campaigns()

    def add_targets(
        self,
        campaign_id: str,
        *targets: dict[str, Any],
        launch: bool = False,
        allow_duplicates: bool = True,
    ) -> dict[str, Any]:
        """Add targets to a campaign, and with ``launch`` call them at once.

        Each target is a ``TargetInput`` object as the API takes it (``phone_number``, and
        ``patient``, ``payor`` or ``provider`` details). Returns what
        ``POST /api/v1/campaigns/{id}/targets`` answers: ``targets`` (each with its ``id``),
        ``call_log_ids`` (the calls ``launch`` placed) and ``ignored_external_ids`` (with
        ``allow_duplicates=False``, the external ids the campaign already has).
        """
        return self._driver().add_targets(
            campaign_id, list(targets), launch=launch, allow_duplicates=allow_duplicates
        )

    def launch(
        self,
        campaign_id: str,
        *,
        target_ids: list[str] | None = None,
        count: int | None = None,
        prioritize_oldest: bool = False,
    ) -> dict[str, Any]:
        """Call a campaign's targets (``target_ids``, or ``count`` pending ones): each gets a
        live call, which maps its flow's steps and ends on the clock (1 to 10 minutes).

        Returns what ``POST /api/v1/campaigns/{id}/calls`` answers: ``launched`` (each
        ``target_id`` with its ``call_log_id``) and ``skipped``.
        """
        return self._driver().launch(
            campaign_id,
            target_ids=target_ids,
            count=count,
            prioritize_oldest=prioritize_oldest,
        )

    def target(self, target_id: str) -> dict[str, Any]:
        """A target as ``GET /api/v1/targets/{id}`` answers it: its ``status`` (``Pending``,
        ``In Progress``, then how its last call ended) follows from its calls."""
        return self._driver().target(target_id)

    def advance_clock(self, seconds: float) -> float:
        """Move this test's clock forward; returns the new time (epoch seconds).

        The local world switches to a virtual clock, frozen at the moment of the
        first call, for the rest of the test. A mock at ``--prosper-base-url`` must
        run a virtual clock (``serve --virtual-clock``); as its clock never goes
        back, the next tests find it where this one left it.
        """
        driver = self._driver()
        if driver.clock()["mode"] != "virtual":
            if self._on_system_clock is None:
                pytest.skip(
                    f"the mock at {self.base_url} runs on the system clock: start it "
                    "with --virtual-clock to move its time from a test"
                )
            self._on_system_clock()
        driver.advance_clock(seconds)
        return driver.now()

    @property
    def journal(self) -> list[JournalEntry]:
        """The requests the mock answered during this test, oldest first: each a
        ``JournalEntry`` (``.method``, ``.path``, ``.params``, ``.status``, ``.time``)."""
        if self._read_journal is None:
            pytest.skip(self._journal_reason or _Remote.journal_reason)
        return self._read_journal()

    def requests_for(self, **params: str) -> list[JournalEntry]:
        """Journal entries whose query parameters include all of ``params``."""
        from prosper_mock.serving.journal import JournalFilter

        wanted = JournalFilter(params=params)
        return [e for e in self.journal if wanted.matches(e)]

    def stub(self, **stub: Any) -> StubHandle:
        """Answer the requests ``stub`` matches with its answer instead of the world's, for
        this test (or, used as ``with prosper.stub(...):``, for the block).

        ``method`` and ``path`` (a path, or the spec's template such as
        ``/api/v1/targets/{target_id}``), optionally ``query``, ``request_body`` (a JSON
        subset), ``after`` (let that many through first), ``times``; the answer's ``status``,
        ``body``, ``headers``, ``delay``. A body the spec's response schema refuses raises
        ``ControlError`` (422) naming the path and the rule, unless ``unchecked=True``.
        """
        from prosper_mock.control.verdicts import StubHandle

        control = self.control
        return StubHandle(control, control.add_stub(**stub))

    def verify(self, **matcher: Any) -> dict[str, Any]:
        """Assert that this test's requests include those ``matcher`` describes:
        ``method``, ``path`` (or a template), ``query``, ``headers``, ``request_body``;
        ``count`` (exactly), or ``at_least``/``at_most`` (default: at least one).

        Fails with what was expected, what the journal holds and the nearest requests that
        did not match, part by part; returns the verdict when it holds.
        """
        from prosper_mock.control.verdicts import failure

        if self._read_journal is None:
            pytest.skip(self._journal_reason or _Remote.journal_reason)
        verdict = self.control.verify(**matcher)
        if not verdict["ok"]:
            raise AssertionError(failure(matcher, verdict))
        return verdict

    def _driver(self) -> WorldDriver:
        """The driver, or a skip that says why this endpoint's world cannot change."""
        if self.driver is None:
            self._skip_unless_changeable()
            pytest.skip("this test changes the world, which needs a prosper-voice-mock")
        return self.driver

    def _skip_unless_changeable(self) -> None:
        if self._read_only_reason:
            pytest.skip(self._read_only_reason)


@pytest.fixture
def prosper(request: pytest.FixtureRequest, prosper_base_url: str) -> Iterator[Prosper]:
    """The mock for one test: a fresh seeded world, helpers, and the journal."""
    marker = request.node.get_closest_marker("prosper_world")
    chosen = _marker_choice(marker) if marker is not None else None
    if _option(request.config, "base_url"):
        if chosen is not None:
            pytest.skip(
                "@pytest.mark.prosper_world gives this test its own world, which needs "
                "the local mock (not --prosper-base-url)"
            )
        remote: _Remote = request.getfixturevalue("_prosper_remote")
        if remote.control is None:
            yield Prosper(
                base_url=prosper_base_url,
                _read_only_reason=remote.read_only_reason,
                _journal_reason=remote.journal_reason,
            )
            return
        yield from _remote_prosper(prosper_base_url, remote.control)
        return
    server: MockServer = request.getfixturevalue("prosper_server")
    world = _marker_world(request.config, chosen) if chosen is not None else None
    yield from _local_prosper(prosper_base_url, server, world)


def _local_prosper(base_url: str, server: MockServer, world: World | None) -> Iterator[Prosper]:
    """A ``Prosper`` over the session's mock, serving ``world`` (else its own) for one test."""
    state = server.state
    session_world = state.swap_world(world) if world is not None else state.world
    driver = state.driver
    driver.reset()
    state.clear_journal()
    state.clear_faults()
    state.stubs.clear()
    clock = state.world.clock
    try:
        yield Prosper(
            base_url=base_url,
            server=server,
            driver=driver,
            _world=state.world,
            _read_journal=state.journal.entries,
            _on_system_clock=driver.freeze_clock,
        )
    finally:
        # Undone here, not at the next prosper test: tests without the fixture share the server.
        state.clear_faults()
        state.stubs.clear()
        state.world.clock = clock
        state.swap_world(session_world)


def _remote_prosper(base_url: str, control: ControlClient) -> Iterator[Prosper]:
    """A ``Prosper`` over a running mock's control API, its world reset for one test."""
    from prosper_mock.control.driver import RemoteDriver, ask
    from prosper_mock.serving.journal import JournalEntry

    driver = RemoteDriver(control)
    driver.reset()  # the world, its journal and its stubs

    def read_journal() -> list[JournalEntry]:
        return [JournalEntry.from_dict(e) for e in ask(control.journal)]

    view = Prosper(base_url=base_url, driver=driver, _control=control, _read_journal=read_journal)
    try:
        yield view
    finally:
        if view._control_used:  # fault rules outlive reset: the ones this test may have set
            ask(control.clear_faults)
            ask(control.clear_stubs)


_MARKER_WORLDS = pytest.StashKey[dict[tuple[Any, ...], "World"]]()


def _marker_choice(marker: pytest.Mark) -> dict[str, Any]:
    unknown = set(marker.kwargs) - set(_MARKER_KEYS)
    if marker.args or unknown:
        raise pytest.UsageError(
            f"prosper_world takes keyword arguments {', '.join(_MARKER_KEYS)}; "
            f"got {marker.args or sorted(unknown)}"
        )
    return dict(marker.kwargs)


def _marker_world(config: pytest.Config, chosen: dict[str, Any]) -> World:
    """A marker's world, built once per session and reset before each use."""
    cache = config.stash.setdefault(_MARKER_WORLDS, {})
    key = tuple(sorted(chosen.items()))
    if key not in cache:
        cache[key] = _world(config, **chosen)
    return cache[key]
