"""The aiohttp application, generated from the OpenAPI document.

At start-up every operation of the spec becomes one route, bound to its
handler by ``operationId``, with a parameter validator compiled from the spec
(``validation.py``). A request to an operation passes the steps of
``pipeline.py`` in order: API key, faults, validation, operation, journal.
Every route is behind the connection guard (``connections.py``), as uvicorn is around
every request. What FastAPI itself answers around the routes is reproduced too: ``404
{"detail":"Not Found"}`` for unknown paths, ``405 {"detail":"Method Not
Allowed"}`` with ``Allow`` for wrong methods (naming the path's first
method only, as Starlette does), and a ``307`` redirect for a path that only
differs by its trailing slash. Starlette routes the path as uvicorn decodes it, where a
``%2F`` separates segments as a ``/`` does: a request aiohttp routed otherwise (an escaped
slash in a segment) is routed again by its decoded path (``_by_decoded_path``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from urllib.parse import SplitResult, quote, unquote

from aiohttp import web

from prosper_mock.serving.connections import GUARD, ConnectionGuard, Handler, guarded
from prosper_mock.serving.faults import FaultInjector
from prosper_mock.serving.journal import Journal
from prosper_mock.serving.limits import DEFAULT_BODY_TIMEOUT
from prosper_mock.serving.operations import Implementation
from prosper_mock.serving.pipeline import DECODED_PARAMS, operation_handler, splits_a_segment
from prosper_mock.serving.render import detail_response
from prosper_mock.serving.semantics import Semantics
from prosper_mock.serving.spec import Operation, Spec, load_spec, path_pattern
from prosper_mock.serving.state import STATE, MockState, state_of
from prosper_mock.world.model import World

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
    API) before the catch-all that answers FastAPI's ``404``/``307``; they put each
    handler behind the app's connection guard themselves (``connections.guarded``).
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
    app = web.Application()
    app[STATE] = state
    guard = app[GUARD] = ConnectionGuard(body_timeout)
    app.on_cleanup.append(_close_writer)

    # FastAPI's docs route is a plain Starlette route: GET and HEAD, 405 otherwise.
    app.router.add_get("/openapi.json", guarded(app, _serve_spec(spec)))
    app.router.add_route("*", "/openapi.json", guarded(app, method_not_allowed("GET, HEAD")))
    by_path: dict[str, list[Operation]] = {}
    for op in spec.operations():
        by_path.setdefault(op.path, []).append(op)
    decoded: list[_Route] = []  # the spec's routes in order, as Starlette matches them
    known = [path_pattern(p) for p in [*by_path, "/openapi.json"]]
    reroute = _by_decoded_path(decoded, known)
    for path, ops in by_path.items():
        segments = "{" in path
        route = _any_segment(path)
        methods: dict[str, Handler] = {}
        for op in ops:
            # guarded inline, and whole segments checked, by the handler itself
            handler = operation_handler(op, state, guard, operations, reroute)
            app.router.add_route(op.method, route, handler)
            methods.setdefault(op.method.upper(), handler)
        # Starlette answers 405 from the first route matching the path: its methods alone,
        # and the spec lists a path's methods in upstream's route order.
        not_allowed = method_not_allowed(ops[0].method)
        decoded.append((path, path_pattern(path), methods, not_allowed))
        if segments:
            not_allowed = _whole_segments(not_allowed, reroute)
        app.router.add_route("*", route, guarded(app, not_allowed))

    for add in more_routes:
        add(app)

    # Registered last: everything no route above claims.
    app.router.add_route("*", "/{tail:.*}", guarded(app, reroute))
    return app


async def _close_writer(app: web.Application) -> None:
    app[STATE].writer.close()  # after the last request: no write is under way


def _serve_spec(spec: Spec) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(body=spec.raw, content_type="application/json")

    return handle


def _any_segment(template: str) -> str:
    """``template`` as an aiohttp route whose parameters take any segment.

    aiohttp's own ``{name}`` refuses ``{`` and ``}`` in a segment; Starlette's takes them.
    """
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", r"{\1:[^/]+}", template)


def _whole_segments(handler: Handler, reroute: Handler) -> Handler:
    """``reroute`` when a path parameter holds a ``/`` (``pipeline.splits_a_segment``)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if splits_a_segment(request):
            return await reroute(request)
        return await handler(request)

    return handle


def method_not_allowed(allowed: str) -> Handler:
    """FastAPI's answer to a known path asked with another method: 405 naming ``allowed``."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return detail_response(405, "Method Not Allowed", headers={"Allow": allowed})

    return handle


# A template, its pattern, its operations' handlers by method, and its 405.
_Route = tuple[str, re.Pattern[str], dict[str, Handler], Handler]


def _by_decoded_path(routes: list[_Route], known: list[re.Pattern[str]]) -> Handler:
    """Starlette's routing of the path as uvicorn decodes it, for what aiohttp did not route.

    A ``%2F`` separates segments there as a ``/`` does: ``/campaigns/c%2Ftargets`` is
    ``/campaigns/c/targets``, and ``/api-keys/a%2F`` differs from ``/api-keys/a`` by its
    trailing slash alone. The first of ``routes`` whose template matches the decoded path
    answers: its operation for the method (path parameters as decoded), else its ``405``;
    then a ``307`` to the path with its trailing slash removed (or added) when one of
    ``known`` matches that; else ``404``.
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        raw_path, _, query = request.raw_path.partition("?")
        path = unquote(raw_path)  # what uvicorn hands Starlette as scope["path"]
        for template, pattern, methods, not_allowed in routes:
            if pattern.fullmatch(path):
                pairs = zip(template.split("/"), path.split("/"), strict=True)
                request[DECODED_PARAMS] = {t[1:-1]: s for t, s in pairs if t[:1] == "{"}
                return await methods.get(request.method, not_allowed)(request)
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
