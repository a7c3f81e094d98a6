"""The mock's whole app (the vendored API and its control API), and what runs it.

``create_app`` assembles the API app (``serving``) with the control routes
(``control``): this layer sits above both. ``serve`` runs it as ``prosper-mock
serve`` does (``ServeOptions``: one process, or forked workers). ``MockServer`` runs an app on a
loopback port in a background thread (``serving.runner.InThread``), on a free port chosen by
the OS.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from prosper_mock.base.version import __version__
from prosper_mock.control.bodies import PREFIX as CONTROL_PREFIX
from prosper_mock.control.dashboard import dashboard_url
from prosper_mock.control.routes import add_control_routes
from prosper_mock.serving.app import create_api_app
from prosper_mock.serving.eventloop import run as run_loop
from prosper_mock.serving.faults import parse_rules
from prosper_mock.serving.journal import DEFAULT_MAX_BYTES, Journal
from prosper_mock.serving.limits import DEFAULT_BODY_TIMEOUT
from prosper_mock.serving.operations import Implementation
from prosper_mock.serving.runner import InThread, Listening, base_url
from prosper_mock.serving.runtime import (
    Worker,
    configure_logging,
    follow_clock,
    free_port,
    run_workers,
    serve_until_signalled,
    tick_simulation,
)
from prosper_mock.serving.semantics import Semantics
from prosper_mock.serving.sharing import Sharing
from prosper_mock.serving.state import MockState, state_of
from prosper_mock.serving.webhooks import DEFAULT_TIMEOUT as WEBHOOK_TIMEOUT
from prosper_mock.serving.webhooks import deliver_webhooks
from prosper_mock.world.clock import VirtualClock
from prosper_mock.world.errors import StoreUnavailable
from prosper_mock.world.model import World
from prosper_mock.world.persistence import StateFile
from prosper_mock.world.seeding import seed_store
from prosper_mock.world.simulation import Simulation
from prosper_mock.world.storage.address import StoreAddress
from prosper_mock.world.storage.base import Section
from prosper_mock.world.webhooks import shown_url


def create_app(
    world: World | None = None,
    *,
    semantics: Semantics | None = None,
    spec_path: str | Path | None = None,
    journal: Journal | None = None,
    control: bool = True,
    control_token: str | None = None,
    control_allow_origins: Iterable[str] = (),
    control_allow_hosts: Iterable[str] = (),
    control_max_world_bytes: int | None = None,
    operations: Mapping[str, Implementation] | None = None,
    api_key: tuple[str, str] | None = None,
    read_only: bool = False,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    store: StoreAddress | None = None,
    webhook_url: str | None = None,
    webhook_timeout: float = WEBHOOK_TIMEOUT,
) -> web.Application:
    """Build the mock app for ``world`` (a default seeded world if omitted).

    ``control`` adds the control API under ``/__mock`` (loopback clients only,
    unless ``control_token`` is set; ``control_allow_origins`` are web origins
    whose pages may drive it, ``control_allow_hosts`` ``Host`` names accepted
    besides the mock's own address, ``control_max_world_bytes`` the size limit of
    ``PUT /__mock/world``: see ``add_control_routes``). ``operations``
    replaces implementations by operationId (tests use it to build deliberately
    broken servers). ``body_timeout``: seconds a request's body may take to arrive.
    ``webhook_url``: where every campaign's target-finished webhook goes unless the control
    API gives it its own; ``webhook_timeout``: seconds one delivery may take. ``store``: share
    the world (and the journal, fault rules, stubs, snapshots) with every other process on
    that Redis namespace; the app catches up with it when it starts, before it serves
    (``StoreUnavailable`` if it cannot).
    """
    more_routes: list[Callable[[web.Application], None]] = []
    if control:
        limit = (
            {} if control_max_world_bytes is None else {"max_world_bytes": control_max_world_bytes}
        )

        def add_control(app: web.Application) -> None:
            add_control_routes(
                app,
                token=control_token,
                allow_origins=control_allow_origins,
                allow_hosts=control_allow_hosts,
                **limit,
            )

        more_routes.append(add_control)
    app = create_api_app(
        world,
        semantics=semantics,
        spec_path=spec_path,
        journal=journal,
        operations=operations,
        api_key=api_key,
        read_only=read_only,
        body_timeout=body_timeout,
        more_routes=more_routes,
    )
    follow_clock(app)
    state_of(app).world.webhooks.default_url = webhook_url
    deliver_webhooks(app, webhook_timeout)
    if store is not None:
        _share(app, store)
    return app


def _share(app: web.Application, store: StoreAddress) -> None:
    state = state_of(app)
    sharing = Sharing(state, store)
    state.share(sharing)

    async def start(app: web.Application) -> None:
        await sharing.start()

    async def stop(app: web.Application) -> None:
        await sharing.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


class MockServer:
    """A mock served on ``host:port`` (port 0: a free one) from a background thread.

    >>> with MockServer() as server:
    ...     requests.get(server.url("/api/v1/live-calls"), params={"call_log_id": 1250})
    """

    def __init__(
        self,
        world: World | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        app_factory: Callable[..., web.Application] = create_app,
        **app_options: Any,
    ) -> None:
        self.host = host
        self.app = app_factory(world, **app_options)
        self._served = InThread(self.app, host, port, "prosper-mock", reuse_address=True)

    @property
    def state(self) -> MockState:
        return state_of(self.app)

    @property
    def world(self) -> World:
        return self.state.world

    @property
    def base_url(self) -> str:
        return base_url(self.host, self.port)

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    @property
    def port(self) -> int:
        """The port served (the one bound once started, when 0 was asked for)."""
        return self._served.port

    def start(self) -> MockServer:
        self._served.start()
        return self

    def stop(self) -> None:
        self._served.stop()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class ServeOptions:
    """How ``serve`` runs the mock (``prosper-mock serve`` builds one from its flags).

    ``api_key`` is ``(header, key)``; ``api_key_env`` the variable it came from,
    named (never the key shown) in the start-up ``curl`` hint. ``simulate_rate``:
    simulated calls a minute (``None``: no simulation; ``seed`` seeds it).
    ``world_source`` describes the world in the banner, e.g. ``(seed 7)``. ``log_control``:
    log the control API's reads too (by default only its writes and refusals are logged).
    """

    host: str = "127.0.0.1"
    port: int = 0
    workers: int = 1
    quiet: bool = False
    log_control: bool = False
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    semantics: Semantics = field(default_factory=Semantics)
    control: bool = True
    control_token: str | None = field(default=None, repr=False)
    control_allow_origins: tuple[str, ...] = ()
    control_allow_hosts: tuple[str, ...] = ()
    control_max_world_bytes: int | None = None
    journal_max_bytes: int = DEFAULT_MAX_BYTES
    api_key: tuple[str, str] | None = field(default=None, repr=False)
    api_key_env: str | None = None
    virtual_clock: bool = False
    clock_start: str | None = None  # ISO-8601; None: the world's anchor
    simulate_rate: float | None = None
    seed: int = 0
    state_file: Path | None = None
    world_source: str = ""
    store: StoreAddress | None = None  # None: the in-memory store
    webhook_url: str | None = None
    webhook_timeout: float = WEBHOOK_TIMEOUT


def app_for(world: World, options: ServeOptions, read_only: bool = False) -> web.Application:
    """The application ``serve`` runs for ``world`` with ``options`` (one worker's when
    ``read_only``), without serving it."""
    return create_app(
        world,
        semantics=options.semantics,
        control=options.control,
        control_token=options.control_token,
        control_allow_origins=options.control_allow_origins,
        control_allow_hosts=options.control_allow_hosts,
        control_max_world_bytes=options.control_max_world_bytes,
        api_key=options.api_key,
        read_only=read_only,
        journal=Journal(max_bytes=options.journal_max_bytes),
        body_timeout=options.body_timeout,
        webhook_url=options.webhook_url,
        webhook_timeout=options.webhook_timeout,
        store=options.store,
    )


def keep_in(state_file: StateFile, state: MockState) -> None:
    """Store ``state``'s stubs and fault rules in ``state_file`` beside its world, loading
    what a previous run left there; ``StateFileError`` if that does not load."""
    _add_sections(state_file, state)
    state.store_with(state_file.store_sections)


def _add_sections(state_file: StateFile, state: MockState) -> None:
    state_file.add_section(
        Section("stubs", state.stubs.to_list, lambda data: state.stubs.load(data, state.spec))
    )
    state_file.add_section(
        Section("faults", state.faults.saved, lambda data: state.set_fault_rules(parse_rules(data)))
    )


def copy_to(state_file: StateFile, app: web.Application) -> None:
    """Keep ``state_file`` a copy of ``app``'s shared world (``seeding``), from when the app
    has caught up with the store: its rows, clock, stubs, fault rules and simulation, after
    every change, whichever process made it."""
    state = state_of(app)
    _add_sections(state_file, state)
    state_file.simulation = state.simulation

    async def attach(app: web.Application) -> None:
        state_file.attach(state.world, vetoes=False)

    app.on_startup.append(attach)  # after the sharing's start: the world is the shared one


def serve(world: World, options: ServeOptions) -> int:
    """Serve ``world`` until SIGINT/SIGTERM; the exit status (0: stopped by a signal).

    With ``workers`` over 1, that many forked processes share the port, each with
    a copy of ``world``: read-only on the in-memory store, kept equal through the log
    on a shared ``store``. With a shared ``store`` and a ``state_file``, the file seeds a
    namespace that holds no world yet (``seeding``), and the first worker keeps it a copy.
    """
    if options.store is not None and options.state_file is not None:
        seeded = seed_store(world, options.store, options.state_file, options.virtual_clock)
        source = options.world_source + seeded.describe(options.state_file)
        options = replace(options, world_source=source)
    if options.workers > 1:
        port = options.port or free_port(options.host)
        shared = replace(options, port=port)
        return run_workers(options.workers, lambda worker: _serve_one(world, shared, worker))
    _serve_one(world, options, None)
    return 0


def _serve_one(world: World, options: ServeOptions, worker: Worker | None) -> None:
    if options.virtual_clock:
        world.clock = VirtualClock(options.clock_start or world.origin["recipe"]["anchor"])
    restored = False
    state_file = None
    shared = options.store is not None
    first = worker is None or worker.index == 0
    # On a shared store the file is a copy, kept by the first worker (the store seeded from it).
    if options.state_file is not None and (first or not shared):
        state_file = StateFile(options.state_file)
        restored = not shared and state_file.restore(world)
    app = app_for(world, options, read_only=worker is not None and not shared)
    if options.simulate_rate is not None:
        simulation = Simulation(world, options.seed, options.simulate_rate, world.clock.now())
        if state_file is not None and not shared:
            state_file.resume(simulation)
            state_file.simulation = simulation
        tick_simulation(app, simulation)
    if state_file is not None and shared:
        copy_to(state_file, app)
    elif state_file is not None:
        keep_in(state_file, state_of(app))
        state_file.attach(world)
    configure_logging(options.quiet, None if options.log_control else CONTROL_PREFIX)
    if restored and world.loaded is not None:  # the state's base replaced the start-up world
        source = f"from a world loaded through the control API, restored from {options.state_file}"
    else:
        source = options.world_source
        source += f"; changes restored from {options.state_file}" if restored else ""
    if options.store is not None:
        source += f"; shared on {options.store.shown} (namespace {options.store.namespace})"

    def started(listening: Listening) -> None:
        if worker is not None and worker.index != 0:
            return  # one banner for all the workers
        stats = world.stats()  # after a shared world caught up
        banner = (
            f"prosper-mock {__version__}: {stats['live_calls']} live calls, "
            f"{stats['call_logs']} call logs {source}"
        )
        example = next(iter(world.live_calls), None) or next(iter(world.call_logs), None)
        campaign = next(iter(world.campaigns()), None)
        base = base_url(options.host, listening.port)
        workers = f" with {worker.count} workers" if worker is not None else ""
        lines = [banner, f"serving on {base}{workers}  (Ctrl-C to stop)"]
        if options.control:  # the token is never shown: the page takes it from the fragment
            token = "  (append #token=<the control token>)" if options.control_token else ""
            lines.append(f"dashboard: {dashboard_url(base)}{token}")
        if options.webhook_url is not None:
            hook = shown_url(options.webhook_url)
            lines.append(f"webhooks: POSTed to {hook} (a campaign's own URL wins)")
        # The key is named, never shown: the shell fills it in from the environment.
        key = f' -H "{options.api_key[0]}: ${options.api_key_env}"' if options.api_key else ""
        if example is not None:
            url = f"{base}/api/v1/live-calls?call_log_id={example.call_log_id}"
            lines.append(f"try: curl{key} '{url}'")
        if campaign is not None:
            targets = f"{base}/api/v1/campaigns/{campaign.id}/targets"
            lines.append(f"     curl{key} '{targets}'  ({campaign.name})")
        print("\n".join(lines), file=sys.stderr, flush=True)

    try:
        run_loop(
            serve_until_signalled(
                app,
                options.host,
                options.port,
                quiet=options.quiet,
                on_started=started,
                worker=worker,
            )
        )
    except StoreUnavailable as exc:  # at start: the shared world could not be caught up with
        print(f"prosper-mock: error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
