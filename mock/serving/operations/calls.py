"""The call operations: health, live calls, call logs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from prosper_mock.serving.render import Document, Unknown
from prosper_mock.world.documents import CALL_LOG_NOT_FOUND, call_log_document, page_document
from prosper_mock.world.lookup import Found, LiveCallQuery, NotFound, NothingToLookUp, find_call

if TYPE_CHECKING:
    from prosper_mock.serving.state import MockState

HEALTHY = Document({"status": "ok"})


def aware(moment: datetime | None) -> datetime | None:
    """A date-time parameter as the world compares it: one sent without an offset (a date
    alone, ``2024-01-01T10:00``) is taken as UTC, as upstream's PostgreSQL ``timestamptz``
    columns take it in a UTC session."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


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
        from_date=aware(params.get("from_date")),
        to_date=aware(params.get("to_date")),
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
        return Unknown(CALL_LOG_NOT_FOUND)
    return Document(call_log_document(log, recordings=bool(params.get("include_recordings"))))
