"""pytest options and fixtures of the contract suites (``pytest --pyargs prosper_contracts``).

The suites reuse the mock plugin's ``--prosper-base-url`` (the target; without
it, an in-process mock) and add what only contract checks need. A suite fails exactly when
it found something: each finding (a broken rule on an operation, with a curl command that
reproduces it) is printed at the end, grouped by rule, with the coverage and a table of
every operation's requests and answers; the JUnit file has a test case per operation and
per rule. What the endpoint does never reaches the user as a traceback.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from prosper_contracts.options import add_to_pytest, writes_refusal

if TYPE_CHECKING:
    from prosper_contracts.reporting import SuiteOutcome, Verdict
    from prosper_contracts.target import Target
    from prosper_mock.control.client import ControlClient, ControlError

# The plugin loads in every pytest session of a project that installed the kit;
# the suites' own dependencies (requests, schemathesis) load only when a suite runs.
TARGET = pytest.StashKey["Target"]()
DISCOVERY = pytest.StashKey[str]()
NOTES = pytest.StashKey[list[str]]()
SUITES = pytest.StashKey[list["SuiteOutcome"]]()
VERDICT = pytest.StashKey[tuple["Verdict", list[str]]]()
MARK = pytest.StashKey[int]()  # the findings recorded before a suite ran


def pytest_addoption(parser: pytest.Parser) -> None:
    add_to_pytest(parser.getgroup("prosper-contracts", "Prosper Voice contract suites"))


def _is_suite(item: pytest.Item) -> bool:
    return "contract_target" in getattr(item, "fixturenames", ())


@pytest.fixture(scope="session")
def contract_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The endpoint under test, recognised as a prosper-voice-mock when it is one."""
    from prosper_contracts.kit import operation_refusal
    from prosper_contracts.target import Target, unreachable
    from prosper_mock import InsecureKeyError, check_key_transport
    from prosper_mock.control.bodies import PREFIX
    from prosper_mock.control.client import ControlClient

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
    restore_faults: list[dict[str, Any]] = []
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
        is_mock = control.is_mock()
        read_only = is_mock and _refuses_changes(control)
        target = Target(
            url,
            header,
            key_env,
            control=control if is_mock else None,
            sandbox=sandbox,
            read_only=read_only,
        )
        if read_only:
            target.read_only_reason = (
                "the mock refuses changes (409: it runs several worker processes, each with "
                "its own copy of the world): checked read-only, reads only and no model-based "
                "suite against it"
            )
        elif target.control is None and (refusal := _health_refusal(control)) is not None:
            if refusal.status == 401:
                target.read_only_reason = (
                    f"the mock's control API refused (401): put its control token in "
                    f"${token_env} to run the model-based checks"
                )
            elif 300 <= refusal.status < 400:
                config.stash.setdefault(NOTES, []).append(
                    f"{url}{PREFIX}/health answered a redirect ({refusal.status} to "
                    f"{refusal.location or 'nowhere named'}): not taken for a mock; "
                    "no redirect is followed"
                )
        if is_mock:
            restore_faults = _faults(config, control, target)
            _stubs(config, control)
    else:
        server = request.getfixturevalue("prosper_server")
        target = Target(server.base_url, header, key_env, world=server.world)
    config.stash[TARGET] = target
    _say_up_front(config, target)
    try:
        yield target
    finally:
        if restore_faults and target.control is not None:
            target.control.set_faults(restore_faults)


def _refuses_changes(control: ControlClient) -> bool:
    """Whether a running mock refuses changes (409): several workers, a world copy each."""
    from prosper_mock.control.client import ControlError

    try:
        control.snapshot()  # kept by the mock, never restored: it changes nothing
    except ControlError as exc:
        return exc.status == 409
    except (OSError, ValueError):
        pass
    return False


def _faults(config: pytest.Config, control: ControlClient, target: Target) -> list[dict[str, Any]]:
    """Say which fault rules the mock has (or clear them for the run, with
    ``--prosper-clear-faults``); returns the rules to put back after the run."""
    from prosper_mock.control.client import ControlError

    try:
        rules = list(control.faults().get("rules") or [])
    except (ControlError, OSError, ValueError):
        return []
    if not rules:
        return []
    from prosper_contracts.reporting import plural

    shown = "; ".join(_rule_text(r) for r in rules)
    counted = plural(len(rules), "fault rule")
    notes = config.stash.setdefault(NOTES, [])
    if config.option.prosper_clear_faults and not target.read_only:
        control.clear_faults()
        # as PUT takes them back: a rule's faults are one text, its list joined by ","
        rules = [
            {**r, "faults": ",".join(r["faults"])} if isinstance(r.get("faults"), list) else r
            for r in rules
        ]
        notes.append(f"faults: the mock's {counted} cleared for the run ({shown})")
        return rules
    notes.append(
        f"faults: the mock injects faults by {counted}: {shown}; what they cause is "
        "reported (clear them for the run with --clear-faults, pytest: --prosper-clear-faults)"
    )
    target.record.fault_note = "the mock's fault rules may cause it"
    return []


