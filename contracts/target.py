"""The endpoint under test: the in-process mock, a running mock, or the real API."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from prosper_mock.control import ControlClient

from .findings import Findings, curl_command


class InsecureKeyError(ValueError):
    """Refusing to send an API key in clear text to a host that is not this machine."""


@dataclass
class Target:
    """Where requests go, what headers they carry, and whether the world can be changed."""

    base_url: str
    api_key_header: str = "X-Api-Key"
    api_key_env: str = "PROSPER_API_KEY"
    control: ControlClient | None = None  # set when the target is a prosper-voice-mock
    world: Any = None  # the World, when the mock runs in this process
    findings: Findings = field(default_factory=Findings)
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def is_mock(self) -> bool:
        return self.control is not None or self.world is not None

    @property
    def has_key(self) -> bool:
        return bool(os.environ.get(self.api_key_env))

    def headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env)
        return {self.api_key_header: key} if key else {}

    def get(self, params: Any = None, path: str = "/api/v1/live-calls") -> requests.Response:
        return self.session.get(
            self.base_url + path,
            params=params,
            headers=self.headers(),
            timeout=30,
            allow_redirects=False,
        )

    def curl(self, params: Any = None, path: str = "/api/v1/live-calls") -> str:
        return curl_command(
            self.base_url + path,
            params,
            self.api_key_header if self.has_key else None,
            self.api_key_env,
        )


def check_key_transport(base_url: str, sends_key: bool, allow_insecure: bool) -> None:
    """An API key goes over plain http only to loopback, unless the user insists."""
    parts = urlsplit(base_url)
    if not sends_key or parts.scheme == "https" or allow_insecure:
        return
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InsecureKeyError(
            f"refusing to send the API key over plain http to {host}: use https, "
            "or pass --allow-insecure-key (pytest: --prosper-allow-insecure-key) if you mean it"
        )
