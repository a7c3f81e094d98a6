"""The control API (``/__mock/...``): change the world of a running mock over HTTP.

It answers with the same ``WorldDriver`` the pytest plugin drives in-process, so
a test suite in another process (or a CI service container) can shape the world
exactly as the plugin does. Its own OpenAPI document is served at ``/__mock/openapi.json``;
the vendored ``/openapi.json`` never mentions it.

Every operation is one ``WorldDriver`` call on the app's ``LocalDriver``
(``MockState.driver``), or a ``MockState`` method; who may call them, and what a
body must be, ``guard`` checks first; ``paging`` cuts the journal into pages.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterable
from importlib import resources
from typing import Any

from aiohttp import web

from prosper_mock.base.version import __version__
from prosper_mock.control import listings
from prosper_mock.control.bodies import (
    BODIES,
    PREFIX,
    SERVICE,
    adapter,
)
from prosper_mock.control.dashboard import add_dashboard_routes
from prosper_mock.control.guard import BodyError, BodyRule, ControlPolicy, read_body, refusal
from prosper_mock.control.paging import (
    JOURNAL_MAX_LIMIT,
    JOURNAL_PAGE_LIMIT,
    journal_page,
)
from prosper_mock.serving.app import method_not_allowed
from prosper_mock.serving.connections import guarded
from prosper_mock.serving.errors import status_of
from prosper_mock.serving.faults import FaultError, parse_rules
from prosper_mock.serving.journal import JournalFilter
from prosper_mock.serving.render import detail_response, json_response
from prosper_mock.serving.state import STATE, MockState
from prosper_mock.world.driver import CallAnswer, CallLogAnswer, ClockInfo
from prosper_mock.world.errors import InvalidChange, UnknownSnapshot, WorldError

JOURNAL_FILTERS = frozenset({"method", "path", "status", "since", "limit"})
# Snapshots taken and not yet restored, oldest first; a client that never restores (a
# contract run killed midway) leaves one behind, so only the latest few are kept.
SNAPSHOTS = web.AppKey("prosper_mock_snapshots", dict)
MAX_SNAPSHOTS = 16
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_WORLD_BYTES = 256 * 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def control_spec_bytes() -> bytes:
    return resources.files("prosper_mock.control").joinpath("openapi.json").read_bytes()


# web.RequestKey is newer than the oldest aiohttp the kit supports (3.9): a str key there.
_BODY: web.RequestKey[dict[str, Any]] | str = (
    web.RequestKey("prosper_control_body", dict)
    if hasattr(web, "RequestKey")
    else "prosper_control_body"
)


def add_control_routes(
    app: web.Application,
    token: str | None = None,
    *,
    allow_origins: Iterable[str] = (),
    allow_hosts: Iterable[str] = (),
    max_world_bytes: int = DEFAULT_MAX_WORLD_BYTES,
) -> None:
    """Register the control API on ``app`` (before its catch-all route).

    ``allow_origins`` are web origins whose pages may drive it; ``allow_hosts``
    are ``Host`` values accepted besides the mock's own address (``name`` for
    any port, or ``name:port``). ``max_world_bytes`` caps ``PUT /__mock/world``
    (other bodies: ``MAX_BODY_BYTES``). Every route must be an operation of
    ``control_openapi.json`` and every operation a route.
    """
    spec = control_spec_bytes()
    document = json.loads(spec)
    policy = ControlPolicy(
        token,
        frozenset(o.rstrip("/").lower() for o in allow_origins),
        frozenset(h.lower() for h in allow_hosts),
    )
    declared = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"  # shared by a path's operations, not one of them
    }
    routed: dict[str, list[str]] = {}

    def route(
        method: str, path: str, fn: Callable[[web.Request, MockState], Awaitable[Any]]
    ) -> None:
        operation = declared.pop((method, PREFIX + path), None)
        if operation is None:
            raise RuntimeError(f"control route {method} {PREFIX + path} is not in its spec")
        rule = None
        if "requestBody" in operation:
            kind, required = BODIES[operation["operationId"]]
            limit = max_world_bytes if operation["operationId"] == "load" else MAX_BODY_BYTES
            rule = BodyRule(adapter(kind), required, limit)
        app.router.add_route(method, PREFIX + path, guarded(app, _guarded(fn, policy, rule)))
        routed.setdefault(PREFIX + path, []).append(method)

    async def openapi(request: web.Request, state: MockState) -> web.StreamResponse:
        return web.Response(body=spec, content_type="application/json")

    route("GET", "/openapi.json", openapi)
    route("GET", "/health", _health)
    route("GET", "/live-calls", listings.latest_live_calls)
    route("POST", "/live-calls", _start_call)
    route("GET", "/live-calls/{call_log_id}", listings.live_call)
    route("PATCH", "/live-calls/{call_log_id}/variables", _map_variables)
    route("POST", "/live-calls/{call_log_id}/end", _end_call)
    route("DELETE", "/live-calls/{call_log_id}", _delete_live_call)
    route("GET", "/call-logs", listings.latest_call_logs)
    route("POST", "/call-logs", _add_call_log)
    route("GET", "/call-logs/{call_log_id}", listings.call_log)
    route("DELETE", "/call-logs/{call_log_id}", _delete_call_log)
    route("GET", "/campaigns", _campaigns)
    route("GET", "/campaigns/{campaign_id}/targets", listings.latest_targets)
    route("POST", "/reset", _reset)
    route("GET", "/world", _dump)
    route("PUT", "/world", _load)
    app[SNAPSHOTS] = {}
    route("POST", "/snapshots", _take_snapshot)
    route("POST", "/snapshots/{snapshot}/restore", _restore_snapshot)
    route("GET", "/journal", _journal)
    route("DELETE", "/journal", _clear_journal)
    route("GET", "/clock", _clock)
    route("POST", "/clock/advance", _advance_clock)
    route("PUT", "/clock", _set_clock)
    route("GET", "/faults", _faults)
    route("PUT", "/faults", _set_faults)
    route("DELETE", "/faults", _clear_faults)
    if declared:
        raise RuntimeError(f"control operations without a route: {sorted(declared)}")
    for path in add_dashboard_routes(app, policy):  # files, not operations: not in the spec
        routed[path] = ["GET", "HEAD"]
    for path, methods in routed.items():
        # As FastAPI answers a method a path does not have (app.py does the same).
        app.router.add_route("*", path, guarded(app, method_not_allowed(", ".join(methods))))


def _guarded(
    fn: Callable[[web.Request, MockState], Awaitable[Any]],
    policy: ControlPolicy,
    body: BodyRule | None = None,
) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        refused = refusal(request, policy)
        if refused is not None:
            return refused
        state = request.app[STATE]
        try:
            if body is not None:
                request[_BODY] = await read_body(request, body)
            result = await fn(request, state)
        except BodyError as exc:
            return exc.response()
        except WorldError as exc:
            return detail_response(status_of(exc), str(exc))
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result)

    return handle


def _body(request: web.Request) -> dict[str, Any]:
    """The body the guard read and validated against the operation's body type."""
    return request[_BODY]


