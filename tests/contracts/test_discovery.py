"""Discovery probes (``contracts/discovery.py``): reads where possible, the launch probe only
where writes may go, and a probe without an answer is a finding, not a crash."""

from __future__ import annotations

import requests

from prosper_contracts.discovery import (
    Observation,
    Probe,
    answer,
    observe,
    operation_probes,
    report,
)
from prosper_contracts.safety import WriteRefused


def test_the_operation_probes_are_reads_without_a_launch_campaign() -> None:
    chosen = operation_probes(None)
    assert {p.method for p in chosen} == {"GET"}
    assert {p.name for p in chosen} == {
        "unknown call log",
        "unknown target",
        "unknown campaign's targets",
    }


def test_the_launch_probe_goes_to_the_campaign_given_with_neither_ids_nor_count() -> None:
    (launch,) = [p for p in operation_probes("sbx") if p.method != "GET"]
    assert (launch.method, launch.path, launch.body) == ("POST", "/api/v1/campaigns/sbx/calls", {})


def test_a_probe_without_an_answer_is_status_0_with_the_reason() -> None:
    def refused(_probe: Probe) -> requests.Response:
        raise WriteRefused("outside the sandbox")

    def lost(_probe: Probe) -> requests.Response:
        raise requests.ConnectionError("reset")

    probe = operation_probes(None)[0]
    assert answer(refused, probe) == (0, "not sent or no answer: outside the sandbox")
    assert answer(lost, probe)[0] == 0
    (seen,) = observe(refused, lost, [probe])
    assert seen.target[0] == 0 and seen.mock[0] == 0


def test_the_report_lists_the_operation_probes() -> None:
    probe = operation_probes(None)[1]
    text = report([Observation(probe, (404, {"detail": "Target not found"}), (404, {}))], "U")
    assert "| unknown target | not found (target) | `404" in text
    assert "1 of 1 probes differ." in text


def test_advice_for_the_operation_probes() -> None:
    from prosper_contracts.discovery import advice

    unknown, launch = operation_probes("c")[0], operation_probes("c")[-1]
    said = advice(Observation(unknown, (410, {"detail": "Gone"}), (404, {"detail": "x"})))
    assert said == "prosper-mock serve --not-found-status 410"
    said = advice(Observation(launch, (422, {"detail": []}), (400, {"detail": "x"})))
    assert said == "prosper-mock serve --missing-lookup-status 422"
