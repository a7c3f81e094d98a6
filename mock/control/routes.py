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

import functools
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from prosper_mock.base.jsontext import dumps_in_slices
from prosper_mock.base.version import __version__
from prosper_mock.control import hooks, listings, stubbing
from prosper_mock.control.bodies import (
    BODIES,
    PREFIX,
    SERVICE,
    adapter,
)
from prosper_mock.control.dashboard import add_dashboard_routes
from prosper_mock.control.declared import HANDLERS, OPERATIONS, document, handles, render
from prosper_mock.control.guard import (
    BODY,
    BodyError,
    BodyRule,
    ControlPolicy,
    body_of,
    list_fields,
    read_body,
    refusal,
)
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
# Reads that do not touch the world: answered at once while a write changes it in the writer
# thread (``serving/writer.py``); every other read waits for that write to end.
WORLDLESS = frozenset({"control_openapi", "journal", "stubs", "stub", "faults"})
DEFAULT_MAX_WORLD_BYTES = 256 * 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@functools.cache
def control_spec_bytes() -> bytes:
    """The control API's OpenAPI document as served (made from the declarations)."""
    return render(document())


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
    (other bodies: ``MAX_BODY_BYTES``). One route per declared operation
    (``declared.OPERATIONS``), answered by the handler registered for its id.
    """
    policy = ControlPolicy(
        token,
        frozenset(o.rstrip("/").lower() for o in allow_origins),
        frozenset(h.lower() for h in allow_hosts),
    )
    stubbing.registered()  # its handlers are registered when it is imported
    hooks.registered()
    unhandled = sorted(o.operation_id for o in OPERATIONS if o.operation_id not in HANDLERS)
    if unhandled:
        raise RuntimeError(f"control operations without a handler: {unhandled}")
    app[SNAPSHOTS] = {}
    routed: dict[str, list[str]] = {}
    for declared in OPERATIONS:
        rule = None
        if declared.has_body:
            kind, required = BODIES[declared.operation_id]
            limit = max_world_bytes if declared.world_sized else MAX_BODY_BYTES
            rule = BodyRule(adapter(kind), required, limit, list_fields(kind))
        reads_world = declared.operation_id not in WORLDLESS
        handler = _guarded(HANDLERS[declared.operation_id], policy, rule, reads_world)
        path = PREFIX + declared.path
        app.router.add_route(declared.method, path, guarded(app, handler))
        routed.setdefault(path, []).append(declared.method)
    for path in add_dashboard_routes(app, policy):  # files, not operations: not in the spec
        routed[path] = ["GET", "HEAD"]
    for path, methods in routed.items():
        # As FastAPI answers a method a path does not have (app.py does the same).
        app.router.add_route("*", path, guarded(app, method_not_allowed(", ".join(methods))))


def _guarded(
    fn: Callable[[web.Request, MockState], Awaitable[Any]],
    policy: ControlPolicy,
    body: BodyRule | None = None,
    reads_world: bool = True,
) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        refused = refusal(request, policy)
        if refused is not None:
            return refused
        state = request.app[STATE]
        try:
            if body is not None:
                request[BODY] = await read_body(request, body)
            if request.method == "GET":
                if reads_world and state.writer.busy:  # a write is changing it: read it after
                    await state.writer.readable()
                result = await fn(request, state)
            else:  # one write (of the shared log, on a shared store)
                result = await state.write(lambda: fn(request, state))
        except BodyError as exc:
            return exc.response()
        except WorldError as exc:
            return detail_response(status_of(exc), str(exc))
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result)

    return handle


handles("live_calls")(listings.latest_live_calls)
handles("live_call")(listings.live_call)
handles("call_logs")(listings.latest_call_logs)
handles("call_log")(listings.call_log)
handles("campaign_targets")(listings.latest_targets)


@handles("control_openapi")
async def _openapi(request: web.Request, state: MockState) -> web.StreamResponse:
    return web.Response(body=control_spec_bytes(), content_type="application/json")


@handles("health")
async def _health(request: web.Request, state: MockState) -> dict[str, Any]:
    stats = state.stats()
    return {
        "service": SERVICE,
        "version": __version__,
        "live_calls": stats["live_calls"],
        "call_logs": stats["call_logs"],
        "world_version": stats["version"],
        "simulation": state.simulation is not None,
        "sample_ids": state.world.sample_ids(),
    }


@handles("start_call")
async def _start_call(request: web.Request, state: MockState) -> web.StreamResponse:
    return json_response(state.driver.start_call(**body_of(request)), 201)


@handles("map_variables")
async def _map_variables(request: web.Request, state: MockState) -> CallAnswer:
    call_log_id = listings.call_log_id_of(request)
    return state.driver.map_variables(call_log_id, **body_of(request)["variables"])


@handles("end_call")
async def _end_call(request: web.Request, state: MockState) -> CallLogAnswer:
    body = body_of(request)
    keep_live = body.get("keep_live", False)
    call_log_id = listings.call_log_id_of(request)
    return state.driver.end_call(call_log_id, keep_live=keep_live, **(body.get("fields") or {}))


@handles("delete_live_call")
async def _delete_live_call(request: web.Request, state: MockState) -> web.StreamResponse:
    state.driver.delete_live_call(listings.call_log_id_of(request))
    return web.Response(status=204)


@handles("add_call_log")
async def _add_call_log(request: web.Request, state: MockState) -> web.StreamResponse:
    return json_response(state.driver.add_call_log(**body_of(request)), 201)


@handles("delete_call_log")
async def _delete_call_log(request: web.Request, state: MockState) -> web.StreamResponse:
    state.driver.delete_call_log(listings.call_log_id_of(request))
    return web.Response(status=204)


@handles("campaigns")
async def _campaigns(request: web.Request, state: MockState) -> dict[str, Any]:
    return {"campaigns": state.driver.campaigns()}


@handles("reset")
async def _reset(request: web.Request, state: MockState) -> dict[str, Any]:
    if state.sharing is not None:
        await state.sharing.pull_journal()  # every process's requests so far: all cleared
    with state.storing():
        state.stubs.clear()  # first: the reset's write stores the world without them
        state.clear_journal()
        await state.off_loop(state.driver.reset)
    return state.stats()


@handles("dump")
async def _dump(request: web.Request, state: MockState) -> web.StreamResponse:
    def dumped() -> web.StreamResponse:  # tens of megabytes: made beside the serving
        text = dumps_in_slices(
            state.driver.dump(), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
        return web.Response(body=text.encode(), content_type="application/json")

    return await state.read_off_loop(dumped)


@handles("load")
async def _load(request: web.Request, state: MockState) -> dict[str, Any]:
    document = body_of(request)
    await state.off_loop(lambda: state.driver.load(document))
    return state.stats()


@handles("snapshot")
async def _take_snapshot(request: web.Request, state: MockState) -> web.StreamResponse:
    taken = request.app[SNAPSHOTS]
    while len(taken) >= MAX_SNAPSHOTS:
        del taken[next(iter(taken))]
    if state.sharing is not None:
        return json_response({"snapshot": await state.sharing.take_snapshot()}, 201)
    name = uuid.uuid4().hex
    taken[name] = (state.world.snapshot(), list(state.faults.rules), state.stubs.saved())
    return json_response({"snapshot": name}, 201)


@handles("restore")
async def _restore_snapshot(request: web.Request, state: MockState) -> dict[str, Any]:
    name = request.match_info["snapshot"]
    if state.sharing is not None:
        await state.sharing.restore_snapshot(name)
        return state.stats()
    taken = request.app[SNAPSHOTS].pop(name, None)
    if taken is None:
        raise UnknownSnapshot(f"no snapshot {name!r} (restored already, or never taken)")
    world, rules, stubs = taken
    with state.storing():
        state.set_fault_rules(rules)
        state.stubs.restore(stubs)
        await state.off_loop(lambda: state.world.restore(world))
    return state.stats()


@handles("journal")
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
    if state.sharing is not None:
        await state.sharing.pull_journal()
    body = journal_page(state.journal.entries(since), since, limit, wanted)
    return web.Response(body=body, content_type="application/json")


@handles("clear_journal")
async def _clear_journal(request: web.Request, state: MockState) -> web.StreamResponse:
    if state.sharing is not None:
        await state.sharing.pull_journal()
    with state.storing():  # on a shared store, every process clears what it holds
        state.clear_journal()
    return web.Response(status=204)


@handles("clock")
async def _clock(request: web.Request, state: MockState) -> ClockInfo:
    return state.driver.clock()


@handles("advance_clock")
async def _advance_clock(request: web.Request, state: MockState) -> ClockInfo:
    seconds = body_of(request)["seconds"]
    return await state.off_loop(lambda: state.move_clock(seconds))


@handles("set_clock")
async def _set_clock(request: web.Request, state: MockState) -> ClockInfo:
    now = body_of(request)["now"]
    return await state.off_loop(lambda: state.set_clock(now))


@handles("faults")
async def _faults(request: web.Request, state: MockState) -> dict[str, Any]:
    return state.faults.to_dict()


@handles("set_faults")
async def _set_faults(request: web.Request, state: MockState) -> dict[str, Any]:
    try:
        rules = parse_rules(body_of(request))
    except FaultError as exc:
        raise InvalidChange(str(exc)) from None
    with state.storing():
        state.set_fault_rules(rules)
    return state.faults.to_dict()


@handles("clear_faults")
async def _clear_faults(request: web.Request, state: MockState) -> web.StreamResponse:
    with state.storing():
        state.clear_faults()
    return web.Response(status=204)
