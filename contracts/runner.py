"""A contract run's record: every request the suites send, counted and judged as answered.

Every request of every suite goes through ``RecordingSession`` (``Target.session``): it
counts each exchange by operation and status (the per-operation table, coverage) and judges
every answer with the answer rules (``prosper_contracts.answers``), whichever suite sent it.
A request that gets no answer (a dropped connection, a timeout, a truncated body) is a
finding too, and raises ``EndpointFault`` instead of the transport's error: the suites stop
what depended on it, and no traceback reaches the user. ``fault_of`` says whether an answer
was a fault, so that no semantic rule is judged on it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from prosper_contracts.answers import FAULT_RULES, NO_ANSWER, judge, operation_for
from prosper_contracts.findings import Finding, Findings, request_curl
from prosper_contracts.safety import GuardedSession, WritePolicy
from prosper_mock.base.errors import ProsperMockError

NO_OPERATION = "(no operation of the spec)"
NO_ANSWER_STATUS = "no answer"
DEFAULT_TIMEOUT = 30.0  # seconds a request without a timeout of its own waits for its answer


class EndpointFault(ProsperMockError, RuntimeError):
    """The endpoint gave no answer (dropped, timed out, cut short); the finding is recorded."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(str(finding))
        self.finding = finding


@dataclass
class Exchange:
    """One request and what came of it."""

    operation: str
    status: int | None  # None: no answer
    request: Any  # the requests.PreparedRequest sent
    fault: Finding | None = None  # the finding that makes the answer a fault


@dataclass
class RunRecord:
    """Every exchange of a run, by operation and status, and every finding."""

    findings: Findings = field(default_factory=Findings)
    answers: dict[str, Counter[str]] = field(default_factory=dict)  # operation -> status -> n
    last: Exchange | None = None
    started: float = field(default_factory=time.monotonic)
    fault_note: str = ""  # said on every fault finding: e.g. the target's fault rules

    def sharing_findings(self) -> RunRecord:
        """A record of its own counts (requests to another server) with these findings."""
        return RunRecord(findings=self.findings, fault_note=self.fault_note)

    def count(self, operation: str, status: int | None) -> None:
        shown = NO_ANSWER_STATUS if status is None else str(status)
        self.answers.setdefault(operation, Counter())[shown] += 1

    @property
    def requests(self) -> int:
        return sum(sum(c.values()) for c in self.answers.values())

    def findings_on(self, operation: str) -> list[Finding]:
        return [f for f in self.findings.items if f.operation == operation]


def fault_of(response: Any) -> Finding | None:
    """The finding that makes ``response`` a fault (a 5xx, a body that is not JSON...): no
    rule is judged on it further. ``None`` for an answer fit to be judged."""
    found = getattr(response, "prosper_fault", None)
    return found if isinstance(found, Finding) else None


def _content_type(response: requests.Response) -> str | None:
    return response.headers.get("content-type")


class RecordingSession(GuardedSession):
    """The guarded session (write safety) that also records and judges every exchange."""

    def __init__(
        self,
        policy: WritePolicy,
        record: RunRecord,
        base: str,
        api_key_header: str,
        api_key_env: str,
    ) -> None:
        super().__init__(policy, base)
        self.prefix = urlsplit(base).path.rstrip("/")  # the endpoint's path, before the API's
        self.record = record
        self.api_key_header = api_key_header
        self.api_key_env = api_key_env

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        path = urlsplit(request.url or "").path
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix) :]
        spec = operation_for(request.method or "GET", path)
        label = spec.label if spec is not None else NO_OPERATION
        if kwargs.get("timeout") is None:  # schemathesis sends none: never wait forever
            kwargs["timeout"] = DEFAULT_TIMEOUT
        try:
            response = super().send(request, **kwargs)
            response.content  # noqa: B018 -- a body cut short fails here, not in a suite
        except requests.RequestException as exc:
            finding = self._finding(NO_ANSWER, f"no answer: {_why(exc)}", label, request)
            self.record.count(label, None)
            self.record.last = Exchange(label, None, request, finding)
            raise EndpointFault(finding) from None
        self.record.count(label, response.status_code)
        exchange = Exchange(label, response.status_code, request)
        violations = judge(spec, response.status_code, _content_type(response), response.content)
        for v in violations:
            finding = self._finding(v.rule, v.message, label, request)
            if v.rule in FAULT_RULES and exchange.fault is None:
                exchange.fault = finding
        response.prosper_fault = exchange.fault  # type: ignore[attr-defined]
        self.record.last = exchange
        return response

    def _finding(self, rule: str, message: str, label: str, request: Any) -> Finding:
        if rule in FAULT_RULES and self.record.fault_note:
            message = f"{message} ({self.record.fault_note})"
        finding = Finding(
            rule, message, request_curl(request, self.api_key_header, self.api_key_env), label
        )
        self.record.findings.add(finding)
        return finding


def _why(exc: requests.RequestException) -> str:
    """The transport's error in a few words: what happened, not a stack of wrapped errors."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the body was cut short"
    text = str(exc)
    for known in ("RemoteDisconnected", "Connection aborted", "Connection refused", "reset"):
        if known in text:
            return {
                "RemoteDisconnected": "the connection was closed without an answer",
                "Connection aborted": "the connection was closed without an answer",
                "Connection refused": "connection refused",
                "reset": "the connection was reset",
            }[known]
    return type(exc).__name__