def _stubs(config: pytest.Config, control: ControlClient) -> None:
    """Say which stubs the mock answers by before its world: what the suites judge then is
    partly what the stubs say, not the mock's own answers."""
    from prosper_mock.control.client import ControlError

    try:
        stubs = control.stubs()
    except (ControlError, OSError, ValueError):
        return
    if not stubs:
        return
    from prosper_contracts.reporting import plural

    shown = "; ".join(
        f"{s.get('method', '*')} {s.get('path')} -> {s.get('status')}"
        + (" (unchecked)" if s.get("unchecked") else "")
        for s in stubs[:5]
    )
    more = f"; and {len(stubs) - 5} more" if len(stubs) > 5 else ""
    config.stash.setdefault(NOTES, []).append(
        f"stubs: the mock answers by {plural(len(stubs), 'stub')} before its world: "
        f"{shown}{more}; their answers are judged like any other (DELETE /__mock/stubs "
        "removes them)"
    )


def _rule_text(rule: dict[str, Any]) -> str:
    faults = rule.get("faults")
    text = ",".join(faults) if isinstance(faults, list) else str(faults)
    chance = rule.get("probability", 1)
    match = rule.get("match") or {}
    where = f" when {match}" if match else ""
    return f"{text} at {float(chance):.0%}{where}"


def _say_up_front(config: pytest.Config, target: Target) -> None:
    """What the run is checking, before any suite reports."""
    notes = config.stash.setdefault(NOTES, [])
    if target.read_only_reason:
        notes.insert(0, f"read-only: {target.read_only_reason}")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or not notes:
        return
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        reporter.ensure_newline()
        for line in notes:
            reporter.write_line(f"prosper contract {line}")


def _health_refusal(control: ControlClient) -> ControlError | None:
    """The control API's refusal of a health check, if it refused: a 401 (a mock started
    with a control token), a redirect (never followed: whatever it points at is not the
    endpoint asked for), or any other status."""
    from prosper_mock.control.client import ControlError

    try:
        control.health()
    except ControlError as exc:
        return exc
    except (OSError, ValueError):
        pass
    return None


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    target = item.config.stash.get(TARGET, None)
    item.stash[MARK] = target.findings.made if target is not None else 0
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    """A suite fails exactly when it found something, and says so by its findings: what the
    endpoint did (a dropped connection, a flaky answer...) never shows as a traceback."""
    report: pytest.TestReport = yield
    if not _is_suite(item) or (call.when != "call" and report.passed):
        return report
    from prosper_contracts.reporting import SuiteOutcome

    name = item.name
    suites = item.config.stash.setdefault(SUITES, [])
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        suites.append(SuiteOutcome(name, "skipped", reason.removeprefix("Skipped: ")))
        return report
    target = item.config.stash.get(TARGET, None)
    mark = item.stash.get(MARK, 0)
    new = target.findings.made_since(mark) if target and call.when == "call" else []
    if new or call.excinfo is not None:
        text = _failure_text(item, target, new, call)
        report.outcome = "failed"
        if text is not None:
            report.longrepr = text
        suites.append(SuiteOutcome(name, "failed", (text or str(call.excinfo))[:300]))
    else:
        suites.append(SuiteOutcome(name, "passed"))
    return report


def _failure_text(
    item: pytest.Item, target: Target | None, new: list[Any], call: pytest.CallInfo[None]
) -> str | None:
    """A failed suite's message: its findings; ``None`` keeps the traceback (a kit error)."""
    from hypothesis.errors import Flaky

    from prosper_contracts.findings import Finding
    from prosper_contracts.reporting import plural
    from prosper_contracts.runner import EndpointFault

    error = call.excinfo.value if call.excinfo is not None else None
    failure = _control_failure(error)
    if failure is not None and target is not None:
        # the mock's control API refused what the suite needed (its store lost, say), or
        # gave no answer: what the endpoint did, so a finding, not a traceback
        finding = _control_finding(failure, item.config, target.base_url, item.name)
        target.findings.add(finding)
        new = [*new, finding]
    if isinstance(error, Flaky) and target is not None and not new:
        last = target.record.last
        finding = Finding(
            "consistent-answers",
            f"{item.name}: a step failed once and passed when repeated ({type(error).__name__})",
            last.fault.curl if last is not None and last.fault is not None else target.curl(),
            last.operation if last is not None else "",
            last.where if last is not None else "",
        )
        target.findings.add(finding)
        new = [finding]
    if new:
        shown = "\n".join(str(f) for f in new[:3])
        more = f"\n(and {len(new) - 3} more)" if len(new) > 3 else ""
        return f"{plural(len(new), 'finding')} (see 'prosper contract run' below):\n{shown}{more}"
    if isinstance(error, AssertionError | EndpointFault):
        return str(error)[:2000]
    return None


