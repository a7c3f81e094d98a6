"""The mock's whole app (the vendored API and its control API), and MockServer.

``create_app`` assembles the API app (``serving``) with the control routes
(``control``): this layer sits above both. ``MockServer`` runs an app on a
loopback port in a background thread: sync tests (requests, hypothesis,
schemathesis) cannot share an event loop with the server, and async tests must
not have the server depend on theirs, so the server gets its own thread and
loop, and a free port chosen by the OS.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from prosper_mock.control.routes import add_control_routes
from prosper_mock.serving.app import DEFAULT_BODY_TIMEOUT, SERVER_OPTIONS, create_api_app
from prosper_mock.serving.journal import Journal
from prosper_mock.serving.operations import Implementation
from prosper_mock.serving.semantics import Semantics
from prosper_mock.serving.state import MockState, state_of
from prosper_mock.world.model import World


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
) -> web.Application:
    """Build the mock app for ``world`` (a default seeded world if omitted).

    ``control`` adds the control API under ``/__mock`` (loopback clients only,
    unless ``control_token`` is set; ``control_allow_origins`` are web origins
    whose pages may drive it, ``control_allow_hosts`` ``Host`` names accepted
    besides the mock's own address, ``control_max_world_bytes`` the size limit of
    ``PUT /__mock/world``: see ``add_control_routes``). ``operations``
    replaces implementations by operationId (tests use it to build deliberately
    broken servers). ``body_timeout``: seconds a request's body may take to arrive.
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
    return create_api_app(
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
        self.port = port
        self.app = app_factory(world, **app_options)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def state(self) -> MockState:
        return state_of(self.app)

    @property
    def world(self) -> World:
        return self.state.world

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def start(self) -> MockServer:
        if self._thread is not None:
            raise RuntimeError("server already started")
        self._thread = threading.Thread(target=self._run, name="prosper-mock", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        runner = web.AppRunner(self.app, handle_signals=False, access_log=None, **SERVER_OPTIONS)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
            loop.run_until_complete(site.start())
            self.port = runner.addresses[0][1]
        except BaseException as exc:  # reported to start()'s caller
            self._error = exc
            loop.run_until_complete(runner.cleanup())
            loop.close()
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()
