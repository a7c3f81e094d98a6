"""The control API's reads of the world's rows: the latest calls and targets, one call.

What a client of the vendored API cannot list (the live calls), or can list only through
requests that are journalled and faulted (call logs, a campaign's targets), listed here
newest first and never journalled, so a dashboard or a test can watch the world without
changing what the journal records. Each answer carries ``count``, the store's size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from prosper_mock.serving.state import MockState
from prosper_mock.world.documents import CAMPAIGN_NOT_FOUND, target_document
from prosper_mock.world.driver import CallAnswer, CallLogAnswer
from prosper_mock.world.errors import InvalidChange, UnknownCall, UnknownCampaign
from prosper_mock.world.flatten import snapshot
from prosper_mock.world.model import World
from prosper_mock.world.records import CallLog, LiveCall, to_dict
from prosper_mock.world.store import Store

R = TypeVar("R", LiveCall, CallLog)

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
TARGETS_MAX_LIMIT = 100  # the vendored targets listing's own largest page


def limit_of(request: web.Request, most: int = MAX_LIMIT) -> int:
    """The ``limit`` query parameter (1 to ``most``; ``DEFAULT_LIMIT`` without one); any
    other parameter is refused, so a misspelt one is not silently ignored."""
    unknown = sorted(k for k in request.query if k != "limit")
    if unknown:
        raise InvalidChange(f"unknown query parameters {unknown}: use limit")
    text = request.query.get("limit", str(min(DEFAULT_LIMIT, most)))
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= most):
        raise InvalidChange(f"limit must be an integer from 1 to {most}, got {text!r}")
    return int(text)


def call_log_id_of(request: web.Request) -> int:
    text = request.match_info["call_log_id"]
    try:
        return int(text)
    except ValueError:
        raise InvalidChange(f"call_log_id must be an integer, got {text!r}") from None


async def latest_live_calls(request: web.Request, state: MockState) -> dict[str, Any]:
    rows, count = state.world.latest_live_calls(limit_of(request))
    return {"live_calls": [to_dict(r) for r in rows], "count": count}


async def latest_call_logs(request: web.Request, state: MockState) -> dict[str, Any]:
    rows, count = state.world.latest_call_logs(limit_of(request))
    return {"call_logs": [to_dict(r) for r in rows], "count": count}


async def live_call(request: web.Request, state: MockState) -> CallAnswer:
    """A live call as stored and as ``GET /api/v1/live-calls`` would answer it (unjournalled)."""
    found = _stored(request, state, lambda world: world.live_calls, "no live call")
    return {"call": to_dict(found), "snapshot": snapshot("live_calls", found)}


async def call_log(request: web.Request, state: MockState) -> CallLogAnswer:
    """A finished call as stored and as its snapshot reads."""
    found = _stored(request, state, lambda world: world.call_logs, "no call log")
    return {"call_log": to_dict(found), "snapshot": snapshot("call_logs", found)}


def _stored(
    request: web.Request, state: MockState, store: Callable[[World], Store[R]], missing: str
) -> R:
    """The row of the path's call in the world's ``store`` (after the clock's due events);
    raises ``UnknownCall`` with ``missing`` and the id."""
    call_log_id = call_log_id_of(request)
    with state.world.lock:
        state.world.follow_clock()
        found = store(state.world).get(call_log_id)
    if found is None:
        raise UnknownCall(f"{missing} {call_log_id}")
    return found


async def latest_targets(request: web.Request, state: MockState) -> dict[str, Any]:
    """A campaign's newest targets, each as ``GET /api/v1/targets/{id}`` answers it."""
    limit = limit_of(request, TARGETS_MAX_LIMIT)
    try:
        views, count = state.world.latest_targets(request.match_info["campaign_id"], limit)
    except UnknownCampaign:  # worded as the vendored API answers it
        raise UnknownCampaign(CAMPAIGN_NOT_FOUND) from None
    return {"targets": [target_document(v) for v in views], "count": count}
