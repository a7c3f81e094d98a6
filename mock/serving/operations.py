"""Implementations of the spec's operations, keyed by ``operationId``.

The app binds each route to the entry with its operation's id; an operation
the spec gains upstream without an entry here answers ``501``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from prosper_mock.serving.render import JSON_TYPE, detail_response, json_response
from prosper_mock.world.lookup import Found, LiveCallQuery, NotFound, find_call

if TYPE_CHECKING:
    from prosper_mock.serving.state import MockState

Implementation = Callable[[web.Request, dict[str, Any], "MockState"], Awaitable[web.StreamResponse]]


async def get_live_call(
    request: web.Request, params: dict[str, Any], state: MockState
) -> web.StreamResponse:
    """``GET /api/v1/live-calls``: a flat snapshot, live calls first, then call logs."""
    outcome = find_call(state.world, LiveCallQuery(**params))
    if isinstance(outcome, Found):
        body = state.snapshots.body(outcome.source, outcome.row)
        return web.Response(body=body, content_type=JSON_TYPE)
    semantics = state.semantics
    if isinstance(outcome, NotFound):
        return detail_response(semantics.not_found_status, semantics.not_found_detail)
    if semantics.missing_lookup == 422:
        error = {
            "type": "missing",
            "loc": ["query", outcome.missing],
            "msg": "Field required",
            "input": None,
        }
        return json_response({"detail": [error]}, status=422)
    return detail_response(400, outcome.detail)


OPERATIONS: dict[str, Implementation] = {
    "get_live_call_api_v1_live_calls_get": get_live_call,
}
