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


def test_a_control_api_refusal_is_a_finding_with_a_curl_not_a_traceback(
    pytester: pytest.Pytester,
) -> None:
    """The mock's control API refusing what a suite needs (a restore, a snapshot while its
    store is lost) is what the endpoint did: a finding whose curl sends the request again."""
    import re
    import subprocess

    pytester.makepyfile(
        test_suites="""
from prosper_mock.control.client import ControlClient


def test_restores_what_was_never_saved(contract_target):
    ControlClient(contract_target.base_url).restore("never-saved")
"""
    )
    result = pytester.runpytest("-p", "no:randomly", "-rN")
    assert result.ret == 1
    text = result.stdout.str()
    assert "Traceback" not in text and "ControlError" not in text and "ExceptionInfo" not in text
    result.stdout.fnmatch_lines(
        [
            "suite test_restores_what_was_never_saved: failed: 1 finding *",
            "[[]control-answer] 1 finding on 1 operation: *",
            "  POST /__mock/snapshots/never-saved/restore: the mock's control API answered 404: *",
            "    reproduce: curl -sS -i -X POST http://127.0.0.1:*/__mock/snapshots/never-saved/*",
            "verdict: FAILED: 1 finding of 1 rule",
            "POST /__mock/snapshots/never-saved/restore * 0 * 1",
        ]
    )
    curl = re.search(r"reproduce: (curl .*/restore\S*)", text)
    assert curl is not None
    # the in-process mock is gone with its run: the same request to a mock of the same kind
    from prosper_mock import MockServer

    with MockServer() as again:
        command = re.sub(r"http://127\.0\.0\.1:\d+", again.base_url, curl[1])
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=30)
    assert done.stdout.startswith("HTTP/1.1 404"), done.stdout[:300]


def test_a_control_api_that_gives_no_answer_is_a_finding_not_a_traceback(
    pytester: pytest.Pytester,
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pytester.makepyfile(
        test_suites=f"""
from prosper_mock.control.client import ControlClient


def test_resets_a_mock_that_is_gone(contract_target):
    ControlClient("http://127.0.0.1:{port}").reset()
"""
    )
    result = pytester.runpytest("-p", "no:randomly", "-rN")
    assert result.ret == 1
    text = result.stdout.str()
    assert "Traceback" not in text and "URLError" not in text and "ExceptionInfo" not in text
    result.stdout.fnmatch_lines(
        [
            "suite test_resets_a_mock_that_is_gone: failed: 1 finding *",
            "[[]control-answer] 1 finding on 1 operation: *",
            "  POST /__mock/reset (on the mock test_resets_a_mock_that_is_gone started for "
            "itself): the mock's control API gave no answer: ConnectionRefusedError: *",
            f"    reproduce: curl -sS -i -X POST http://127.0.0.1:{port}/__mock/reset",
        ]
    )
