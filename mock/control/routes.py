"""The control API (``/__mock/...``): change the world of a running mock over HTTP.

It wraps the ``World`` methods, so a test suite in another process (or a CI
service container) can shape the world exactly as the pytest plugin does
in-process. Its own OpenAPI document is served at ``/__mock/openapi.json``;
the vendored ``/openapi.json`` never mentions it.

Safety: control requests are answered only from loopback clients unless a
token is configured; with a token, every control request must carry it
(``Authorization: Bearer <token>``), compared in constant time. Web pages are
kept out whatever the client's address: a request with a foreign ``Origin``
(or ``Sec-Fetch-Site: cross-site``) is refused, and without a token so is a
``Host`` that is not the mock's own address (DNS rebinding would otherwise let
any page reach a mock on loopback), unless the user allowed that origin or host.
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from prosper_mock.base import jsontext
from prosper_mock.base.net import is_loopback
from prosper_mock.base.problems import one_line
from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.base.version import __version__
from prosper_mock.control.bodies import (
    BODIES,
    PREFIX,
    SERVICE,
    CallAnswer,
    CallLogAnswer,
    ClockInfo,
    adapter,
)
from prosper_mock.serving.app import _method_not_allowed
from prosper_mock.serving.errors import status_of
from prosper_mock.serving.faults import FaultError, parse_rules
from prosper_mock.serving.render import detail_response, json_response, render_json, snapshot
from prosper_mock.serving.state import STATE, MockState
from prosper_mock.world.clock import VirtualClock, timestamp_of
from prosper_mock.world.errors import (
    ClockNotSettable,
    InvalidChange,
    UnknownSnapshot,
    WorldError,
)

JOURNAL_FILTERS = frozenset({"method", "path", "status", "since", "limit"})
# A journal page: at most this many entries (default, maximum), in at most this many
# bytes of JSON (always at least one entry): an answer stays small however big entries are.
JOURNAL_PAGE_LIMIT = 1000
JOURNAL_MAX_LIMIT = 10_000
JOURNAL_PAGE_BYTES = 1024 * 1024
_PAGE_ENVELOPE = len(b'{"entries":[],"next_since":,"more":false}') + 20  # 20: the cursor
# Snapshots taken and not yet restored, oldest first; a client that never restores (a
# contract run killed midway) leaves one behind, so only the latest few are kept.
SNAPSHOTS = web.AppKey("prosper_mock_snapshots", dict)
MAX_SNAPSHOTS = 16
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_WORLD_BYTES = 256 * 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def control_spec_bytes() -> bytes:
    return resources.files("prosper_mock.control").joinpath("openapi.json").read_bytes()


@dataclass(frozen=True)
class _BodyRule:
    adapter: TypeAdapter[Any]
    required: bool
    limit: int


class _BodyError(Exception):
    def __init__(self, status: int, detail: str, close: bool = False) -> None:
        super().__init__(detail)
        self.status, self.detail, self.close = status, detail, close


# web.RequestKey is newer than the oldest aiohttp the kit supports (3.9): a str key there.
_BODY: web.RequestKey[dict[str, Any]] | str = (
    web.RequestKey("prosper_control_body", dict)
    if hasattr(web, "RequestKey")
    else "prosper_control_body"
)


async def _read_body(request: web.Request, rule: _BodyRule) -> dict[str, Any]:
    """The request's JSON object body, read in chunks up to the rule's limit, and validated."""
    if request.body_exists and request.content_length != 0 and not _is_json(request.content_type):
        # Also what keeps out a page's "simple" cross-origin POST (text/plain, form data).
        raise _BodyError(
            415,
            "control request bodies must be JSON (Content-Type: application/json), "
            f"not {request.headers.get('Content-Type', 'none')!r}",
        )
    too_large = _BodyError(
        413, f"the body is over this endpoint's limit of {_size(rule.limit)}", close=True
    )
    if request.content_length is not None and request.content_length > rule.limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > rule.limit:  # stop reading: the rest is never buffered
            raise too_large
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if rule.required:
            raise _BodyError(422, "a JSON object body is required")
        raw = b"{}"
    data = _parse_json(raw)
    if not isinstance(data, dict):
        raise _BodyError(422, "body must be a JSON object")
    try:
        rule.adapter.validate_python(data, strict=True)
    except ValidationError as exc:
        raise _BodyError(422, _problems(exc)) from None
    return data


def _parse_json(raw: bytes) -> Any:
    """Strict JSON (RFC 8259, ``jsontext``), or a 422 saying why not."""
    try:
        return jsontext.loads(raw)
    except ValueError as exc:  # not JSON, not UTF-8, or JSON the standard refuses
        raise _BodyError(422, f"body is not valid JSON: {exc}") from None


def _problems(exc: ValidationError) -> str:
    """pydantic's errors as ``body.field: message``, the first few."""
    return one_line(
        exc.errors(include_url=False),
        "body",
        limit=3,
        count_rest=True,
        messages={"extra_forbidden": "unknown key"},
    )


