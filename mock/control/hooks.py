"""The control API's webhooks: a campaign's webhook setting, and the events with their sends.

Each handler is registered for its declared operation (``declared.handles``) and answers from
the world (``World.webhook_setting``, ``set_webhook``, ``clear_webhook``, ``webhook_events``);
a refusal is a ``WorldError`` the route answers with its status (``UnknownCampaign`` 404,
``InvalidChange`` 422).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from prosper_mock.control.declared import handles
from prosper_mock.control.guard import body_of
from prosper_mock.serving.state import MockState
from prosper_mock.world.documents import CAMPAIGN_NOT_FOUND
from prosper_mock.world.errors import InvalidChange, UnknownCampaign
from prosper_mock.world.webhooks import STATES

EVENT_FILTERS = frozenset({"campaign_id", "target_id", "state", "limit"})
MAX_EVENTS = 10_000


def registered() -> None:
    """Nothing: importing this module registers its handlers."""


def _campaign_id(request: web.Request, state: MockState) -> str:
    campaign_id = request.match_info["campaign_id"]
    if state.world.campaign(campaign_id) is None:
        raise UnknownCampaign(CAMPAIGN_NOT_FOUND)
    return campaign_id


@handles("webhook")
async def _webhook(request: web.Request, state: MockState) -> dict[str, Any]:
    return state.world.webhook_setting(_campaign_id(request, state))


@handles("set_webhook")
async def _set_webhook(request: web.Request, state: MockState) -> dict[str, Any]:
    return state.world.set_webhook(_campaign_id(request, state), body_of(request))


@handles("clear_webhook")
async def _clear_webhook(request: web.Request, state: MockState) -> web.StreamResponse:
    state.world.clear_webhook(_campaign_id(request, state))
    return web.Response(status=204)


@handles("webhook_events")
async def _webhook_events(request: web.Request, state: MockState) -> dict[str, Any]:
    query = request.query
    unknown = sorted(set(query) - EVENT_FILTERS)
    if unknown:
        raise InvalidChange(
            f"unknown query parameter {unknown[0]!r}: filter by {sorted(EVENT_FILTERS)}"
        )
    chosen = query.get("state")
    if chosen is not None and chosen not in STATES:
        raise InvalidChange(f"state must be one of {list(STATES)}, got {chosen!r}")
    limit = query.get("limit")
    if limit is not None and not (limit.isdecimal() and 1 <= int(limit) <= MAX_EVENTS):
        raise InvalidChange(f"limit must be an integer from 1 to {MAX_EVENTS}, got {limit!r}")
    events = state.world.webhook_events(query.get("campaign_id"), query.get("target_id"), chosen)
    shown = events if limit is None else events[-int(limit) :]
    return {"events": [e.to_dict() for e in shown], "count": len(events)}
