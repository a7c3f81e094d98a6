"""A catalogue of deliberately broken Get Live Call implementations.

Each replaces the mock's operation (``create_app(operations=...)``) and breaks
exactly one rule; the contract suite must fail on each and name that rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from prosper_mock.serving.operations import get_live_call
from prosper_mock.serving.render import detail_response, json_response
from prosper_mock.world.flatten import snapshot
from prosper_mock.world.lookup import (
    Found,
    LiveCallQuery,
    NotFound,
    NothingToLookUp,
    find_call,
    missing_lookup,
)

OP = "get_live_call_api_v1_live_calls_get"
Impl = Callable[[web.Request, dict[str, Any], Any], Any]


def _answer(outcome: Any) -> web.Response:
    if isinstance(outcome, Found):
        return json_response(snapshot(outcome.source, outcome.row))
    if isinstance(outcome, NothingToLookUp):
        return detail_response(400, outcome.detail)
    return detail_response(404, "Call not found")


def _mutating(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Impl:
    async def impl(request: web.Request, params: dict[str, Any], state: Any) -> web.Response:
        outcome = find_call(state.world, LiveCallQuery(**params))
        if isinstance(outcome, Found):
            return json_response(change(snapshot(outcome.source, outcome.row)))
        return _answer(outcome)

    return impl


def _with_stores(
    order: tuple[str, ...], by_order: tuple[str, ...] | None = None, oldest: bool = False
) -> Impl:
    async def impl(request: web.Request, params: dict[str, Any], state: Any) -> web.Response:
        query = LiveCallQuery(**params)
        world = state.world
        kinds = by_order or ("call_log_id", "user_phone_number", "key")
        by = next((k for k in kinds if _given(query, k)), None)
        if by is None:
            return _answer(missing_lookup(query))
        for name in order:
            store = getattr(world, name)
            if by == "call_log_id":
                row = store.get(query.call_log_id)
            elif oldest:
                rows = [r for r in store if _matches(r, query, by)]
                row = min(rows, key=lambda r: (r.at, r.call_log_id)) if rows else None
            elif by == "user_phone_number":
                row = store.latest_by_phone(query.user_phone_number)
            else:
                row = store.latest_by_variable(query.key, query.value)
            if row is not None:
                return _answer(Found(name, row))
        return _answer(NotFound())

    return impl


def _given(query: LiveCallQuery, kind: str) -> bool:
    if kind == "key":
        return query.key is not None and query.value is not None
    return getattr(query, kind) is not None


def _matches(row: Any, query: LiveCallQuery, by: str) -> bool:
    from prosper_mock.world.textform import text_form

    if by == "user_phone_number":
        return row.user_phone_number == query.user_phone_number
    return text_form(row.variables.get(query.key)) == query.value


def _nested(body: dict[str, Any]) -> dict[str, Any]:
    return body | {"agent_data": {"voice": {"provider": "x"}}}


async def _server_error_on_empty_key(
    request: web.Request, params: dict[str, Any], state: Any
) -> web.StreamResponse:
    if params.get("key") == "":
        raise RuntimeError("boom")
    return await get_live_call(request, params, state)


async def _bad_422_shape(request: web.Request, params: dict[str, Any], state: Any) -> web.Response:
    outcome = find_call(state.world, LiveCallQuery(**params))
    if isinstance(outcome, NothingToLookUp):
        return json_response({"error": "missing lookup"}, status=422)
    return _answer(outcome)


async def _text_plain_404(request: web.Request, params: dict[str, Any], state: Any) -> web.Response:
    outcome = find_call(state.world, LiveCallQuery(**params))
    if isinstance(outcome, NotFound):
        return web.Response(status=404, text=json.dumps({"detail": "Call not found"}))
    return _answer(outcome)


async def _teapot_not_found(
    request: web.Request, params: dict[str, Any], state: Any
) -> web.Response:
    outcome = find_call(state.world, LiveCallQuery(**params))
    if isinstance(outcome, NotFound):
        return detail_response(418, "Call not found")
    return _answer(outcome)


async def _wrong_phone(request: web.Request, params: dict[str, Any], state: Any) -> web.Response:
    outcome = find_call(state.world, LiveCallQuery(**params))
    if isinstance(outcome, Found) and params.get("user_phone_number") is not None:
        phone = outcome.row.user_phone_number
        other = next((r for r in state.world.call_logs if r.user_phone_number != phone), None)
        if other is not None:
            return json_response(snapshot("call_logs", other))
    return _answer(outcome)


async def _unprovoked_422(request: web.Request, params: dict[str, Any], state: Any) -> web.Response:
    """A variable lookup, valid for FastAPI, refused as if it were not."""
    if params.get("key") is not None:
        error = {"loc": ["query", "key"], "msg": "bad key", "type": "value_error"}
        return json_response({"detail": [error]}, status=422)
    return await get_live_call(request, params, state)


def _found_whatever(by: str) -> Impl:
    """A lookup by ``by`` that finds nothing answers the newest live call instead."""

    async def impl(request: web.Request, params: dict[str, Any], state: Any) -> web.Response:
        outcome = find_call(state.world, LiveCallQuery(**params))
        newest = max(state.world.live_calls, key=lambda r: r.at, default=None)
        if isinstance(outcome, NotFound) and params.get(by) is not None and newest is not None:
            return _answer(Found("live_calls", newest))
        return _answer(outcome)

    return impl


def _back_to_live() -> Impl:
    """A finished call is answered from call_logs once, then from live_calls."""
    answered: set[int] = set()

    async def impl(request: web.Request, params: dict[str, Any], state: Any) -> web.Response:
        outcome = find_call(state.world, LiveCallQuery(**params))
        if isinstance(outcome, Found) and outcome.source == "call_logs":
            body = snapshot(outcome.source, outcome.row)
            if body["call_log_id"] in answered:
                return json_response(body | {"source": "live_calls"})
            answered.add(body["call_log_id"])
        return _answer(outcome)

    return impl


# The contract test that catches each kind of break: the others need not run to prove it.
SPEC = "test_spec_conformance"  # every answer against the spec and the semantic rules
FALLBACK = "test_fallback_semantics"  # the model-based run of lookups as the world changes
READ_ONLY = "test_lookups_from_an_answer"  # lookups of the calls a target's answers name

# (name, implementation, a rule the suite must name, the test that names it)
BROKEN: list[tuple[str, Impl, str, str]] = [
    ("nested objects", _mutating(_nested), "flat-snapshot", READ_ONLY),
    ("wrong source", _mutating(lambda b: b | {"source": "live"}), "source-valid", READ_ONLY),
    (
        "missing source",
        _mutating(lambda b: {k: v for k, v in b.items() if k != "source"}),
        "source-valid",
        READ_ONLY,
    ),
    (
        "string call_log_id",
        _mutating(lambda b: b | {"call_log_id": str(b["call_log_id"])}),
        "call-log-id-integer",
        READ_ONLY,
    ),
    ("no fallback to call logs", _with_stores(("live_calls",)), "fallback-to-call-logs", FALLBACK),
    ("call logs preferred", _with_stores(("call_logs", "live_calls")), "live-first", FALLBACK),
    (
        "wrong precedence",
        _with_stores(
            ("live_calls", "call_logs"), by_order=("user_phone_number", "call_log_id", "key")
        ),
        "precedence",
        FALLBACK,
    ),
    (
        "oldest call wins",
        _with_stores(("live_calls", "call_logs"), oldest=True),
        "most-recent",
        FALLBACK,
    ),
    ("wrong call for a phone", _wrong_phone, "matches-phone", READ_ONLY),
    ("500 on an empty key", _server_error_on_empty_key, "no-server-error", SPEC),
    ("422 not in FastAPI's shape", _bad_422_shape, "validation-error-shape", SPEC),
    ("wrong content type", _text_plain_404, "json-content-type", SPEC),
    ("undocumented status", _teapot_not_found, "documented-status", SPEC),
    ("valid lookups refused", _unprovoked_422, "fastapi-validation", SPEC),
    ("a variable nothing holds found", _found_whatever("key"), "text-matching", FALLBACK),
    ("an unknown id found", _found_whatever("call_log_id"), "not-found", FALLBACK),
    ("a finished call live again", _back_to_live(), "source-monotonic", READ_ONLY),
]
