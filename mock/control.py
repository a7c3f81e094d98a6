"""The control API (``/__mock/...``): change the world of a running mock over HTTP.

It wraps the ``World`` methods, so a test suite in another process (or a CI
service container) can shape the world exactly as the pytest plugin does
in-process. Its own OpenAPI document is served at ``/__mock/openapi.json``;
the vendored ``/openapi.json`` never mentions it.

Safety: control requests are answered only from loopback clients unless a
token is configured; with a token, every control request must carry it
(``Authorization: Bearer <token>``), compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from aiohttp import web

from . import __version__
from .app import STATE, MockState
from .clock import VirtualClock, timestamp_of
from .faults import FaultError, parse_rules
from .render import detail_response, json_response, render_json, snapshot
from .world import WorldError

PREFIX = "/__mock"
SERVICE = "prosper-voice-mock"
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

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def control_spec_bytes() -> bytes:
    return resources.files("prosper_mock").joinpath("control_openapi.json").read_bytes()


def add_control_routes(app: web.Application, token: str | None = None) -> None:
    """Register the control API on ``app`` (before its catch-all route)."""
    spec = control_spec_bytes()

    def route(
        method: str, path: str, fn: Callable[[web.Request, MockState], Awaitable[Any]]
    ) -> None:
        app.router.add_route(method, PREFIX + path, _guarded(fn, token))

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


def _guarded(fn: Callable[[web.Request, MockState], Awaitable[Any]], token: str | None) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        if token is not None:
            given = request.headers.get("Authorization", "")
            expected = f"Bearer {token}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return detail_response(
                    401, "control token missing or wrong", headers={"WWW-Authenticate": "Bearer"}
                )
        elif not _is_loopback(request.remote):
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
            result = await fn(request, state)
        except WorldError as exc:
            return detail_response(exc.status, str(exc))
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result)

    return handle


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


async def _body(request: web.Request, *, required: bool = False) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise WorldError("a JSON object body is required", 422)
        return {}
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WorldError(f"body is not valid JSON: {exc}", 422) from None
    if not isinstance(data, dict):
        raise WorldError("body must be a JSON object", 422)
    return data


def _refuse_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (RFC 8259) does not, and a NaN
    # second or row value would poison the world.
    raise ValueError(f"{name} is not a JSON number")


def _id(request: web.Request) -> int:
    text = request.match_info["call_log_id"]
    try:
        return int(text)
    except ValueError:
        raise WorldError(f"call_log_id must be an integer, got {text!r}", 422) from None


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
    call = state.world.start_call(await _body(request))
    return json_response({"call": _row(call), "snapshot": snapshot("live_calls", call)}, 201)


async def _map_variables(request: web.Request, state: MockState) -> dict[str, Any]:
    body = await _body(request, required=True)
    unknown = set(body) - {"variables"}
    if unknown or not isinstance(body.get("variables"), dict):
        raise WorldError('body must be {"variables": {...}}', 422)
    call = state.world.map_variables(_id(request), body["variables"])
    return {"call": _row(call), "snapshot": snapshot("live_calls", call)}


async def _end_call(request: web.Request, state: MockState) -> dict[str, Any]:
    body = await _body(request)
    unknown = set(body) - {"fields", "keep_live"}
    if unknown:
        raise WorldError(f"unknown keys {sorted(unknown)}: expected fields, keep_live", 422)
    fields, keep_live = body.get("fields") or {}, body.get("keep_live", False)
    if not isinstance(fields, dict) or not isinstance(keep_live, bool):
        raise WorldError("fields must be an object and keep_live a boolean", 422)
    log = state.world.end_call(_id(request), fields, keep_live=keep_live)
    return {"call_log": _row(log), "snapshot": snapshot("call_logs", log)}


async def _delete_live_call(request: web.Request, state: MockState) -> web.StreamResponse:
    state.world.delete_live_call(_id(request))
    return web.Response(status=204)


async def _add_call_log(request: web.Request, state: MockState) -> web.StreamResponse:
    log = state.world.add_call_log(await _body(request))
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
    state.world.load(await _body(request, required=True))
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
        raise WorldError(f"no snapshot {name!r} (restored already, or never taken)", 404)
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
        raise WorldError(
            f"unknown journal filters {unknown}: use method, path, status, since, limit "
            "or param.NAME",
            422,
        )
    try:
        since = int(q.get("since", 0))
        status = int(q["status"]) if "status" in q else None
    except ValueError:
        raise WorldError("since and status must be integers", 422) from None
    try:
        limit = int(q.get("limit", JOURNAL_PAGE_LIMIT))
    except ValueError:
        limit = 0
    if not 1 <= limit <= JOURNAL_MAX_LIMIT:
        raise WorldError(f"limit must be an integer from 1 to {JOURNAL_MAX_LIMIT}", 422)
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


def _clock_info(state: MockState) -> dict[str, Any]:
    clock = state.world.clock
    mode = "virtual" if isinstance(clock, VirtualClock) else "system"
    now = datetime.fromtimestamp(clock.now(), UTC).isoformat(timespec="milliseconds")
    return {"mode": mode, "now": now}


def _virtual(state: MockState) -> VirtualClock:
    clock = state.world.clock
    if not isinstance(clock, VirtualClock):
        raise WorldError("the clock is the system clock: start the mock with --virtual-clock", 409)
    return clock


def _after_clock_moved(state: MockState) -> None:
    # One batch: the simulation's events and the new time reach the state file in one write.
    with state.world.batch():
        if state.simulation is not None:
            state.simulation.advance_to(state.world.clock.now())
        state.world.clock_moved()


async def _clock(request: web.Request, state: MockState) -> dict[str, Any]:
    return _clock_info(state)


async def _advance_clock(request: web.Request, state: MockState) -> dict[str, Any]:
    body = await _body(request, required=True)
    seconds = body.get("seconds")
    if (
        set(body) != {"seconds"}
        or isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
    ):
        raise WorldError('body must be {"seconds": <number>}', 422)
    clock = _virtual(state)
    if state.simulation is not None and math.isfinite(seconds):
        state.simulation.check_move(clock.now() + seconds)
    try:
        clock.advance(seconds)
    except ValueError as exc:
        raise WorldError(str(exc), 422) from None
    _after_clock_moved(state)
    return _clock_info(state)


async def _set_clock(request: web.Request, state: MockState) -> dict[str, Any]:
    body = await _body(request, required=True)
    if set(body) != {"now"} or not isinstance(body["now"], str):
        raise WorldError('body must be {"now": "<ISO-8601 with offset>"}', 422)
    clock = _virtual(state)
    try:
        if state.simulation is not None:
            state.simulation.check_move(timestamp_of(body["now"]))
        clock.set(body["now"])
    except ValueError as exc:
        raise WorldError(str(exc), 422) from None
    _after_clock_moved(state)
    return _clock_info(state)


async def _faults(request: web.Request, state: MockState) -> dict[str, Any]:
    return state.faults.to_dict()


async def _set_faults(request: web.Request, state: MockState) -> dict[str, Any]:
    try:
        state.faults.rules = parse_rules(await _body(request, required=True))
    except FaultError as exc:
        raise WorldError(str(exc), 422) from None
    return state.faults.to_dict()


async def _clear_faults(request: web.Request, state: MockState) -> web.StreamResponse:
    state.faults.rules = []
    return web.Response(status=204)


def _row(row: Any) -> dict[str, Any]:
    from .records import to_dict

    return to_dict(row)


class ControlError(Exception):
    """The control API refused a request; ``status`` and ``detail`` say why."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class ControlClient:
    """A small synchronous client for a running mock's control API (stdlib only)."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + PREFIX + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self._token:
            req.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                detail = json.loads(raw).get("detail")
            except (ValueError, AttributeError):
                detail = raw.decode("utf-8", "replace")[:200]
            raise ControlError(exc.code, detail) from None
        return json.loads(raw) if raw else None

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def is_mock(self) -> bool:
        """Whether ``base_url`` is a prosper-voice-mock with its control API reachable."""
        try:
            return self.health().get("service") == SERVICE
        except (ControlError, OSError, ValueError, AttributeError):
            return False

    def start_call(self, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "/live-calls", fields)

    def map_variables(self, call_log_id: int, **variables: Any) -> dict[str, Any]:
        return self._call("PATCH", f"/live-calls/{call_log_id}/variables", {"variables": variables})

    def end_call(self, call_log_id: int, keep_live: bool = False, **fields: Any) -> dict[str, Any]:
        return self._call(
            "POST", f"/live-calls/{call_log_id}/end", {"fields": fields, "keep_live": keep_live}
        )

    def delete_live_call(self, call_log_id: int) -> None:
        self._call("DELETE", f"/live-calls/{call_log_id}")

    def add_call_log(self, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "/call-logs", fields)

    def delete_call_log(self, call_log_id: int) -> None:
        self._call("DELETE", f"/call-logs/{call_log_id}")

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/reset", {})

    def dump(self) -> dict[str, Any]:
        return self._call("GET", "/world")

    def load(self, world: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", "/world", world)

    def snapshot(self) -> str:
        """Save the world (base and changes) and the fault rules; returns the name for
        ``restore``, which puts them back, reset baseline included."""
        return self._call("POST", "/snapshots", {})["snapshot"]

    def restore(self, snapshot: str) -> dict[str, Any]:
        """Back to what ``snapshot`` saved (once: the snapshot is then gone)."""
        return self._call("POST", f"/snapshots/{snapshot}/restore", {})

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        """Every entry matching ``filters``, read page by page."""
        from urllib.parse import urlencode

        entries: list[dict[str, Any]] = []
        while True:
            query = f"?{urlencode(filters)}" if filters else ""
            page = self._call("GET", f"/journal{query}")
            entries += page["entries"]
            if not page.get("more"):
                return entries
            filters = {**filters, "since": page["next_since"]}

    def clear_journal(self) -> None:
        self._call("DELETE", "/journal")

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "/clock")

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "/clock/advance", {"seconds": seconds})

    def set_faults(self, rules: list[dict[str, Any]]) -> dict[str, Any]:
        return self._call("PUT", "/faults", {"rules": rules})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")
