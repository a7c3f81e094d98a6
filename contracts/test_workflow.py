"""Rules across operations, read-only: call logs against their live-calls snapshots, the
pages of the call-log and target lists, and each target against the state of its calls.

Reads only (``GET``), so they run against any endpoint. On one that is not the mock, the
call-log list is walked up to the time the walk started (``to_date``), so that calls ending
meanwhile do not show up as overlaps.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests

from prosper_contracts.findings import Finding
from prosper_contracts.rules import Violation
from prosper_contracts.target import Target
from prosper_contracts.workflow import (
    check_call_log_ids_resolve,
    check_call_log_matches_snapshot,
    check_pages,
    check_target_status,
    walk_pages,
)

CALL_LOGS = "/api/v1/call-logs"
LOG_LIMIT, TARGET_LIMIT = 7, 4
MAX_PAGES = 60
MAX_TARGETS = 25


def body_of(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def report(target: Target, violations: list[Violation], path: str, params: Any = None) -> None:
    for v in violations:
        target.findings.add(Finding(v.rule, v.message, target.curl(params, path)))


def fail_on(violations: list[Violation]) -> None:
    assert not violations, "\n".join(str(v) for v in violations)


def log_filter(target: Target) -> dict[str, str]:
    if target.is_mock:
        return {}
    return {"to_date": datetime.now(UTC).isoformat(timespec="seconds")}


def walk(
    target: Target, path: str, key: str, limit: int, rule: str, extra: dict[str, str]
) -> tuple[list[Any], list[Violation]]:
    """Walk a list's pages; the violations of ``rule`` its pages break."""
    whole = target.get({**extra, "limit": str(limit * 25)}, path=path)
    body = body_of(whole)
    everything = None
    if whole.status_code == 200 and isinstance(body, dict) and body.get("next_page") is None:
        items = body.get(key) or []
        everything = [str(i.get("id")) for i in items if isinstance(i, dict)]
        if len(everything) > limit * MAX_PAGES:
            everything = None

    def fetch(page: int) -> tuple[int, Any]:
        response = target.get({**extra, "page": str(page), "limit": str(limit)}, path=path)
        return response.status_code, body_of(response)

    pages, stopped = walk_pages(fetch, limit, key, MAX_PAGES)
    found = check_pages(
        rule, pages, limit, key, everything, page_count_required=rule == "call-log-pages"
    )
    if stopped is not None and not stopped.startswith("more than"):
        found.append(Violation(rule, f"the walk stopped: {stopped}"))
    items = [item for _, page in pages for item in page[key] if isinstance(item, dict)]
    return items, found


def test_call_log_pages_and_each_log_against_its_snapshot(contract_target: Target) -> None:
    """The call-log list walked page by page keeps ``call-log-pages``; each listed call's
    ``GET /call-logs/{id}`` keeps ``call-log-matches-snapshot`` with its live-calls answer."""
    target = contract_target
    extra = log_filter(target)
    logs, found = walk(target, CALL_LOGS, "call_logs", LOG_LIMIT, "call-log-pages", extra)
    report(target, found, CALL_LOGS, {**extra, "limit": LOG_LIMIT})
    matched: list[Violation] = []
    for item in logs[:15]:
        number = str(item.get("id"))
        path = f"{CALL_LOGS}/{number}"
        log = target.get(path=path)
        snap = target.get({"call_log_id": number})
        if log.status_code == 200 and snap.status_code == 200:
            v = check_call_log_matches_snapshot(body_of(log), body_of(snap))
            report(target, v, path)
            matched += v
    fail_on(found + matched)


def campaigns(target: Target, config: pytest.Config) -> list[str]:
    """Campaigns to walk: given (``--sample campaign_id=ID``, the sandbox), or the campaigns
    of the targets the first call logs name."""
    given = [dict(parse_qsl(s)).get("campaign_id", "") for s in config.option.prosper_sample] + [
        target.sandbox or ""
    ]
    found = [c for c in given if c]
    listed = body_of(target.get({"limit": "50"}, path=CALL_LOGS))
    items = listed.get("call_logs") if isinstance(listed, dict) else None
    for item in items if isinstance(items, list) else []:
        ref = item.get("campaign_target_id") if isinstance(item, dict) else None
        if ref and len(found) < 3:
            owner = body_of(target.get(path=f"/api/v1/targets/{ref}"))
            if isinstance(owner, dict) and isinstance(owner.get("campaign_id"), str):
                found.append(owner["campaign_id"])
        found = list(dict.fromkeys(found))
    return found


def test_target_pages_and_each_target_against_its_calls(
    contract_target: Target, request: pytest.FixtureRequest
) -> None:
    """Each campaign's target list keeps ``target-pages``; each target's ``call_log_ids``
    resolve (``call-log-ids-resolve``) and its status agrees with them
    (``target-status-agrees``)."""
    target = contract_target
    chosen = campaigns(target, request.config)
    if not chosen:
        pytest.skip("no campaign known: pass --prosper-sample campaign_id=ID")
    found: list[Violation] = []
    checked = 0
    for campaign in chosen:
        path = f"/api/v1/campaigns/{campaign}/targets"
        targets, broken = walk(target, path, "targets", TARGET_LIMIT, "target-pages", {})
        report(target, broken, path, {"limit": TARGET_LIMIT})
        found += broken
        for each in targets:
            if checked >= MAX_TARGETS:
                break
            checked += 1
            found += judge_target(target, each)
    fail_on(found)


def judge_target(target: Target, each: dict[str, Any]) -> list[Violation]:
    """``call-log-ids-resolve`` and ``target-status-agrees`` for one listed target."""
    ids = [i for i in each.get("call_log_ids") or () if isinstance(i, int)]
    resolves: dict[int, bool] = {}
    sources: dict[int, str | None] = {}
    for number in ids:
        snap = target.get({"call_log_id": str(number)})
        body = body_of(snap)
        sources[number] = body.get("source") if snap.ok and isinstance(body, dict) else None
        logged = sources[number] is not None or target.get(path=f"{CALL_LOGS}/{number}").ok
        resolves[number] = logged
    violations = check_call_log_ids_resolve(each, resolves) + check_target_status(each, sources)
    report(target, violations, f"/api/v1/targets/{each.get('id')}")
    return violations
