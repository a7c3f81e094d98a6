"""What a run found (``contracts/findings.py``): each finding once, two requests that break a
rule the same way two findings, and those made on a suite's own mock marked so."""

from __future__ import annotations

from prosper_contracts.findings import Finding, Findings
from prosper_contracts.reporting import finding_lines

LIVE = "GET /api/v1/live-calls"


def test_two_requests_breaking_a_rule_the_same_way_are_two_findings() -> None:
    findings = Findings()
    first = Finding("no-server-error", "answered 500", "curl -sS -i 'http://h/a?x=1'", LIVE)
    findings.add(first)
    findings.add(first)  # the same request again: the same finding
    findings.add(Finding("no-server-error", "answered 500", "curl -sS -i 'http://h/a?x=2'", LIVE))
    assert len(findings.items) == 2 and findings.made == 3
    lines = finding_lines(findings.by_rule())
    assert lines[0].startswith("[no-server-error] 2 findings on 1 operation")
    assert lines[-1] == f"    (and 1 more on {LIVE})"


def test_a_view_marks_what_is_added_through_it_and_shares_the_run_s_findings() -> None:
    findings = Findings()
    own = findings.at("test_lifecycle")
    same = Finding("lifecycle", "wrong", "curl", LIVE)
    findings.add(same)
    own.add(same)  # the same rule broken the same way, on another endpoint: another finding
    assert [f.where for f in findings.items] == ["", "test_lifecycle"]
    assert own.items is findings.items and own.made == 2
    assert str(findings.items[1]).startswith(
        f"[lifecycle] {LIVE}: wrong (on the mock test_lifecycle started for itself)"
    )
