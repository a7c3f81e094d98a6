"""A small client for Prosper Voice's Get Live Call endpoint (an example consumer)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

__all__ = ["CallStillLive", "LiveCallClient", "LiveCallError"]


class LiveCallError(Exception):
    """The API refused the request (400, 422, ...)."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class CallStillLive(TimeoutError):
    """The call was still live when the client stopped waiting."""


class LiveCallClient:
    """Look calls up, and wait for a live one to finish."""

    def __init__(
        self, base_url: str, api_key: str | None = None, session: requests.Session | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        if api_key:
            self.session.headers["X-Api-Key"] = api_key

    def get(
        self,
        *,
        call_log_id: int | None = None,
        phone: str | None = None,
        key: str | None = None,
        value: str | None = None,
    ) -> dict[str, Any] | None:
        """The call's flat snapshot, or ``None`` if no call matches."""
        params = {
            "call_log_id": call_log_id,
            "user_phone_number": phone,
            "key": key,
            "value": value,
        }
        response = self.session.get(
            f"{self.base_url}/api/v1/live-calls",
            params={k: v for k, v in params.items() if v is not None},
            timeout=10,
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise LiveCallError(response.status_code, response.json().get("detail"))
        return response.json()

    def wait_until_finished(
        self,
        call_log_id: int,
        *,
        interval: float = 2.0,
        timeout: float = 600,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[str, Any]:
        """Poll until the call is found in the call logs; return that snapshot."""
        waited = 0.0
        while True:
            snapshot = self.get(call_log_id=call_log_id)
            if snapshot is not None and snapshot["source"] == "call_logs":
                return snapshot
            if waited >= timeout:
                raise CallStillLive(f"call {call_log_id} still live after {timeout}s")
            sleep(interval)
            waited += interval
