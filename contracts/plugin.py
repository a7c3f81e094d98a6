"""pytest options and fixtures of the contract suites (``pytest --pyargs prosper_contracts``).

The suites reuse the mock plugin's ``--prosper-base-url`` (the target; without
it, an in-process mock) and add what only contract checks need. Findings are
printed at the end as rule names with curl commands, and the discovery report
is written when asked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from prosper_contracts.options import add_to_pytest, writes_refusal

if TYPE_CHECKING:
    from prosper_contracts.target import Target
    from prosper_mock.control.client import ControlClient

# The plugin loads in every pytest session of a project that installed the kit;
# the suites' own dependencies (requests, schemathesis) load only when a suite runs.
TARGET = pytest.StashKey["Target"]()
DISCOVERY = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_to_pytest(parser.getgroup("prosper-contracts", "Prosper Voice contract suites"))


@pytest.fixture(scope="session")
def contract_target(request: pytest.FixtureRequest) -> Target:
    """The endpoint under test, recognised as a prosper-voice-mock when it is one."""
    from prosper_contracts.kit import operation_refusal
    from prosper_contracts.target import Target, unreachable
    from prosper_mock.control.client import ControlClient
    from prosper_mock.serving.auth import InsecureKeyError, check_key_transport

    config = request.config
    options = config.option
    url = options.prosper_base_url or config.getini("prosper_base_url")
    key_env, header = options.prosper_api_key_env, options.prosper_api_key_header
    sandbox = options.prosper_sandbox_campaign
    refused = writes_refusal(options.prosper_allow_writes, sandbox)
    if refused is None:
        refused = operation_refusal(options.prosper_operation)
    if refused is not None:
        pytest.exit(f"usage error: {refused}", returncode=2)
    if url:
        url = url.rstrip("/")
        try:
            check_key_transport(url, bool(os.environ.get(key_env)), options.allow_insecure_key)
        except InsecureKeyError as exc:
            pytest.exit(str(exc), returncode=2)
        problem = unreachable(url)
        if problem is not None:
            pytest.exit(f"cannot reach {url}: {problem}", returncode=2)
        token_env = options.prosper_control_token_env
        control = ControlClient(url, token=os.environ.get(token_env))
        target = Target(
            url, header, key_env, control=control if control.is_mock() else None, sandbox=sandbox
        )
        if target.control is None and _refused_for_want_of_token(control):
            target.read_only_reason = (
                f"the mock's control API refused (401): put its control token in ${token_env} "
                "to run the model-based checks"
            )
    else:
        server = request.getfixturevalue("prosper_server")
        target = Target(server.base_url, header, key_env, world=server.world)
    config.stash[TARGET] = target
    return target


def _refused_for_want_of_token(control: ControlClient) -> bool:
    """Whether the control API answered 401: a mock started with a control token."""
    from prosper_mock.control.client import ControlError

    try:
        control.health()
    except ControlError as exc:
        return exc.status == 401
    except (OSError, ValueError):
        pass
    return False


@pytest.fixture(scope="session")
def contract_examples(request: pytest.FixtureRequest) -> int:
    return max(1, int(request.config.option.prosper_examples))


@pytest.fixture(scope="session")
def contract_seed(request: pytest.FixtureRequest) -> int | None:
    """The hypothesis seed; ``None``: derandomised, every run sends the same requests."""
    seed: int | None = request.config.option.prosper_hypothesis_seed  # type=int, default None
    return seed


def record_discovery(config: pytest.Config, text: str) -> None:
    config.stash[DISCOVERY] = text
    path = config.option.prosper_discovery_report
    if path:
        Path(path).write_text(text, encoding="utf-8")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    target = config.stash.get(TARGET, None)
    if target is not None:
        kind = (
            "prosper-voice-mock"
            if target.is_mock
            else f"not a prosper-voice-mock (writes only to campaign {target.sandbox!r})"
            if target.sandbox is not None
            else "not a prosper-voice-mock (read-only)"
        )
        terminalreporter.section("prosper contract findings")
        terminalreporter.write_line(f"target: {target.base_url} ({kind})")
        if target.read_only_reason:
            terminalreporter.write_line(f"read-only: {target.read_only_reason}")
        chosen = config.option.prosper_hypothesis_seed
        terminalreporter.write_line(
            f"seed: {chosen}" if chosen is not None else "seed: none (derandomised)"
        )
        if not target.findings.items:
            terminalreporter.write_line("every rule held")
        for finding in target.findings.items:
            terminalreporter.write_line(str(finding))
    discovery = config.stash.get(DISCOVERY, None)
    if discovery:
        terminalreporter.section("prosper discovery report")
        for line in discovery.splitlines():
            terminalreporter.write_line(line)
