"""Discovery: the undocumented cases, the target's answers next to the mock's."""

from __future__ import annotations

import pytest
import requests

from prosper_contracts.discovery import observe, report
from prosper_contracts.findings import Finding
from prosper_contracts.plugin import record_discovery
from prosper_contracts.target import Target
from prosper_mock import MockServer
from prosper_mock.base.upstream import LIVE_CALLS_PATH


def test_discovery_report(contract_target: Target, request: pytest.FixtureRequest) -> None:
    """A finding, not a failure: differences are reported with the option that closes them.
    Only a server error (5xx) on a probe fails."""
    sample = None
    first = contract_target.get({"call_log_id": "1000"})
    if first.status_code == 200:
        sample = first.json()
    with MockServer() as mock:  # the mock as shipped, default decisions
        observations = observe(
            contract_target.get,
            lambda params: requests.get(mock.url(LIVE_CALLS_PATH), params=params, timeout=10),
            sample,
        )
    record_discovery(request.config, report(observations, contract_target.base_url))
    errors = [o for o in observations if o.target[0] >= 500]
    for o in errors:
        contract_target.findings.add(
            Finding(
                "spec:not_a_server_error",
                f"{o.target[0]} on probe '{o.probe.name}'",
                contract_target.curl(o.probe.params),
            )
        )
    assert not errors, [o.probe.name for o in errors]