def _size(limit: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= factor and limit % factor == 0:
            return f"{limit // factor} {unit}"
    return f"{limit} bytes"


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


@dataclass(frozen=True)
class ControlPolicy:
    """Who may drive the control API, besides loopback clients of the mock's own address."""

    token: str | None = None
    allow_origins: frozenset[str] = frozenset()  # web origins allowed, e.g. http://host:3000
    allow_hosts: frozenset[str] = frozenset()  # Host names (any port) or host:port allowed


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
            rule = _BodyRule(adapter(kind), required, limit)
        app.router.add_route(method, PREFIX + path, _guarded(fn, policy, rule))
        routed.setdefault(PREFIX + path, []).append(method)

    async def openapi(request: web.Request, state: MockState) -> web.StreamResponse:
        return web.Response(body=spec, content_type="application/json")

    route("GET", "/openapi.json", openapi)
    route("GET", "/health", _health)
    route("POST", "/live-calls", _start_call)
    route("PATCH", "/live-calls/{call_log_id}/variables", _map_variables)
    route("POST", "/live-calls/{call_log_id}/end", _end_call)
    route("DELETE", "/live-calls/{call_log_id}", _delete_live_call)
    route("POST", "/call-logs", _add_call_log)
    route("DELETE", "/call-logs/{call_log_id}", _delete_call_log)
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
    for path, methods in routed.items():
        # As FastAPI answers a method a path does not have (app.py does the same).
        app.router.add_route("*", path, _method_not_allowed(", ".join(methods)))


def _guarded(
    fn: Callable[[web.Request, MockState], Awaitable[Any]],
    policy: ControlPolicy,
    body: _BodyRule | None = None,
) -> Handler:
    token = policy.token

    async def handle(request: web.Request) -> web.StreamResponse:
        refusal = _foreign_page(request, policy)
        if refusal is not None:
            return detail_response(403, refusal)
        if token is not None:
            given = request.headers.get("Authorization", "")
            expected = f"Bearer {token}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return detail_response(
                    401, "control token missing or wrong", headers={"WWW-Authenticate": "Bearer"}
                )
        elif not is_loopback(request.remote):
            return detail_response(
                403,
                "control endpoints answer loopback clients only "
                "(start the mock with a control token to allow others)",
            )
        state = request.app[STATE]
        if state.read_only and request.method != "GET":
            return detail_response(
                409,
                "the world is read-only: this mock runs several worker "
                "processes (--workers), each with its own copy, and changes "
                "would diverge; use --workers 1 to change it",
            )
        try:
            if body is not None:
                request[_BODY] = await _read_body(request, body)
            result = await fn(request, state)
        except _BodyError as exc:
            refused = detail_response(exc.status, exc.detail)
            if exc.close:  # the unread rest of the body must not be taken for a request
                refused.force_close()
            return refused
        except WorldError as exc:
            return detail_response(status_of(exc), str(exc))
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result)

    return handle


