"""What uvicorn does around every request, before and after any handler runs.

An HTTP/0.9 request is refused with uvicorn's ``400``; a body that has not arrived
within the body timeout closes the connection; a client that goes away mid-request
is one log line, not a traceback and a 500 in the access log. Both end the
connection unanswered, as the ``drop`` fault does: raising ``CancelledError`` makes
aiohttp close it and log no access line.

The guard wraps each route's handler (``guarded``) rather than running as an aiohttp
middleware: an app with a middleware pays two more coroutine frames and a chain look-up
on every request, a tenth of a lookup's cost. The spec operations' handlers, the hot
path, call ``open`` and ``went_away`` inline instead of being wrapped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import NoReturn

from aiohttp import web
from aiohttp.http import HttpVersion10

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# h11's and httptools' answer to a request line without an HTTP version (HTTP/0.9),
# byte for byte as uvicorn sends it: aiohttp would run the request and answer it.
INVALID_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\n\r\nInvalid HTTP request received."
)

log = logging.getLogger("prosper_mock.access")

_TIMED_OUT = web.RequestKey("prosper_mock_body_timed_out", bool)


class ConnectionGuard:
    """The connection rules of one app: ``body_timeout`` seconds for a body to arrive."""

    def __init__(self, body_timeout: float) -> None:
        self.body_timeout = body_timeout

    def open(self, request: web.Request) -> asyncio.TimerHandle | None:
        """Before the handler: refuse HTTP/0.9 (raises ``CancelledError``), and start the
        body's timer when a body is still to come (to cancel once the handler is done)."""
        if request.version < HttpVersion10:
            transport = request.transport
            if transport is not None:
                transport.write(INVALID_REQUEST)
                transport.close()
            log.warning(
                '%s "%s %s" rejected a malformed request: 400 HTTP/0.9 (no HTTP version)',
                request.remote,
                request.method,
                request.raw_path,
            )
            raise asyncio.CancelledError
        payload = request.content
        if payload.is_eof():  # the hot path: no body
            return None
        timer = asyncio.get_running_loop().call_later(self.body_timeout, _time_out, request)
        payload.on_eof(timer.cancel)
        return timer

    def went_away(self, request: web.Request) -> NoReturn:
        """The handler's ``ConnectionResetError``: one log line, the connection ended."""
        line = request_line(request)
        payload = request.content
        received = f"{payload.total_bytes} of {request.content_length or '?'} body bytes"
        if request.get(_TIMED_OUT):
            log.warning(
                "%s body timed out after %g s (%s received): connection closed",
                line,
                self.body_timeout,
                received,
            )
        else:
            log.info("%s client went away mid-request (%s received)", line, received)
        raise asyncio.CancelledError from None

    def wrap(self, handler: Handler) -> Handler:
        """``handler`` behind the guard."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            timer = self.open(request)
            try:
                return await handler(request)
            except ConnectionResetError:
                self.went_away(request)
            finally:
                if timer is not None:
                    timer.cancel()

        return guarded


def request_line(request: web.Request) -> str:
    """``127.0.0.1 "GET /path?query HTTP/1.1"``: how the log names a request no access
    line will (aiohttp logs none for a connection ended unanswered)."""
    v = request.version
    return f'{request.remote} "{request.method} {request.raw_path} HTTP/{v[0]}.{v[1]}"'


def log_dropped(request: web.Request, why: str) -> None:
    """One line for a request whose connection is closed unanswered on purpose (``why``)."""
    log.info("%s %s: connection closed unanswered", request_line(request), why)


GUARD = web.AppKey("prosper_mock_guard", ConnectionGuard)


def guarded(app: web.Application, handler: Handler) -> Handler:
    """``handler`` behind ``app``'s guard: every route of a mock app is registered so."""
    return app[GUARD].wrap(handler)


def _time_out(request: web.Request) -> None:
    # Closing the connection makes a handler's pending read raise ConnectionResetError.
    request[_TIMED_OUT] = True
    if request.transport is not None:
        request.transport.close()
