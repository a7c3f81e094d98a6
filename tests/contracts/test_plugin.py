"""The contract plugin (``contracts/plugin.py``): a suite fails exactly when it made a
finding, says so by its findings rather than a traceback, and the verdict follows."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("quiet_pytester")

SUITES = """
from hypothesis.errors import FlakyStrategyDefinition
from prosper_contracts.findings import Finding

FOUND = Finding("source-valid", "source is 'x'", "curl -sS -i u", "GET /api/v1/live-calls")


def test_flaky(contract_target):
    contract_target.get({"call_log_id": "1000"})
    raise FlakyStrategyDefinition("Inconsistent data generation!")


def test_found_but_passed(contract_target):
    contract_target.findings.add(FOUND)


def test_found_again_by_another_suite(contract_target):
    contract_target.findings.add(FOUND)


def test_clean(contract_target):
    contract_target.get({"call_log_id": "1000"})
"""


def test_a_suite_fails_exactly_when_it_made_a_finding_and_shows_no_traceback(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_suites=SUITES)
    result = pytester.runpytest("-p", "no:randomly", "-rN")
    result.assert_outcomes(failed=3, passed=1)
    text = result.stdout.str()
    assert "Traceback" not in text and "FlakyStrategyDefinition(" not in text
    result.stdout.fnmatch_lines(
        [
            "suite test_flaky: failed: 1 finding *",
            "suite test_found_but_passed: failed: 1 finding *",
            "suite test_found_again_by_another_suite: failed: 1 finding *",
            "suite test_clean: passed",
            "[[]consistent-answers] 1 finding on 1 operation: *",
            "  GET /api/v1/live-calls: test_flaky: a step failed once and passed when repeated *",
            "verdict: FAILED: 2 findings of 2 rules",
        ]
    )
    assert "every rule held" not in text


def test_a_suite_failing_without_a_finding_is_no_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suites="def test_broken(contract_target):\n    raise KeyError('kit')\n"
    )
    result = pytester.runpytest("-p", "no:randomly", "-rN")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["verdict: FAILED: suites failed without a finding: test_broken"])
    assert "every rule held" not in result.stdout.str()