async def _health(request: web.Request, state: MockState) -> dict[str, Any]:
    stats = state.world.stats()
    return {
        "service": SERVICE,
        "version": __version__,
        "live_calls": stats["live_calls"],
        "call_logs": stats["call_logs"],
        "world_version": stats["version"],
        "simulation": state.simulation is not None,
        "sample_ids": state.world.sample_ids(),
    }


async def _start_call(request: web.Request, state: MockState) -> web.StreamResponse:
    return json_response(state.driver.start_call(**_body(request)), 201)


async def _map_variables(request: web.Request, state: MockState) -> CallAnswer:
    call_log_id = listings.call_log_id_of(request)
    return state.driver.map_variables(call_log_id, **_body(request)["variables"])


async def _end_call(request: web.Request, state: MockState) -> CallLogAnswer:
    body = _body(request)
    keep_live = body.get("keep_live", False)
    call_log_id = listings.call_log_id_of(request)
    return state.driver.end_call(call_log_id, keep_live=keep_live, **(body.get("fields") or {}))


async def _delete_live_call(request: web.Request, state: MockState) -> web.StreamResponse:
    state.driver.delete_live_call(listings.call_log_id_of(request))
    return web.Response(status=204)


async def _add_call_log(request: web.Request, state: MockState) -> web.StreamResponse:
    return json_response(state.driver.add_call_log(**_body(request)), 201)


