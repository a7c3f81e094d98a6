"""The rules across operations (``contracts/workflow.py``) on canned answers: kept, then broken."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from prosper_contracts.rules import RULES
from prosper_contracts.workflow import (
    check_call_log_ids_resolve,
    check_call_log_matches_snapshot,
    check_pages,
    check_target_status,
    walk_pages,
)
from prosper_mock import MockServer, World, WorldRecipe
from prosper_mock.world.flatten import snapshot
from prosper_mock.world.records import CallLog
from tests.broken_proxies import CORRUPTIONS, nothing, proxied

LOG_ROW = CallLog(
    id=1234,
    user_phone_number="+15550001111",
    created_at="2026-01-15T14:00:00+00:00",
    to="+15550001111",
    from_="+15550009999",
    call_length="61.5",
    agent_data={"voice": {"provider": "x"}, "name": "Ava"},
    campaign_target_id="t-1",
    qa={"score": 3},
    transcripts=[{"role": "agent", "text": "hi"}],
    variables={"external_id": "PAT-1"},
)


def exported(**changes: Any) -> dict[str, Any]:
    """The call log as GET /call-logs/{id} exports it (CallLogExportInformation)."""
    log = {
        "id": "1234",
        "to": LOG_ROW.to,
        "from_": LOG_ROW.from_,
        "created_at": LOG_ROW.created_at,
        "call_length": LOG_ROW.call_length,
        "call_ended_reason": LOG_ROW.call_ended_reason,
        "call_categorization": None,
        "recording_urls": [],
        "agent_data": LOG_ROW.agent_data,
        "campaign_target_id": "t-1",
        "post_call_data": None,
        "qa": {"score": 3},
        "transcripts": LOG_ROW.transcripts,
    }
    return {**log, **changes}


SNAPSHOT = snapshot("call_logs", LOG_ROW)  # the mock's own flattening of the same row


def rules(found: list[Any]) -> list[str]:
    return [v.rule for v in found]


def test_the_new_rules_are_registered() -> None:
    names = {
        "call-log-matches-snapshot",
        "call-log-pages",
        "target-pages",
        "call-log-ids-resolve",
        "target-status-agrees",
    }
    assert names <= set(RULES)


def test_a_call_log_agrees_with_its_snapshot() -> None:
    assert check_call_log_matches_snapshot(exported(), SNAPSHOT) == []
    same_instant = exported(created_at="2026-01-15T14:00:00Z")
    assert check_call_log_matches_snapshot(same_instant, SNAPSHOT) == []
    live = {**SNAPSHOT, "source": "live_calls"}
    assert check_call_log_matches_snapshot(exported(id="9"), live) == []  # not judged yet


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "1235"},
        {"id": 1235},
        {"to": "+15550002222"},
        {"created_at": "2026-01-15T14:00:01+00:00"},
        {"call_length": "61"},
        {"campaign_target_id": None},
        {"agent_data": {"voice": {"provider": "y"}, "name": "Ava"}},
        {"qa": None},
        {"call_categorization": {"outcome": "x"}},
        {"transcripts": []},
    ],
)
def test_a_call_log_that_disagrees_with_its_snapshot(changes: dict[str, Any]) -> None:
    found = check_call_log_matches_snapshot(exported(**changes), SNAPSHOT)
    assert rules(found) == ["call-log-matches-snapshot"], found


def test_a_snapshot_whose_id_disagrees_with_its_call_log_id() -> None:
    found = check_call_log_matches_snapshot(exported(), {**SNAPSHOT, "id": 99})
    assert rules(found) == ["call-log-matches-snapshot"]
    assert rules(check_call_log_matches_snapshot([], SNAPSHOT)) == ["call-log-matches-snapshot"]


# -- pages ---------------------------------------------------------------------------------


def paged(ids: list[str], limit: int, *, page_count: Any = "auto") -> Any:
    """A correct server's pages of ``ids``, as a fetch function."""
    count = -(-len(ids) // limit)

    def fetch(page: int) -> tuple[int, Any]:
        chunk = ids[page * limit : (page + 1) * limit]
        body = {
            "call_logs": [{"id": i} for i in chunk],
            "page_count": count if page_count == "auto" else page_count,
            "next_page": page + 1 if page + 1 < count else None,
        }
        return 200, body

    return fetch


IDS = [str(i) for i in range(1, 24)]  # 23 items: pages of 10, 10, 3


@pytest.mark.parametrize("ids", [IDS, IDS[:20], IDS[:3], []])
def test_pages_kept(ids: list[str]) -> None:
    pages, stopped = walk_pages(paged(ids, 10), 10, "call_logs")
    assert stopped is None
    assert check_pages("call-log-pages", pages, 10, "call_logs", everything=ids) == []


def test_a_full_last_page_is_followed_by_an_empty_one() -> None:
    pages, _ = walk_pages(paged(IDS[:20], 10), 10, "call_logs")
    assert [len(body["call_logs"]) for _, body in pages] == [10, 10, 0]


def broken_fetch(kind: str) -> Any:
    good = paged(IDS, 10)

    def fetch(page: int) -> tuple[int, Any]:
        status, body = good(page)
        body = {**body, "call_logs": list(body["call_logs"])}
        if kind == "overlap" and page == 1:
            body["call_logs"][0] = {"id": "1"}
        elif kind == "missing" and page == 1:
            body["call_logs"] = [*body["call_logs"][:9], {"id": "999"}]
        elif kind == "page_count":
            body["page_count"] = 2
        elif kind == "next_page" and page == 2:
            body["next_page"] = 3
        elif kind == "short" and page == 0:
            body["call_logs"] = body["call_logs"][:9]
        return status, body

    return fetch


@pytest.mark.parametrize("kind", ["overlap", "missing", "page_count", "next_page", "short"])
def test_pages_broken(kind: str) -> None:
    pages, _ = walk_pages(broken_fetch(kind), 10, "call_logs")
    found = check_pages("call-log-pages", pages, 10, "call_logs", everything=IDS)
    assert found and set(rules(found)) == {"call-log-pages"}, kind


def test_a_null_page_count_is_wrong_for_call_logs_and_unjudged_for_targets() -> None:
    pages, _ = walk_pages(paged(IDS, 10, page_count=None), 10, "call_logs")
    assert rules(check_pages("call-log-pages", pages, 10, "call_logs"))
    assert check_pages("target-pages", pages, 10, "call_logs", page_count_required=False) == []


def test_an_empty_list_may_count_zero_or_one_page() -> None:
    for count in (0, 1):
        pages, _ = walk_pages(paged([], 10, page_count=count), 10, "call_logs")
        assert check_pages("target-pages", pages, 10, "call_logs", everything=[]) == []


def test_a_walk_stops_and_says_why() -> None:
    assert walk_pages(lambda page: (404, {}), 10, "targets") == ([], "page 0 answered 404")
    assert walk_pages(lambda page: (200, {}), 10, "targets")[1] == "page 0 has no list 'targets'"
    full = {"targets": [{"id": "x"}]}
    assert walk_pages(lambda page: (200, full), 1, "targets", max_pages=3)[1] == (
        "more than 3 pages of 1"
    )


# -- targets and their calls ---------------------------------------------------------------


def test_call_log_ids_resolve() -> None:
    target = {"id": "t-1", "call_log_ids": [1, 2]}
    assert check_call_log_ids_resolve(target, {1: True, 2: True}) == []
    assert check_call_log_ids_resolve({"id": "t", "call_log_ids": None}, {}) == []
    found = check_call_log_ids_resolve(target, {1: True, 2: False})
    assert rules(found) == ["call-log-ids-resolve"] and "call 2" in found[0].message


@pytest.mark.parametrize(
    ("status", "sources", "broken"),
    [
        ("In Progress", {1: "call_logs", 2: "live_calls"}, False),
        ("Finished", {1: "call_logs", 2: "call_logs"}, False),
        ("Post-processing", {1: "call_logs", 2: "call_logs"}, False),
        ("In Progress", {1: "call_logs", 2: None}, False),  # one not found: not judged
        ("Finished", {1: "call_logs", 2: "live_calls"}, True),
        ("Pending", {1: "live_calls"}, True),
        ("In Progress", {1: "call_logs", 2: "call_logs"}, True),
    ],
)
def test_target_status_agrees(status: str, sources: dict[int, Any], broken: bool) -> None:
    target = {"id": "t-1", "status": status, "call_log_ids": list(sources)}
    found = check_target_status(target, sources)
    assert rules(found) == (["target-status-agrees"] if broken else [])


def test_a_target_without_calls_may_have_any_status() -> None:
    assert check_target_status({"id": "t", "status": "In Progress", "call_log_ids": []}, {}) == []


def _run_workflow_suites(base_url: str) -> list[Any]:
    """The cross-operation suites of ``contracts/test_workflow.py`` against ``base_url``:
    what they found."""
    from types import SimpleNamespace

    from prosper_contracts.target import Target
    from prosper_contracts.test_workflow import (
        test_call_log_pages_and_each_log_against_its_listing_and_snapshot as logs_suite,
    )
    from prosper_contracts.test_workflow import (
        test_target_pages_and_each_target_against_its_listing_and_calls as targets_suite,
    )
    from prosper_mock.control.client import ControlClient

    target = Target(base_url, control=ControlClient(base_url))
    logs_suite(target)
    request = SimpleNamespace(config=SimpleNamespace(option=SimpleNamespace(prosper_sample=[])))
    targets_suite(target, request)  # type: ignore[arg-type]
    return target.findings.items


@pytest.fixture(scope="module")
def clean_mock() -> Iterator[MockServer]:
    world = World.generate(WorldRecipe(seed=2, live_calls=6, call_logs=40))
    with MockServer(world) as server:
        yield server


def test_the_cross_operation_suites_pass_through_a_proxy_that_corrupts_nothing(
    clean_mock: MockServer,
) -> None:
    with proxied(clean_mock, nothing) as url:
        assert _run_workflow_suites(url) == []


@pytest.mark.parametrize(("name", "corrupt", "rule"), CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_each_corruption_behind_a_proxy_is_caught_naming_its_rule(
    clean_mock: MockServer, name: str, corrupt: Any, rule: str
) -> None:
    with proxied(clean_mock, corrupt) as url:
        found = _run_workflow_suites(url)
    assert rule in {f.rule for f in found}, [str(f) for f in found]
    assert all(f.operation and f.curl.startswith("curl -sS -i ") for f in found)
