"""Rules across operations, read-only: call logs against their listing and their live-calls
snapshots, the pages of the call-log and target lists, and each target (listed, and fetched
by id) against its listing and the state of its calls.

Reads only (``GET``), so they run against any endpoint. On one that is not the mock, the
call-log list is walked up to the time the walk started (``to_date``), so that calls ending
meanwhile do not show up as overlaps. An answer that is a fault (no answer, a 5xx, no JSON)
is one finding, made by the run's session; nothing that depends on it is judged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest

from prosper_contracts.findings import Finding
from prosper_contracts.rules import Violation
from prosper_contracts.runner import EndpointFault, fault_of
from prosper_contracts.target import Target
from prosper_contracts.workflow import (
    check_call_log_ids_resolve,
    check_call_log_matches_snapshot,
    check_matches_listing,
    check_pages,
    check_target_status,
    walk_pages,
)

CALL_LOGS = "/api/v1/call-logs"
LOG_LIMIT, TARGET_LIMIT = 7, 4
MAX_PAGES = 60
MAX_LOGS = 15
MAX_TARGETS = 25
FAULT = (-1, None)  # what ``read`` returns for an answer that is a fault


class Faulted(Exception):
    """A read the rest depends on was a fault (already a finding): stop judging."""


def read(target: Target, path: str, params: Any = None) -> tuple[int, Any]:
    """(status, JSON body) of ``GET path``; ``FAULT`` when the answer was a fault."""
    try:
        response = target.get(params, path=path)
    except EndpointFault:
        return FAULT
    if fault_of(response) is not None:
        return FAULT
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def report(target: Target, violations: list[Violation], path: str, params: Any = None) -> None:
    """Each violation a finding on the operation ``GET path`` answers."""
    from prosper_contracts.answers import operation_for

    spec = operation_for("GET", path)
    label = spec.label if spec is not None else f"GET {path}"
    for v in violations:
        target.findings.add(Finding(v.rule, v.message, target.curl(params, path), label))


def log_filter(target: Target) -> dict[str, str]:
    if target.is_mock:
        return {}
    return {"to_date": datetime.now(UTC).isoformat(timespec="seconds")}


def walk(
    target: Target, path: str, key: str, limit: int, rule: str, extra: dict[str, str]
) -> tuple[list[Any], list[Violation]]:
    """Walk a list's pages; the violations of ``rule`` its pages break. ``Faulted`` when a
    page (or the one big page it is compared with) was a fault: nothing is judged then."""
    status, body = read(target, path, {**extra, "limit": str(limit * 25)})
    if (status, body) == FAULT:
        raise Faulted
    everything = None
    if status == 200 and isinstance(body, dict) and body.get("next_page") is None:
        items = body.get(key) or []
        everything = [str(i.get("id")) for i in items if isinstance(i, dict)]
        if len(everything) > limit * MAX_PAGES:
            everything = None

    def fetch(page: int) -> tuple[int, Any]:
        answer = read(target, path, {**extra, "page": str(page), "limit": str(limit)})
        if answer == FAULT:
            raise Faulted
        return answer

    pages, stopped = walk_pages(fetch, limit, key, MAX_PAGES)
    found = check_pages(
        rule, pages, limit, key, everything, page_count_required=rule == "call-log-pages"
    )
    if stopped is not None and not stopped.startswith("more than"):
        found.append(Violation(rule, f"the walk stopped: {stopped}"))
    items = [item for _, page in pages for item in page[key] if isinstance(item, dict)]
    return items, found


def test_call_log_pages_and_each_log_against_its_listing_and_snapshot(
    contract_target: Target,
) -> None:
    """The call-log list walked page by page keeps ``call-log-pages``; each listed call's
    ``GET /call-logs/{id}`` keeps ``call-log-matches-listing`` with its list entry and
    ``call-log-matches-snapshot`` with its live-calls answer."""
    target = contract_target
    extra = log_filter(target)
    try:
        logs, found = walk(target, CALL_LOGS, "call_logs", LOG_LIMIT, "call-log-pages", extra)
    except Faulted:
        return
    report(target, found, CALL_LOGS, {**extra, "limit": LOG_LIMIT})
    for item in logs[:MAX_LOGS]:
        number = str(item.get("id"))
        path = f"{CALL_LOGS}/{number}"
        status, log = read(target, path)
        if status != 200:
            continue  # a fault (a finding already), or gone since it was listed
        report(target, check_matches_listing("call-log-matches-listing", item, log), path)
        snap_status, snap = read(target, "/api/v1/live-calls", {"call_log_id": number})
        if snap_status == 200:
            report(target, check_call_log_matches_snapshot(log, snap), path)


def campaigns(target: Target, config: pytest.Config) -> list[str]:
    """Campaigns to walk: given (``--sample campaign_id=ID``, the sandbox), or the campaigns
    of the targets the first call logs name."""
    given = [dict(parse_qsl(s)).get("campaign_id", "") for s in config.option.prosper_sample] + [
        target.sandbox or ""
    ]
    found = [c for c in given if c]
    status, listed = read(target, CALL_LOGS, {"limit": "50"})
    if (status, listed) == FAULT:
        raise Faulted
    items = listed.get("call_logs") if isinstance(listed, dict) else None
    for item in items if isinstance(items, list) else []:
        ref = item.get("campaign_target_id") if isinstance(item, dict) else None
        if ref and len(found) < 3:
            _, owner = read(target, f"/api/v1/targets/{ref}")
            if isinstance(owner, dict) and isinstance(owner.get("campaign_id"), str):
                found.append(owner["campaign_id"])
        found = list(dict.fromkeys(found))
    return found


def test_target_pages_and_each_target_against_its_listing_and_calls(
    contract_target: Target, request: pytest.FixtureRequest
) -> None:
    """Each campaign's target list keeps ``target-pages``; each target, as listed and as
    ``GET /targets/{id}`` answers it (``target-matches-listing``), names calls that resolve
    (``call-log-ids-resolve``) and has a status that agrees with them
    (``target-status-agrees``)."""
    target = contract_target
    try:
        chosen = campaigns(target, request.config)
    except Faulted:
        return
    if not chosen:
        pytest.skip("no campaign known: pass --prosper-sample campaign_id=ID")
    checked = 0
    for campaign in chosen:
        path = f"/api/v1/campaigns/{campaign}/targets"
        try:
            listed, broken = walk(target, path, "targets", TARGET_LIMIT, "target-pages", {})
        except Faulted:
            return
        report(target, broken, path, {"limit": TARGET_LIMIT})
        for each in listed:
            if checked >= MAX_TARGETS:
                break
            checked += 1
            judge_target(target, each)


def judge_target(target: Target, listed: dict[str, Any]) -> None:
    """``target-matches-listing``, then ``call-log-ids-resolve`` and ``target-status-agrees``
    for the target as listed and as fetched by id (when they differ). A fault on any read
    leaves the target unjudged."""
    path = f"/api/v1/targets/{listed.get('id')}"
    status, fetched = read(target, path)
    if (status, fetched) == FAULT:
        return
    versions = [listed]
    if status == 200 and isinstance(fetched, dict):
        report(target, check_matches_listing("target-matches-listing", listed, fetched), path)
        if fetched != listed:
            versions.append(fetched)
    ids = {i for v in versions for i in v.get("call_log_ids") or () if isinstance(i, int)}
    resolves: dict[int, bool] = {}
    sources: dict[int, str | None] = {}
    for number in sorted(ids):
        snap_status, snap = read(target, "/api/v1/live-calls", {"call_log_id": str(number)})
        if (snap_status, snap) == FAULT:
            return
        ok = snap_status == 200 and isinstance(snap, dict)
        sources[number] = snap.get("source") if ok else None
        if sources[number] is None:
            log_status, _ = read(target, f"{CALL_LOGS}/{number}")
            if log_status == FAULT[0]:
                return
            resolves[number] = log_status == 200
        else:
            resolves[number] = True
    for version in versions:
        violations = check_call_log_ids_resolve(version, resolves)
        report(target, violations + check_target_status(version, sources), path)