async def _delete_call_log(request: web.Request, state: MockState) -> web.StreamResponse:
    state.driver.delete_call_log(listings.call_log_id_of(request))
    return web.Response(status=204)


async def _campaigns(request: web.Request, state: MockState) -> dict[str, Any]:
    return {"campaigns": state.driver.campaigns()}


async def _reset(request: web.Request, state: MockState) -> dict[str, Any]:
    stats = state.driver.reset()
    state.clear_journal()
    return stats


async def _dump(request: web.Request, state: MockState) -> dict[str, Any]:
    return state.driver.dump()


async def _load(request: web.Request, state: MockState) -> dict[str, Any]:
    return state.driver.load(_body(request))


async def _take_snapshot(request: web.Request, state: MockState) -> web.StreamResponse:
    taken = request.app[SNAPSHOTS]
    while len(taken) >= MAX_SNAPSHOTS:
        del taken[next(iter(taken))]
    name = uuid.uuid4().hex
    taken[name] = (state.world.snapshot(), list(state.faults.rules))
    return json_response({"snapshot": name}, 201)


async def _restore_snapshot(request: web.Request, state: MockState) -> dict[str, Any]:
    name = request.match_info["snapshot"]
    taken = request.app[SNAPSHOTS].pop(name, None)
    if taken is None:
        raise UnknownSnapshot(f"no snapshot {name!r} (restored already, or never taken)")
    world, rules = taken
    state.set_fault_rules(rules)
    state.world.restore(world)
    return state.world.stats()


async def _journal(request: web.Request, state: MockState) -> web.StreamResponse:
    """One page of entries after ``since`` (seq), filtered by ``method``, ``path``, ``status``
    and ``param.NAME``: at most ``limit`` of them, in at most ``paging.JOURNAL_PAGE_BYTES``.

    ``next_since`` is the cursor for the next page; ``more`` says whether one has entries.
    """
    q = request.query
    unknown = sorted(k for k in q if k not in JOURNAL_FILTERS and not k.startswith("param."))
    if unknown:
        raise InvalidChange(
            f"unknown journal filters {unknown}: use method, path, status, since, limit "
            "or param.NAME",
        )
    try:
        since = int(q.get("since", 0))
        status = int(q["status"]) if "status" in q else None
    except ValueError:
        raise InvalidChange("since and status must be integers") from None
    try:
        limit = int(q.get("limit", JOURNAL_PAGE_LIMIT))
    except ValueError:
        limit = 0
    if not 1 <= limit <= JOURNAL_MAX_LIMIT:
        raise InvalidChange(f"limit must be an integer from 1 to {JOURNAL_MAX_LIMIT}")
    wanted = JournalFilter(
        method=q["method"].upper() if "method" in q else None,
        path=q.get("path"),
        status=status,
        params={k[len("param.") :]: v for k, v in q.items() if k.startswith("param.")},
    )
    body = journal_page(state.journal.entries(since), since, limit, wanted)
    return web.Response(body=body, content_type="application/json")


async def _clear_journal(request: web.Request, state: MockState) -> web.StreamResponse:
    state.clear_journal()
    return web.Response(status=204)


async def _clock(request: web.Request, state: MockState) -> ClockInfo:
    return state.driver.clock()


async def _advance_clock(request: web.Request, state: MockState) -> ClockInfo:
    return state.move_clock(_body(request)["seconds"])


async def _set_clock(request: web.Request, state: MockState) -> ClockInfo:
    return state.set_clock(_body(request)["now"])


async def _faults(request: web.Request, state: MockState) -> dict[str, Any]:
    return state.faults.to_dict()


async def _set_faults(request: web.Request, state: MockState) -> dict[str, Any]:
    try:
        rules = parse_rules(_body(request))
    except FaultError as exc:
        raise InvalidChange(str(exc)) from None
    state.set_fault_rules(rules)
    return state.faults.to_dict()


async def _clear_faults(request: web.Request, state: MockState) -> web.StreamResponse:
    state.clear_faults()
    return web.Response(status=204)
