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


def test_an_operation_says_its_requests_to_the_endpoint_apart_from_the_suites_own_mocks() -> None:
    """The same counts as the table: the endpoint's (what its journal lists) and the suites'
    own mocks', apart; a finding made on a suite's own mock fails the operation too."""
    record = RunRecord()
    record.count("GET /api/v1/live-calls", 200)
    own = record.own_mock("test_lifecycle")
    own.count("GET /api/v1/live-calls", 404)
    own.count("GET /api/v1/call-logs", 200)
    own.findings.add(Finding("lifecycle", "wrong", "curl z", "GET /api/v1/call-logs"))
    root = ET.fromstring(junit_xml(record, coverage(record), [], 1.0))
    suite = next(s for s in root if s.get("name") == "prosper-contract.operations")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["GET /api/v1/live-calls"].findtext("system-out") == (
        "1 request (answers 200: 1) to the endpoint under test; 1 request (answers 404: 1) "
        "to the mocks the suites started for themselves; documented statuses never answered: "
        "400, 404, 422"
    )
    logs = cases["GET /api/v1/call-logs"]
    assert logs.findtext("system-out", "").startswith("0 requests (answers none) to the endpoint")
    failure = logs.find("failure")
    assert failure is not None and "(on the mock test_lifecycle started for itself)" in (
        failure.text or ""
    )
    values = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert (values["requests"], values["requests_to_own_mocks"]) == ("1", "2")


def test_every_rule_a_suite_judges_is_a_rule() -> None:
    assert set(JUDGED_BY) <= set(RULES)