def _foreign_page(request: web.Request, policy: ControlPolicy) -> str | None:
    """Why a request seems to come from a web page the user did not allow, or ``None``."""
    host = request.headers.get("Host", "").lower()
    if policy.token is None and not _own_host(request, host, policy):
        return (
            f"control requests must name this mock in Host (such as 127.0.0.1 or localhost "
            f"with its port), not {host!r}: a web page may have pointed that name here; "
            "allow it with --control-allow-host, or set a control token"
        )
    origin = request.headers.get("Origin")
    allowed = origin is not None and (
        origin.lower() == f"{request.scheme}://{host}" or origin.lower() in policy.allow_origins
    )
    if origin is not None and not allowed:
        return (
            f"control requests from a web page (Origin {origin}) are refused: "
            f"start the mock with --control-allow-origin {origin} to allow that page"
        )
    site = request.headers.get("Sec-Fetch-Site", "").lower()
    if site in ("cross-site", "same-site") and not allowed:
        return (
            f"control requests from a web page (Sec-Fetch-Site: {site}) are refused: "
            "start the mock with --control-allow-origin ORIGIN to allow a page"
        )
    return None


def _own_host(request: web.Request, host: str, policy: ControlPolicy) -> bool:
    """Whether ``host`` (a Host header) names the address this connection reached."""
    name, port = _split_host(host)
    if host in policy.allow_hosts or name in policy.allow_hosts:
        return True
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname:
        return False
    bound, bound_port = str(sockname[0]).split("%")[0], int(sockname[1])
    names = {"127.0.0.1", "localhost", "[::1]", f"[{bound}]" if ":" in bound else bound}
    return name in names and (port == bound_port or (port is None and bound_port == 80))


def _split_host(host: str) -> tuple[str, int | None]:
    name, sep, port = host.rpartition(":")
    if not sep or name.endswith(":") or not port.isdigit():  # no port (or a bare IPv6)
        return host, None
    return name, int(port)


def _body(request: web.Request) -> dict[str, Any]:
    """The body the guard read and validated against the operation's body type."""
    return request[_BODY]


def _id(request: web.Request) -> int:
    text = request.match_info["call_log_id"]
    try:
        return int(text)
    except ValueError:
        raise InvalidChange(f"call_log_id must be an integer, got {text!r}") from None


async def _health(request: web.Request, state: MockState) -> dict[str, Any]:
    stats = state.world.stats()
    return {
        "service": SERVICE,
        "version": __version__,
        "live_calls": stats["live_calls"],
        "call_logs": stats["call_logs"],
        "world_version": stats["version"],
        "sample_ids": state.world.sample_ids(),
    }


async def _start_call(request: web.Request, state: MockState) -> web.StreamResponse:
    call = state.world.start_call(_body(request))
    return json_response({"call": _row(call), "snapshot": snapshot("live_calls", call)}, 201)


async def _map_variables(request: web.Request, state: MockState) -> CallAnswer:
    call = state.world.map_variables(_id(request), _body(request)["variables"])
    return {"call": _row(call), "snapshot": snapshot("live_calls", call)}


async def _end_call(request: web.Request, state: MockState) -> CallLogAnswer:
    body = _body(request)
    keep_live = body.get("keep_live", False)
    log = state.world.end_call(_id(request), body.get("fields") or {}, keep_live=keep_live)
    return {"call_log": _row(log), "snapshot": snapshot("call_logs", log)}


async def _delete_live_call(request: web.Request, state: MockState) -> web.StreamResponse:
    state.world.delete_live_call(_id(request))
    return web.Response(status=204)


async def _add_call_log(request: web.Request, state: MockState) -> web.StreamResponse:
    log = state.world.add_call_log(_body(request))
    return json_response({"call_log": _row(log), "snapshot": snapshot("call_logs", log)}, 201)


async def _delete_call_log(request: web.Request, state: MockState) -> web.StreamResponse:
    state.world.delete_call_log(_id(request))
    return web.Response(status=204)


async def _reset(request: web.Request, state: MockState) -> dict[str, Any]:
    state.world.reset()
    state.journal.clear()
    return state.world.stats()


async def _dump(request: web.Request, state: MockState) -> dict[str, Any]:
    return state.world.dump()


async def _load(request: web.Request, state: MockState) -> dict[str, Any]:
    state.world.load(_body(request))
    return state.world.stats()


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
    state.faults.rules = rules
    state.world.restore(world)
    return state.world.stats()


