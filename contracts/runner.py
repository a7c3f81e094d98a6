"""A contract run's record: every request the suites send, counted and judged as answered.

Every request of every suite goes through ``RecordingSession`` (``Target.session``): it
counts each exchange by operation and status (the per-operation table, coverage) and judges
every answer with the answer rules (``prosper_contracts.answers``), whichever suite sent it.
The requests to the endpoint under test are counted apart from those a suite sends to a mock
it started for itself (``RunRecord.own_mock``): the endpoint's counts are what its journal
lists, the others are reported beside them.
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
    where: str = ""  # the suite whose own mock answered ("": the endpoint under test)


@dataclass
class RunRecord:
    """Every exchange of a run, by operation and status, and every finding.

    ``answers`` counts the requests to one endpoint: the run's record, the endpoint under
    test; the record of a mock a suite started for itself (``own_mock``), that mock. The
    run's record keeps those in ``own_mocks``, so that nothing the run sent goes uncounted
    and nothing is counted against an endpoint that did not answer it."""

    findings: Findings = field(default_factory=Findings)
    answers: dict[str, Counter[str]] = field(default_factory=dict)  # operation -> status -> n
    last: Exchange | None = None
    started: float = field(default_factory=time.monotonic)
    fault_note: str = ""  # said on every fault finding: e.g. the target's fault rules
    where: str = ""  # the suite whose own mock this record counts ("": the endpoint under test)
    own_mocks: list[RunRecord] = field(default_factory=list)
    parent: RunRecord | None = field(default=None, repr=False)

    def own_mock(self, suite: str) -> RunRecord:
        """The record of the requests ``suite`` sends to a mock it started for itself: its
        own counts, its findings among the run's (each marked as made there). The endpoint
        under test's fault rules are not that mock's, so its fault note is not carried."""
        child = RunRecord(findings=self.findings.at(suite), where=suite, parent=self)
        self.own_mocks.append(child)
        return child

    def count(self, operation: str, status: int | None) -> None:
        shown = NO_ANSWER_STATUS if status is None else str(status)
        self.answers.setdefault(operation, Counter())[shown] += 1

    def note_last(self, exchange: Exchange) -> None:
        """The run's last exchange, whichever endpoint answered it."""
        self.last = exchange
        if self.parent is not None:
            self.parent.note_last(exchange)

    @property
    def requests(self) -> int:
        """The requests this record's endpoint was sent."""
        return sum(sum(c.values()) for c in self.answers.values())

    @property
    def own_mock_requests(self) -> int:
        """The requests the suites sent to mocks of their own."""
        return sum(r.requests for r in self.own_mocks)

    def own_mock_answers(self) -> dict[str, Counter[str]]:
        """The answers of every suite's own mock, by operation and status, added up."""
        added: dict[str, Counter[str]] = {}
        for record in self.own_mocks:
            for operation, statuses in record.answers.items():
                added.setdefault(operation, Counter()).update(statuses)
        return added

    def findings_on(self, operation: str) -> list[Finding]:
        """The findings on ``operation`` made on this record's endpoint."""
        return [
            f for f in self.findings.items if f.operation == operation and f.where == self.where
        ]


def fault_of(response: Any) -> Finding | None:
    """The finding that makes ``response`` a fault (a 5xx, an undocumented status, a body
    that is not JSON...): no
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
            self.record.note_last(Exchange(label, None, request, finding, self.record.where))
            raise EndpointFault(finding) from None
        self.record.count(label, response.status_code)
        exchange = Exchange(label, response.status_code, request, where=self.record.where)
        violations = judge(spec, response.status_code, _content_type(response), response.content)
        for v in violations:
            finding = self._finding(v.rule, v.message, label, request)
            if v.rule in FAULT_RULES and exchange.fault is None:
                exchange.fault = finding
        response.prosper_fault = exchange.fault  # type: ignore[attr-defined]
        self.record.note_last(exchange)
        return response

    def _finding(self, rule: str, message: str, label: str, request: Any) -> Finding:
        if rule in FAULT_RULES and self.record.fault_note:
            message = f"{message} ({self.record.fault_note})"
        curl = request_curl(request, self.api_key_header, self.api_key_env)
        finding = Finding(rule, message, curl, label, self.record.where)
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
