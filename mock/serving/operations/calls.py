"""The call operations: health, live calls, call logs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from prosper_mock.serving.documents import call_log_document, page_document
from prosper_mock.serving.render import Document, Unknown
from prosper_mock.world.lookup import Found, LiveCallQuery, NotFound, NothingToLookUp, find_call

if TYPE_CHECKING:
    from prosper_mock.serving.state import MockState

HEALTHY = Document({"status": "ok"})


async def health_check(request: web.Request, params: dict[str, Any], state: MockState) -> Document:
    """``GET /api/v1/health``: the mock is up."""
    return HEALTHY


async def get_live_call(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Found | NotFound | NothingToLookUp:
    """``GET /api/v1/live-calls``: live calls first, then call logs (``world.lookup``)."""
    return find_call(state.world, LiveCallQuery(**params))


async def list_call_logs(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document:
    """``GET /api/v1/call-logs``: one page, newest first, in the date window and campaign."""
    page = state.world.call_logs_page(
        params.get("page") or 0,
        params.get("limit") or 200,
        from_date=params.get("from_date"),
        to_date=params.get("to_date"),
        campaign_id=params.get("campaign_id"),
    )
    items = [call_log_document(log) for log in page.items]
    return Document(page_document("call_logs", items, page.page_count, page.next_page))


async def get_call_log(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document | Unknown:
    """``GET /api/v1/call-logs/{call_log_id}``: a finished call (a live one is not a log yet)."""
    log = state.world.call_logs.get(params["call_log_id"])
    if log is None:
        return Unknown("Call log not found")
    return Document(call_log_document(log, recordings=bool(params.get("include_recordings"))))
