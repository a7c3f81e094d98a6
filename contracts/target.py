"""The endpoint under test: the in-process mock, a running mock, or the real API."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from prosper_contracts.findings import Findings, curl_command, request_curl
from prosper_contracts.runner import DEFAULT_TIMEOUT, RecordingSession, RunRecord
from prosper_contracts.safety import WritePolicy
from prosper_mock.base.upstream import API_KEY_ENV, LIVE_CALLS_PATH
from prosper_mock.control.client import ControlClient

if TYPE_CHECKING:
    from prosper_mock import WorldDriver

TIMEOUT = DEFAULT_TIMEOUT  # seconds a request may wait for its answer: longer, it has none


def unreachable(base_url: str, timeout: float = 10.0) -> str | None:
    """Why ``base_url`` cannot be reached (a bad URL, connection refused, ...), or ``None``.

    Checked before a run: otherwise every request of every suite fails with the same
    connection error, hundreds of lines of it.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https"):
        return "bad URL: it must start with http:// or https://"
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a port that is not a number, or out of range
        return f"bad URL: {exc}"
    if not host:
        return "bad URL: no host"
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror as exc:
        return f"the host {host!r} does not resolve ({exc.strerror})"
    except ConnectionRefusedError:
        return f"connection refused (nothing listens on port {port} of {host})"
    except TimeoutError:
        return f"no answer from {host}:{port} within {timeout:g} s"
    except OSError as exc:
        return exc.strerror or str(exc)


@dataclass
class Target:
    """Where requests go, what headers they carry, and whether the world can be changed."""

    base_url: str
    api_key_header: str = "X-Api-Key"
    api_key_env: str = API_KEY_ENV
    control: ControlClient | None = None  # set when the target is a prosper-voice-mock
    world: Any = None  # the World, when the mock runs in this process
    record: RunRecord = field(default_factory=RunRecord)
    read_only_reason: str = ""  # why a target that may be a mock is not driven as one
    sandbox: str | None = None  # --sandbox-campaign, given with --allow-writes
    read_only: bool = False  # a mock that refuses changes (several worker processes)
    policy: WritePolicy = field(init=False)
    session: requests.Session = field(init=False)

    def __post_init__(self) -> None:
        # Every request of the suites goes through this session, so the write policy is
        # applied, and every answer counted and judged, in one place
        # (prosper_contracts.safety, prosper_contracts.runner).
        self.policy = WritePolicy(
            everything=self.is_mock and not self.read_only, sandbox=self.sandbox
        )
        self.session = RecordingSession(
            self.policy,
            self.record,
            self.base_url,
            self.api_key_header,
            self.api_key_env,
        )

    @property
    def findings(self) -> Findings:
        """Every finding of the run."""
        return self.record.findings

    @property
    def writes(self) -> bool:
        """Whether this run may send any write to the target."""
        return self.policy.writes

    @property
    def is_mock(self) -> bool:
        return self.control is not None or self.world is not None

    @property
    def driver(self) -> WorldDriver | None:
        """How to change the mock's world: through its control API, or its ``World`` in this
        process; ``None`` for an endpoint that is not a mock."""
        if self.read_only:
            return None
        if self.control is not None:
            from prosper_mock.control.driver import RemoteDriver

            return RemoteDriver(self.control)
        if self.world is not None:
            from prosper_mock import LocalDriver

            return LocalDriver(self.world)
        return None

    @property
    def has_key(self) -> bool:
        return bool(os.environ.get(self.api_key_env))

    def headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env)
        return {self.api_key_header: key} if key else {}

    def get(self, params: Any = None, path: str = LIVE_CALLS_PATH) -> requests.Response:
        return self.session.get(
            self.base_url + path,
            params=params,
            headers=self.headers(),
            timeout=TIMEOUT,
            allow_redirects=False,
        )

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Any request, through the guarded session (a forbidden write raises
        ``WriteRefused`` before anything is sent)."""
        return self.session.request(
            method,
            self.base_url + path,
            headers=self.headers(),
            timeout=TIMEOUT,
            allow_redirects=False,
            **kwargs,
        )

    def last_curl(self) -> str | None:
        """The curl that sends the run's last request again, body and headers included."""
        last = self.record.last
        if last is None:
            return None
        if last.fault is not None:
            return last.fault.curl
        header = self.api_key_header if self.has_key else None
        return request_curl(last.request, header, self.api_key_env)

    def curl(self, params: Any = None, path: str = LIVE_CALLS_PATH, method: str = "GET") -> str:
        return curl_command(
            self.base_url + path,
            params,
            self.api_key_header if self.has_key else None,
            self.api_key_env,
            method,
        )
