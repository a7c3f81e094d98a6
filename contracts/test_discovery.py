"""Discovery: the undocumented cases, the target's answers next to the mock's."""

from __future__ import annotations

import pytest
import requests

from prosper_contracts.discovery import Probe, observe, operation_probes, probes, report
from prosper_contracts.plugin import record_discovery
from prosper_contracts.target import Target
from prosper_mock import MockServer


def launch_campaign(target: Target) -> str | None:
    """Where the launch probe (a write) may go: on a mock, its first campaign; elsewhere the
    sandbox of a run allowed writes, or nowhere."""
    driver = target.driver
    if driver is not None:
        campaigns = driver.campaigns()
        return str(campaigns[0]["id"]) if campaigns else None
    return target.sandbox


def test_discovery_report(contract_target: Target, request: pytest.FixtureRequest) -> None:
    """A report, not a failure: differences are listed with the option that closes them.
    Reads only, but for the launch probe when the run allows writes to a sandbox. Only what
    fails on any answer (a 5xx, no answer...: the run's session judges it) fails here."""
    sample = None
    first = contract_target.get({"call_log_id": "1000"})
    if first.status_code == 200:
        sample = first.json()
    campaign = launch_campaign(contract_target)
    chosen = probes(sample) + operation_probes(campaign)

    def to_target(p: Probe) -> requests.Response:
        return contract_target.request(p.method, p.path, params=p.params, json=p.body)

    with MockServer() as mock:  # the mock as shipped, default decisions
        ours = mock.world.campaigns()[0].id  # the launch probe goes to a campaign it has
        # through a session of its own, so the run counts these requests too (apart)
        shipped = Target(
            mock.base_url,
            record=contract_target.record.own_mock(test_discovery_report.__name__),
            world=mock.world,
        )

        def to_mock(p: Probe) -> requests.Response:
            path = p.path.replace(f"/{campaign}/", f"/{ours}/") if p.method != "GET" else p.path
            return shipped.request(p.method, path, params=p.params, json=p.body)

        observations = observe(to_target, to_mock, chosen)
    record_discovery(request.config, report(observations, contract_target.base_url))
