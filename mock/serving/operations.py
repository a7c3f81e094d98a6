"""Implementations of the spec's operations, keyed by ``operationId``.

An implementation answers in the world's terms (a lookup's ``Found``,
``NotFound`` or ``NothingToLookUp``); ``render.render_answer`` makes the HTTP
response. The app binds each route to the entry with its operation's id; an
operation the spec gains upstream without an entry here answers ``501``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from prosper_mock.serving.render import Answer
from prosper_mock.world.lookup import Found, LiveCallQuery, NotFound, NothingToLookUp, find_call

if TYPE_CHECKING:
    from prosper_mock.serving.state import MockState

Implementation = Callable[[web.Request, dict[str, Any], "MockState"], Awaitable[Answer]]


async def get_live_call(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Found | NotFound | NothingToLookUp:
    """``GET /api/v1/live-calls``: live calls first, then call logs (``world.lookup``)."""
    return find_call(state.world, LiveCallQuery(**params))


OPERATIONS: dict[str, Implementation] = {
    "get_live_call_api_v1_live_calls_get": get_live_call,
}

# Implementations whose answer follows from the validated parameters and the world's rows
# alone (not the request, not the time): the pipeline reuses their answers (``answers.py``).
CACHEABLE: frozenset[Implementation] = frozenset({get_live_call})
