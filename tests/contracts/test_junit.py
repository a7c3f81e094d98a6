"""The run's JUnit file (``contracts/junit.py``): a test case per operation, per rule and
per suite, findings as failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from prosper_contracts.findings import Finding
from prosper_contracts.junit import junit_xml
from prosper_contracts.reporting import SuiteOutcome, coverage
from prosper_contracts.rules import JUDGED_BY, RULES
from prosper_contracts.runner import RunRecord


def test_a_case_per_operation_rule_and_suite_with_the_findings_as_failures() -> None:
    record = RunRecord()
    record.count("GET /api/v1/live-calls", 200)
    record.count("GET /api/v1/live-calls", None)
    record.findings.add(
        Finding("complete-answer", "no answer", "curl -sS -i x", "GET /api/v1/live-calls")
    )
    record.findings.add(
        Finding("spec:content_type_conformance", "bad", "curl y", "GET /api/v1/health")
    )
    suites = [
        SuiteOutcome("test_a", "failed", "1 finding"),
        SuiteOutcome("test_b", "skipped", "why"),
    ]
    root = ET.fromstring(junit_xml(record, coverage(record), suites, 1.5, ["1 finding"]))
    by_name = {s.get("name"): s for s in root}
    operations = {c.get("name"): c for c in by_name["prosper-contract.operations"].iter("testcase")}
    assert len(operations) == 16
    failure = operations["GET /api/v1/live-calls"].find("failure")
    assert failure is not None and "reproduce: curl -sS -i x" in (failure.text or "")
    assert operations["GET /api/v1/health"].find("failure") is not None
    assert operations["GET /api/v1/call-logs"].find("failure") is None
    rules = {c.get("name"): c for c in by_name["prosper-contract.rules"].findall("testcase")}
    assert set(rules) == set(RULES) | {"spec:content_type_conformance"}
    assert rules["complete-answer"].find("failure") is not None
    assert rules["no-server-error"].find("failure") is None
    assert rules["no-server-error"].find("skipped") is None  # judged on every answer
    skipped = rules["precedence"].find("skipped")  # only the fallback suite judges it
    assert skipped is not None and "test_fallback_semantics did not run" in skipped.get("message")
    ran = by_name["prosper-contract.suites"].findall("testcase")
    assert [c.get("name") for c in ran] == ["test_a", "test_b", "verdict"]
    assert ran[1].find("skipped").get("message") == "why"
    assert by_name["prosper-contract.operations"].get("failures") == "2"
    requests = by_name["prosper-contract.operations"].find("properties/property[@name='requests']")
    assert requests is not None and requests.get("value") == "2"


def test_every_rule_a_suite_judges_is_a_rule() -> None:
    assert set(JUDGED_BY) <= set(RULES)
