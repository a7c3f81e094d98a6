"""Events from outside systems (a webhook step, an EHR event), webhook reruns, API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from prosper_mock.serving.render import Document, Unknown
from prosper_mock.world.documents import (
    CAMPAIGN_NOT_FOUND,
    TARGET_NOT_FOUND,
    ehr_document,
    target_document,
)
from prosper_mock.world.errors import UnknownCampaign, UnknownTarget

if TYPE_CHECKING:
    from prosper_mock.serving.state import MockState


async def receive_webhook_step(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document | Unknown:
    """``POST /campaigns/{id}/targets/{target_id}/step/{friendly_id}``: a step's result for a
    target, kept in its ``output_data`` and mapped on its live call, if one runs."""
    body = params.get("body")
    try:
        target = state.world.webhook_step(
            params["campaign_id"],
            params["target_id"],
            params["friendly_id"],
            body if isinstance(body, dict) else {},
        )
    except UnknownCampaign:
        return Unknown(CAMPAIGN_NOT_FOUND)
    except UnknownTarget:
        return Unknown(TARGET_NOT_FOUND)
    return Document({"status": "received", "target": target_document(target)})


async def receive_ehr_event_step(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document | Unknown:
    """``POST /campaigns/{id}/ehr-event/{friendly_id}``: an appointment made or cancelled, a
    patient registered: targets are added or withdrawn (see ``docs/semantics.md``)."""
    body = params.get("body") or {}
    try:
        outcome = state.world.ehr_event(
            params["campaign_id"],
            params["friendly_id"],
            body["event_type"],
            body.get("event_data") or {},
            target_id=body.get("target_id"),
            external_id=body.get("external_id"),
        )
    except UnknownCampaign:
        return Unknown(CAMPAIGN_NOT_FOUND)
    except UnknownTarget:
        return Unknown(TARGET_NOT_FOUND)
    return Document(ehr_document(outcome))


async def rerun_failed_webhooks(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document | Unknown:
    """``POST /campaigns/{id}/webhooks/rerun-failed``: the campaign's failed webhook events
    created in ``[from_date, to_date]`` are sent once more (``202``; ``rerun``: how many)."""
    body = params.get("body") or {}
    try:
        rerun = state.world.rerun_failed(
            params["campaign_id"], body.get("from_date"), body.get("to_date")
        )
    except UnknownCampaign:
        return Unknown(CAMPAIGN_NOT_FOUND)
    answer = {"status": "accepted", "campaign_id": params["campaign_id"], "rerun": len(rerun)}
    return Document(answer, status=202)


async def delete_api_key(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document:
    """``DELETE /api-keys/{api_key_id}``: acknowledged; the mock's own key (``--api-key``)
    is configuration, not data, so it keeps working."""
    return Document({"id": params["api_key_id"], "status": "deleted"})