def _control_failure(error: BaseException | None) -> tuple[str, str, Any, str] | None:
    """``(method, url, body, what happened)`` of a control API request that was refused (a
    ``ControlError``) or got no answer (the transport's error, raised in ``ControlClient``);
    ``None`` for any other error."""
    from prosper_mock.control.client import ControlClient, ControlError

    if isinstance(error, ControlError):
        detail = str(error.detail)
        detail = detail if len(detail) <= 200 else detail[:199] + "\u2026"
        return (
            error.method or "GET",
            error.url or "",
            error.body,
            f"answered {error.status}: {detail}",
        )
    if not isinstance(error, OSError):
        return None
    tb = error.__traceback__
    while tb is not None:  # the client's request, where the transport failed
        frame = tb.tb_frame
        request = frame.f_locals.get("req")
        if isinstance(frame.f_locals.get("self"), ControlClient) and request is not None:
            why = getattr(error, "reason", None) or error
            what = f"gave no answer: {type(why).__name__}: {why}"
            return request.get_method(), request.full_url, request.data, what
        tb = tb.tb_next
    return None


def _control_finding(
    failure: tuple[str, str, Any, str], config: pytest.Config, base_url: str, suite: str
) -> Any:
    """The finding of a control API request refused or unanswered: the request, as a curl
    that sends it again (the control token as ``$ENV``, when the run has one); made on the
    suite's own mock when it was not the endpoint's control API."""
    from urllib.parse import urlsplit

    from prosper_contracts.findings import Finding, curl_command

    method, url, body, what = failure
    env = config.option.prosper_control_token_env
    headers = {"Content-Type": "application/json"} if body else {}
    curl = curl_command(url, method=method, headers=headers, body=body)
    if os.environ.get(env):
        curl += f' -H "Authorization: Bearer ${env}"'
    return Finding(
        "control-answer",
        f"the mock's control API {what}",
        curl,
        f"{method} {urlsplit(url).path}",
        "" if url.startswith(base_url + "/") else suite,
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The verdict (findings, coverage against ``--prosper-min-coverage``), the exit status
    that follows from it, and the JUnit file."""
    config = session.config
    target = config.stash.get(TARGET, None)
    if target is None:
        return
    from prosper_contracts.junit import junit_xml
    from prosper_contracts.reporting import coverage, verdict

    cover = coverage(target.record, _counted_operations(config, target))
    suites = config.stash.get(SUITES, [])
    incomplete = (
        "the mock refuses changes, so only its reads were checked; serve it with one worker, "
        "or its workers with --store (one shared world), to check it fully"
        if target.read_only
        else ""
    )
    decided = verdict(target.record, suites, cover, config.option.prosper_min_coverage, incomplete)
    config.stash[VERDICT] = (decided, cover.lines())
    if decided.failed and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    path = config.option.prosper_junit_xml
    if path:
        seconds = time.monotonic() - target.record.started
        text = junit_xml(target.record, cover, suites, seconds, decided.reasons)
        Path(path).write_text(text, encoding="utf-8")


def _counted_operations(config: pytest.Config, target: Target) -> set[str]:
    """The operations coverage counts: those chosen, and only reads when no write may go."""
    from prosper_contracts.answers import operations
    from prosper_contracts.kit import selected_operations

    chosen = selected_operations(config.option.prosper_operation)
    return {
        o.label
        for o in operations()
        if (chosen is None or o.label in chosen) and (target.writes or o.method == "GET")
    }


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    discovery = config.stash.get(DISCOVERY, None)
    if discovery:
        terminalreporter.section("prosper discovery report")
        for line in discovery.splitlines():
            terminalreporter.write_line(line)
    target = config.stash.get(TARGET, None)
    if target is None:
        return
    from prosper_contracts.reporting import finding_lines, table_lines

    decided, cover_lines = config.stash.get(VERDICT, (None, []))
    write = terminalreporter.write_line
    terminalreporter.section("prosper contract run")
    kind = (
        "prosper-voice-mock, read-only"
        if target.read_only
        else "prosper-voice-mock"
        if target.is_mock
        else f"not a prosper-voice-mock (writes only to campaign {target.sandbox!r})"
        if target.sandbox is not None
        else "not a prosper-voice-mock (read-only)"
    )
    write(f"target: {target.base_url} ({kind})")
    for note in config.stash.get(NOTES, []):
        write(note)
    chosen = config.option.prosper_hypothesis_seed
    write(f"seed: {chosen}" if chosen is not None else "seed: none (derandomised)")
    for suite in config.stash.get(SUITES, []):
        why = f": {suite.reason.splitlines()[0]}" if suite.reason else ""
        write(f"suite {suite.name}: {suite.outcome}{why}")
    if target.findings.items:
        write("findings, by rule:")
        for line in finding_lines(target.findings.by_rule()):
            write(line)
    elif decided is not None and not decided.failed:
        write("every rule held")
    for line in cover_lines:
        write(line)
    if decided is not None:
        write(
            f"verdict: FAILED: {'; '.join(decided.reasons)}"
            if decided.failed
            else "verdict: passed"
        )
    labels = sorted(_counted_operations(config, target))
    journal = target.is_mock and not target.read_only  # several workers: a journal each
    for line in table_lines(target.record, labels, target.base_url, journal):
        write(line)