async def _journal(request: web.Request, state: MockState) -> web.StreamResponse:
    """One page of entries after ``since`` (seq), filtered by ``method``, ``path``, ``status``
    and ``param.NAME``: at most ``limit`` of them, in at most ``JOURNAL_PAGE_BYTES``.

    ``next_since`` is the cursor for the next page; ``more`` says whether one has entries.
    """
    q = request.query
    unknown = sorted(k for k in q if k not in JOURNAL_FILTERS and not k.startswith("param."))
    if unknown:
        raise InvalidChange(
            f"unknown journal filters {unknown}: use method, path, status, since, limit "
            "or param.NAME"
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
    method = q["method"].upper() if "method" in q else None
    path = q.get("path")
    params = {k[len("param.") :]: v for k, v in q.items() if k.startswith("param.")}
    entries = state.journal.entries(since)
    parts: list[bytes] = []
    size, more, cursor = _PAGE_ENVELOPE, False, since
    for e in entries:
        if (
            (method is not None and e.method != method)
            or (path is not None and e.path != path)
            or (status is not None and e.status != status)
            or (params and any(e.params.get(k) != v for k, v in params.items()))
        ):
            cursor = e.seq
            continue
        part = render_json(e.to_dict())
        if len(parts) == limit or (parts and size + len(part) + 1 > JOURNAL_PAGE_BYTES):
            more = True
            break
        parts.append(part)
        size += len(part) + 1
        cursor = e.seq
    # Rendered entry by entry (the page's size is known exactly), then joined.
    body = b'{"entries":[%s],"next_since":%d,"more":%s}' % (
        b",".join(parts),
        cursor,
        b"true" if more else b"false",
    )
    return web.Response(body=body, content_type="application/json")


async def _clear_journal(request: web.Request, state: MockState) -> web.StreamResponse:
    state.journal.clear()
    return web.Response(status=204)


def _clock_info(state: MockState) -> ClockInfo:
    clock = state.world.clock
    mode: Literal["virtual", "system"] = "virtual" if isinstance(clock, VirtualClock) else "system"
    now = iso_milliseconds(clock.now())
    return {"mode": mode, "now": now}


def _virtual(state: MockState) -> VirtualClock:
    clock = state.world.clock
    if not isinstance(clock, VirtualClock):
        raise ClockNotSettable("the clock is the system clock: start the mock with --virtual-clock")
    return clock


def _after_clock_moved(state: MockState) -> None:
    # One batch: the simulation's events and the new time reach the state file in one write.
    with state.world.batch():
        if state.simulation is not None:
            state.simulation.advance_to(state.world.clock.now())
        state.world.clock_moved()


async def _clock(request: web.Request, state: MockState) -> ClockInfo:
    return _clock_info(state)


async def _advance_clock(request: web.Request, state: MockState) -> ClockInfo:
    seconds = _body(request)["seconds"]
    clock = _virtual(state)
    if state.simulation is not None:
        state.simulation.check_move(clock.now() + seconds)
    try:
        clock.advance(seconds)
    except ValueError as exc:
        raise InvalidChange(str(exc)) from None
    _after_clock_moved(state)
    return _clock_info(state)


async def _set_clock(request: web.Request, state: MockState) -> ClockInfo:
    now = _body(request)["now"]
    clock = _virtual(state)
    try:
        if state.simulation is not None:
            state.simulation.check_move(timestamp_of(now))
        clock.set(now)
    except ValueError as exc:
        raise InvalidChange(str(exc)) from None
    _after_clock_moved(state)
    return _clock_info(state)


async def _faults(request: web.Request, state: MockState) -> dict[str, Any]:
    return state.faults.to_dict()


async def _set_faults(request: web.Request, state: MockState) -> dict[str, Any]:
    try:
        state.faults.rules = parse_rules(_body(request))
    except FaultError as exc:
        raise InvalidChange(str(exc)) from None
    return state.faults.to_dict()


async def _clear_faults(request: web.Request, state: MockState) -> web.StreamResponse:
    state.faults.rules = []
    return web.Response(status=204)


def _row(row: Any) -> dict[str, Any]:
    from prosper_mock.world.records import to_dict

    return to_dict(row)
