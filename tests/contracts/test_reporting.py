"""The end of a run (``contracts/reporting.py``): coverage, the verdict the exit status
follows, findings grouped by rule, and the per-operation table."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from prosper_contracts.answers import operations
from prosper_contracts.findings import Finding
from prosper_contracts.generation import run_settings
from prosper_contracts.reporting import (
    SuiteOutcome,
    coverage,
    finding_lines,
    table_lines,
    verdict,
)
from prosper_contracts.runner import RunRecord

LABELS = sorted(o.label for o in operations())
LIVE_LOG = "GET /api/v1/call-logs/{call_log_id}"
STATUSES = ["200", "202", "400", "404", "418", "422", "500", "no answer"]


@given(
    answered=st.lists(st.tuples(st.sampled_from(LABELS), st.sampled_from(STATUSES))),
    minimum=st.none() | st.floats(0, 100),
    found=st.booleans(),
)
@run_settings(60, None)
def test_the_verdict_fails_exactly_on_a_finding_or_a_coverage_below_the_minimum(
    answered: list[tuple[str, str]], minimum: float | None, found: bool
) -> None:
    record = RunRecord()
    for label, status in answered:
        record.count(label, None if status == "no answer" else int(status))
    if found:
        record.findings.add(Finding("no-server-error", "answered 500", "curl", LABELS[0]))
    cover = coverage(record)
    documented = {(o.label, s) for o in operations() for s in o.statuses}
    hit = {(label, int(s)) for label, s in answered if s != "no answer"} & documented
    assert cover.percent == 100 * len(hit) / len(documented)
    assert cover.exercised == {label for label, _ in answered}
    decided = verdict(record, [SuiteOutcome("s", "passed")], cover, minimum)
    below = minimum is not None and cover.percent < minimum
    assert decided.failed == (found or below)
    assert any("below --min-coverage" in r for r in decided.reasons) == below


def test_a_suite_that_failed_without_a_finding_fails_the_run() -> None:
    record = RunRecord()
    decided = verdict(record, [SuiteOutcome("test_x", "failed")], coverage(record), None)
    assert decided.reasons == ["suites failed without a finding: test_x"]


def test_a_check_left_incomplete_fails_the_run_whatever_else_held() -> None:
    record = RunRecord()
    passed = [SuiteOutcome("test_x", "passed")]
    assert not verdict(record, passed, coverage(record), None).failed
    decided = verdict(record, passed, coverage(record), None, "the mock refuses changes")
    assert decided.reasons == ["incomplete: the mock refuses changes"]


def test_findings_are_grouped_by_rule_naming_every_operation_with_a_reproduction() -> None:
    made = [
        Finding("no-server-error", "answered 500: a", "curl a", "GET /api/v1/live-calls"),
        Finding("no-server-error", "answered 500: b", "curl b", "GET /api/v1/live-calls"),
        Finding("no-server-error", "answered 503", "curl c", "GET /api/v1/call-logs"),
        Finding(
            "target-pages", "page 1 ...", "curl d", "GET /api/v1/campaigns/{campaign_id}/targets"
        ),
    ]
    record = RunRecord()
    for f in made:
        record.findings.add(f)
    lines = finding_lines(record.findings.by_rule())
    assert lines[0] == "[no-server-error] 3 findings on 2 operations: no answer is a 5xx"
    assert lines[1:6] == [
        "  GET /api/v1/live-calls: answered 500: a",
        "    reproduce: curl a",
        "    (and 1 more on GET /api/v1/live-calls)",
        "  GET /api/v1/call-logs: answered 503",
        "    reproduce: curl c",
    ]
    assert lines[6].startswith("[target-pages] 1 finding on 1 operation: ")


def test_the_table_shows_each_operations_requests_answers_and_findings() -> None:
    record = RunRecord()
    for status in (200, 200, 404, None):
        record.count("GET /api/v1/live-calls", status)
    record.findings.add(Finding("complete-answer", "no answer", "curl", "GET /api/v1/live-calls"))
    lines = table_lines(record, ["GET /api/v1/health", "GET /api/v1/live-calls"])
    assert lines[0] == "requests to the endpoint under test:"
    assert lines[1].split() == ["operation", "sent", "answers", "by", "status", "findings"]
    assert lines[3].split() == ["GET", "/api/v1/health", "0", "-", "0"]
    assert lines[4].split() == [
        "GET",
        "/api/v1/live-calls",
        "4",
        "200:2",
        "404:1",
        "no",
        "answer:1",
        "1",
    ]
    assert lines[-1] == "4 requests sent to the endpoint under test"


def test_the_requests_to_the_suites_own_mocks_are_a_table_apart() -> None:
    """The endpoint's table counts what its journal lists; what the suites sent to mocks of
    their own is counted apart, each suite's total named, and the whole run's total."""
    record = RunRecord()
    record.count("GET /api/v1/live-calls", 200)
    fallback, lifecycle = record.own_mock("test_fallback"), record.own_mock("test_lifecycle")
    for status in (200, 404, 404):
        fallback.count("GET /api/v1/live-calls", status)
    lifecycle.count("GET /api/v1/live-calls", 200)
    lifecycle.count("GET /api/v1/call-logs", 200)
    lifecycle.findings.add(Finding("lifecycle", "wrong", "curl", "GET /api/v1/call-logs"))
    lines = table_lines(
        record, ["GET /api/v1/call-logs", "GET /api/v1/live-calls"], "http://h:1", journal=True
    )
    assert lines[0] == (
        "requests to the endpoint under test, http://h:1 (its journal, GET /__mock/journal, "
        "lists the same):"
    )
    assert lines[3].split() == ["GET", "/api/v1/call-logs", "0", "-", "0"]  # its finding: apart
    assert lines[4].split() == ["GET", "/api/v1/live-calls", "1", "200:1", "0"]
    assert lines[5] == "1 request sent to the endpoint under test"
    assert lines[6].startswith("requests to the mocks the suites started for themselves")
    assert lines[9].split() == ["GET", "/api/v1/call-logs", "1", "200:1", "1"]
    assert lines[10].split() == ["GET", "/api/v1/live-calls", "4", "200:2", "404:2", "0"]
    assert lines[11] == (
        "5 requests sent to the suites' own mocks (test_fallback: 3, test_lifecycle: 2); 6 in all"
    )
    assert len(lines) == 12
    (shown, *_) = finding_lines(record.findings.by_rule())[1:2]
    assert shown == "  GET /api/v1/call-logs (on the mock test_lifecycle started for itself): wrong"


def test_the_coverage_names_each_documented_status_never_answered() -> None:
    record = RunRecord()
    for status in (200, 404, 500):
        record.count("GET /api/v1/live-calls", status)
    record.count("GET /api/v1/health", 200)
    cover = coverage(record, {"GET /api/v1/live-calls", "GET /api/v1/health", LIVE_LOG})
    assert cover.unanswered("GET /api/v1/live-calls") == [400, 422]
    assert cover.lines()[1:] == [
        f"  operations never sent a request: {LIVE_LOG}",
        "  documented statuses never answered:",
        "    GET /api/v1/health: 400, 404",
        "    GET /api/v1/live-calls: 400, 422",
    ]
