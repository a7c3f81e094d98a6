"""Deliberately broken implementations of the operations beyond live-calls.

Each wraps the mock's own implementation of one operation (``create_app(operations=...)``
overrides it by ``operationId``) and breaks exactly one rule across operations
(``contracts/workflow.py``); the contract suite must fail on each and name that rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from prosper_mock.serving.operations import OPERATIONS
from prosper_mock.serving.render import Document

GET_CALL_LOG = "get_call_log_api_v1_call_logs__call_log_id__get"
LIST_CALL_LOGS = "list_call_logs_api_v1_call_logs_get"
LIST_TARGETS = "get_campaign_targets_api_v1_campaigns__campaign_id__targets_get"
UNKNOWN_CALL = 2_147_480_000

Change = Callable[[Any, dict[str, Any]], Any]
Impl = Callable[[web.Request, dict[str, Any], Any], Any]


def changed(operation_id: str, change: Change) -> Impl:
    """The mock's implementation of ``operation_id``, its documents passed through ``change``
    (with the validated parameters)."""
    real = OPERATIONS[operation_id]

    async def impl(request: web.Request, params: dict[str, Any], state: Any) -> Any:
        answer = await real(request, params, state)
        if isinstance(answer, Document) and answer.status == 200:
            return Document(change(answer.content, params), answer.status)
        return answer

    return impl


def _other_number(log: Any, params: dict[str, Any]) -> Any:
    return {**log, "to": "+10000000000"}


def _page_count_off_by_one(page: Any, params: dict[str, Any]) -> Any:
    return {**page, "page_count": page["page_count"] + 1}


def _no_next_page(page: Any, params: dict[str, Any]) -> Any:
    return {**page, "next_page": None}


def _targets(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Change:
    def on_page(page: Any, params: dict[str, Any]) -> Any:
        return {**page, "targets": [change(t) for t in page["targets"]]}

    return on_page


def _unknown_call(target: dict[str, Any]) -> dict[str, Any]:
    return {**target, "call_log_ids": [*(target.get("call_log_ids") or []), UNKNOWN_CALL]}


def _still_in_progress(target: dict[str, Any]) -> dict[str, Any]:
    ended = target.get("call_log_ids") and target.get("status") != "In Progress"
    return {**target, "status": "In Progress"} if ended else target


# (name, operationId, implementation, the rule the suite must name)
BROKEN_WORKFLOW: list[tuple[str, str, Impl, str]] = [
    (
        "call log with another number",
        GET_CALL_LOG,
        changed(GET_CALL_LOG, _other_number),
        "call-log-matches-snapshot",
    ),
    (
        "call-log page_count off by one",
        LIST_CALL_LOGS,
        changed(LIST_CALL_LOGS, _page_count_off_by_one),
        "call-log-pages",
    ),
    (
        "targets without next_page",
        LIST_TARGETS,
        changed(LIST_TARGETS, _no_next_page),
        "target-pages",
    ),
    (
        "target naming an unknown call",
        LIST_TARGETS,
        changed(LIST_TARGETS, _targets(_unknown_call)),
        "call-log-ids-resolve",
    ),
    (
        "finished target still in progress",
        LIST_TARGETS,
        changed(LIST_TARGETS, _targets(_still_in_progress)),
        "target-status-agrees",
    ),
]
