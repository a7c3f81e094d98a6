"""The run's JUnit XML: a test case per operation, per rule and per suite, so that a CI
dashboard shows which operation broke and by which rule, with the findings as failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

from prosper_contracts.findings import Finding
from prosper_contracts.reporting import Coverage, SuiteOutcome, plural
from prosper_contracts.rules import JUDGED_BY, RULES
from prosper_contracts.runner import RunRecord


def _case(
    suite: ET.Element, classname: str, name: str, findings: Sequence[Finding], doc: str = ""
) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name, time="0")
    if doc:
        ET.SubElement(case, "system-out").text = doc
    if findings:
        failure = ET.SubElement(
            case, "failure", message=f"{len(findings)} findings: {findings[0].message[:200]}"
        )
        failure.text = "\n".join(str(f) for f in findings)


def junit_xml(
    record: RunRecord,
    cover: Coverage,
    suites: Sequence[SuiteOutcome],
    seconds: float,
    failed_reasons: Sequence[str] = (),
) -> str:
    """The report: ``prosper-contract.operations`` (one case per operation: its requests
    and answers, those of the endpoint under test apart from those of the suites' own mocks,
    and all its findings), ``prosper-contract.rules`` (one per rule of ``RULES`` and
    per other rule found) and ``prosper-contract.suites`` (the pytest tests: skips say why)."""
    root = ET.Element("testsuites", name="prosper-contract")
    operations = ET.SubElement(root, "testsuite", name="prosper-contract.operations")
    own = record.own_mock_answers()
    for label in cover.operations:
        doc = f"{_sent(record.answers.get(label, {}))} to the endpoint under test"
        if own.get(label):
            doc += f"; {_sent(own[label])} to the mocks the suites started for themselves"
        if unanswered := cover.unanswered(label):
            doc += f"; documented statuses never answered: {', '.join(map(str, unanswered))}"
        found = [f for f in record.findings.items if f.operation == label]
        _case(operations, "prosper-contract.operations", label, found, doc)
    rules = ET.SubElement(root, "testsuite", name="prosper-contract.rules")
    grouped = record.findings.by_rule()
    ran = {each.name for each in suites if each.outcome != "skipped"}
    for rule in [*RULES, *sorted(r for r in grouped if r not in RULES)]:
        _case(rules, "prosper-contract.rules", rule, grouped.get(rule, []), RULES.get(rule, ""))
        judges = JUDGED_BY.get(rule)
        if rule not in grouped and judges and not any(n.startswith(judges) for n in ran):
            why = f"not judged: {', '.join(judges)} did not run"
            rules[-1].insert(0, ET.Element("skipped", message=why))
    outcomes = ET.SubElement(root, "testsuite", name="prosper-contract.suites")
    for each in suites:
        case = ET.SubElement(
            outcomes, "testcase", classname="prosper-contract.suites", name=each.name, time="0"
        )
        if each.outcome == "skipped":
            ET.SubElement(case, "skipped", message=each.reason[:500])
        elif each.outcome == "failed":
            ET.SubElement(case, "failure", message=each.reason[:500] or "failed")
    if failed_reasons:  # the run's verdict, such as a coverage below --min-coverage
        case = ET.SubElement(
            outcomes, "testcase", classname="prosper-contract.suites", name="verdict"
        )
        ET.SubElement(case, "failure", message="; ".join(failed_reasons)[:500])
    for suite in root:
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
        suite.set("errors", "0")
        suite.set("time", f"{seconds:.2f}")
    properties = ET.Element("properties")
    root[0].insert(0, properties)
    # requests: to the endpoint under test, as the table counts them and its journal lists them
    ET.SubElement(properties, "property", name="requests", value=str(record.requests))
    own_requests = str(record.own_mock_requests)
    ET.SubElement(properties, "property", name="requests_to_own_mocks", value=own_requests)
    ET.SubElement(properties, "property", name="coverage", value=f"{cover.percent:.1f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _sent(answers: Mapping[str, int]) -> str:
    """``12 requests (answers 200: 10, 404: 2)``."""
    shown = ", ".join(f"{status}: {n}" for status, n in sorted(answers.items()))
    return f"{plural(sum(answers.values()), 'request')} (answers {shown or 'none'})"


def write_junit(path: str | Path, text: str) -> None:
    Path(path).write_text(text, encoding="utf-8")
