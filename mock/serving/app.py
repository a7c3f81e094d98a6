"""The aiohttp application, generated from the OpenAPI document.

At start-up every operation of the spec becomes one route, bound to its
handler by ``operationId``, with a parameter validator compiled from the spec
(``validation.py``). A request to an operation passes the steps of
``pipeline.py`` in order: API key, faults, validation, operation, journal.
What FastAPI itself answers around the routes is reproduced too: ``404
{"detail":"Not Found"}`` for unknown paths, ``405 {"detail":"Method Not
Allowed"}`` with ``Allow`` for wrong methods (naming the path's first
method only, as Starlette does), and a ``307`` redirect for a path that only
differs by its trailing slash.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from urllib.parse import SplitResult, quote, unquote

from aiohttp import web
from aiohttp.http import HttpVersion10
from aiohttp.typedefs import Middleware

from prosper_mock.serving.faults import FaultInjector
from prosper_mock.serving.journal import Journal
from prosper_mock.serving.limits import DEFAULT_BODY_TIMEOUT
from prosper_mock.serving.operations import Implementation
from prosper_mock.serving.pipeline import Handler, operation_handler
from prosper_mock.serving.render import detail_response
from prosper_mock.serving.semantics import Semantics
from prosper_mock.serving.spec import Operation, Spec, load_spec, path_pattern
from prosper_mock.serving.state import STATE, MockState, state_of
from prosper_mock.world.model import World

# h11's and httptools' answer to a request line without an HTTP version (HTTP/0.9),
# byte for byte as uvicorn sends it: aiohttp would run the request and answer it.
INVALID_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\n\r\nInvalid HTTP request received."
)

log = logging.getLogger("prosper_mock.access")


RouteAdder = Callable[[web.Application], None]


def create_api_app(
    world: World | None = None,
    *,
    semantics: Semantics | None = None,
    spec_path: str | Path | None = None,
    journal: Journal | None = None,
    operations: Mapping[str, Implementation] | None = None,
    api_key: tuple[str, str] | None = None,
    read_only: bool = False,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    more_routes: Iterable[RouteAdder] = (),
) -> web.Application:
    """The vendored API's app for ``world`` (a default seeded world if omitted).

    ``operations`` replaces implementations by operationId (tests use it to build
    deliberately broken servers). ``body_timeout``: seconds a request's body may
    take to arrive. ``more_routes`` register routes of their own (the control
    API) before the catch-all that answers FastAPI's ``404``/``307``.
    """
    if not 0 < body_timeout < math.inf:
        raise ValueError(f"body_timeout must be a positive number of seconds, got {body_timeout}")
    spec = load_spec(spec_path)
    world = world if world is not None else World.generate()
    state = MockState(
        world=world,
        spec=spec,
        semantics=semantics or Semantics(),
        journal=journal if journal is not None else Journal(),
        api_key=api_key,
        read_only=read_only,
        # Fault rules draw from the world's seed: the same seed gives the same faults.
        faults=FaultInjector(seed=int((world.origin.get("recipe") or {}).get("seed", 0))),
    )
    app = web.Application(middlewares=[_connection_guard(body_timeout)])
    app[STATE] = state

    # FastAPI's docs route is a plain Starlette route: GET and HEAD, 405 otherwise.
    app.router.add_get("/openapi.json", _serve_spec(spec))
    app.router.add_route("*", "/openapi.json", method_not_allowed("GET, HEAD"))
    by_path: dict[str, list[Operation]] = {}
    for op in spec.operations():
        by_path.setdefault(op.path, []).append(op)
    for path, ops in by_path.items():
        segments = "{" in path
        route = _any_segment(path)
        for op in ops:
            handler = operation_handler(op, state, operations)
            app.router.add_route(
                op.method, route, _whole_segments(handler) if segments else handler
            )
        # Starlette answers 405 from the first route matching the path: its methods alone,
        # and the spec lists a path's methods in upstream's route order.
        not_allowed = method_not_allowed(ops[0].method)
        app.router.add_route("*", route, _whole_segments(not_allowed) if segments else not_allowed)

    for add in more_routes:
        add(app)

    # Registered last: everything no route above claims.
    known = [path_pattern(p) for p in [*by_path, "/openapi.json"]]
    app.router.add_route("*", "/{tail:.*}", _not_found(known))
    return app


_TIMED_OUT = web.RequestKey("prosper_mock_body_timed_out", bool)


def _connection_guard(body_timeout: float) -> Middleware:
    """What uvicorn does around every request, before and after any handler runs.

    An HTTP/0.9 request is refused with uvicorn's ``400``; a body that has not
    arrived within ``body_timeout`` seconds closes the connection; a client that
    goes away mid-request is one log line, not a traceback and a 500 in the
    access log. Both end the connection unanswered, as the ``drop`` fault does:
    raising ``CancelledError`` makes aiohttp close it and log no access line.
    """

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
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
        timer = None
        if not payload.is_eof():  # a body still to come (the hot path has none)
            timer = asyncio.get_running_loop().call_later(body_timeout, _time_out, request)
            payload.on_eof(timer.cancel)
        try:
            return await handler(request)
        except ConnectionResetError:
            v = request.version
            line = f'{request.remote} "{request.method} {request.raw_path} HTTP/{v[0]}.{v[1]}"'
            received = f"{payload.total_bytes} of {request.content_length or '?'} body bytes"
            if request.get(_TIMED_OUT):
                log.warning(
                    "%s body timed out after %g s (%s received): connection closed",
                    line,
                    body_timeout,
                    received,
                )
            else:
                log.info("%s client went away mid-request (%s received)", line, received)
            raise asyncio.CancelledError from None
        finally:
            if timer is not None:
                timer.cancel()

    return guard


def _time_out(request: web.Request) -> None:
    # Closing the connection makes a handler's pending read raise ConnectionResetError.
    request[_TIMED_OUT] = True
    if request.transport is not None:
        request.transport.close()


def _serve_spec(spec: Spec) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(body=spec.raw, content_type="application/json")

    return handle


def _any_segment(template: str) -> str:
    """``template`` as an aiohttp route whose parameters take any segment.

    aiohttp's own ``{name}`` refuses ``{`` and ``}`` in a segment; Starlette's takes them.
    """
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", r"{\1:[^/]+}", template)


def _whole_segments(handler: Handler) -> Handler:
    """``404`` when a path parameter holds a ``/`` (sent as ``%2F``).

    uvicorn decodes the path before Starlette routes it, so there ``a%2Fb`` is two
    segments and the template does not match; aiohttp matches first, then decodes.
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        if any("/" in value for value in request.match_info.values()):
            return detail_response(404, "Not Found")
        return await handler(request)

    return handle


def method_not_allowed(allowed: str) -> Handler:
    """FastAPI's answer to a known path asked with another method: 405 naming ``allowed``."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return detail_response(405, "Method Not Allowed", headers={"Allow": allowed})

    return handle


def _not_found(known: list[re.Pattern[str]]) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        raw_path, _, query = request.raw_path.partition("?")
        path = unquote(raw_path)  # what uvicorn hands Starlette as scope["path"]
        if path != "/":
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            if any(p.fullmatch(other) for p in known):
                return web.Response(
                    status=307, headers={"Location": _redirect_url(request, other, query)}
                )
        return detail_response(404, "Not Found")

    return handle


def _redirect_url(request: web.Request, path: str, query: str) -> str:
    """Starlette's redirect_slashes Location: the decoded path, quoted as RedirectResponse does."""
    path = path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    url = SplitResult(request.scheme, request.host, path, query, "").geturl()
    return quote(url, safe=":/%#?=@[]!$&'()*+,;")


__all__ = ["STATE", "MockState", "create_api_app", "state_of"]
