"""Start an aiohttp app on a port, and stop it: the one place that binds a server.

``serve``, ``MockServer`` (through ``InThread``, an app served from a thread of its own, as
the webhook receiver is too) and the validating proxy all start their app here, so
they share the connection limits (``SERVER_OPTIONS``), the access-log format
and the graceful shutdown (in-flight requests get ``shutdown_timeout`` seconds).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any, TypedDict

from aiohttp import web

from prosper_mock.serving.eventloop import new_event_loop
from prosper_mock.serving.fastpath import fast_site

ACCESS_LOG_FORMAT = '%a "%r" %s %bB %Tfs'


class ServerOptions(TypedDict):
    """Keyword arguments of ``web.AppRunner`` (passed on to aiohttp's server)."""

    keepalive_timeout: float
    max_line_size: int
    max_field_size: int
    shutdown_timeout: float
    auto_decompress: bool


# How the server treats connections, as uvicorn (upstream's server) does: idle or
# half-sent requests are closed after 5 s (uvicorn's keep-alive timeout; aiohttp's
# default is an hour, which lets stalled clients pile up), and a request line or
# header over 16 KiB is refused with 400 (h11's limit; aiohttp's default is 8 KiB).
# A request body is handed on as sent, whatever its Content-Encoding: Starlette never
# decompresses one, so upstream reads gzip bytes as they are (and FastAPI refuses them).
SERVER_OPTIONS: ServerOptions = {
    "keepalive_timeout": 5.0,
    "max_line_size": 16 * 1024,
    "max_field_size": 16 * 1024,
    "shutdown_timeout": 30.0,
    "auto_decompress": False,
}


@dataclass(frozen=True)
class Listening:
    """An app being served: where it is bound, and how to stop it."""

    runner: web.AppRunner
    host: str  # the address bound (an IP address, even when a name was asked for)
    port: int

    @property
    def base_url(self) -> str:
        return base_url(self.host, self.port)

    async def close(self) -> None:
        """Stop accepting, let in-flight requests finish, run the app's cleanup."""
        await self.runner.cleanup()


async def start_app(
    app: web.Application,
    host: str,
    port: int,
    *,
    access_log: logging.Logger | None = None,
    reuse_port: bool = False,
    reuse_address: bool | None = None,
    options: ServerOptions | None = SERVER_OPTIONS,
    fast_path: bool = True,
) -> Listening:
    """Serve ``app`` on ``host:port`` (port 0: a free one) until ``close``.

    ``access_log``: one line per request (``ACCESS_LOG_FORMAT``), none if omitted.
    ``options``: the connection limits; ``None`` keeps aiohttp's own (a request body is
    handed on as sent either way). ``fast_path``: a
    mock app's kept answers are sent below aiohttp (``fastpath.py``; ``False``: every
    request through aiohttp). If binding fails, the app is cleaned up and the error raised.
    """
    fmt = ACCESS_LOG_FORMAT
    runner = (
        # aiohttp's limits, but a body still handed on as sent: what the server reads is
        # judged (and, by the validating proxy, forwarded) as the client sent it.
        web.AppRunner(
            app,
            handle_signals=False,
            access_log=access_log,
            access_log_format=fmt,
            auto_decompress=SERVER_OPTIONS["auto_decompress"],
        )
        if options is None
        else web.AppRunner(
            app, handle_signals=False, access_log=access_log, access_log_format=fmt, **options
        )
    )
    await runner.setup()
    try:
        site: web.BaseSite | None = None
        if fast_path and options is not None:  # the fast path keeps the options' idle timeout
            site = fast_site(
                runner,
                host,
                port,
                keepalive_timeout=options["keepalive_timeout"],
                access_log=access_log,
                access_log_format=fmt,
                reuse_address=reuse_address,
                reuse_port=reuse_port,
            )
        if site is None:
            site = web.TCPSite(
                runner, host, port, reuse_address=reuse_address, reuse_port=reuse_port
            )
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0]
    return Listening(runner, bound[0], bound[1])


def base_url(host: str, port: int) -> str:
    """``http://host:port``, an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class InThread:
    """``app`` served on ``host:port`` (port 0: a free one) from a thread of its own, with an
    event loop of its own: sync callers (requests, hypothesis, schemathesis) cannot share an
    event loop with a server, and async ones must not have the server depend on theirs.
    ``options`` are ``start_app``'s; ``port`` is the bound one once ``start`` returns."""

    def __init__(self, app: web.Application, host: str, port: int, name: str, **options: Any):
        self.app, self.host, self.port, self.name = app, host, port, name
        self.options = options
        self.loop: asyncio.AbstractEventLoop | None = None  # the thread's, while it runs
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        """Serve until ``stop``; raises what binding raised (the port taken...)."""
        if self._thread is not None:
            raise RuntimeError(f"{self.name} already started")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error

    def stop(self) -> None:
        """Stop serving (in-flight requests finish, the app is cleaned up) and join."""
        if self._thread is None or self.loop is None:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        loop = self.loop = new_event_loop()
        try:
            listening = loop.run_until_complete(
                start_app(self.app, self.host, self.port, **self.options)
            )
            self.port = listening.port
        except BaseException as exc:  # reported to start()'s caller
            self._error = exc
            loop.close()
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(listening.close())
            loop.close()
