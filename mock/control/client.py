"""A small synchronous client for a running mock's control API (stdlib only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from email.message import Message
from typing import IO, Any, cast

from prosper_mock.base.errors import ProsperMockError
from prosper_mock.control.bodies import PREFIX, SERVICE
from prosper_mock.world.driver import CallAnswer, CallLogAnswer, ClockInfo


class ControlError(ProsperMockError):
    """The control API refused a request; ``status`` and ``detail`` say why."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: the answer ``3xx`` is the control API's answer."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> None:
        return None


# A control API that redirects elsewhere is not the mock asked for: whatever answers at the
# redirect's target (another mock, or a real service) must get nothing, writes least of all.
_OPENER = urllib.request.build_opener(_NoRedirects)


class ControlClient:
    """A small synchronous client for a running mock's control API (stdlib only).

    One method per operation of the control API, named by its ``operationId``. It never
    follows a redirect: one is a ``ControlError`` with its status, and ``is_mock`` is
    false for an endpoint that redirects.
    """

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None, prefix: str = PREFIX) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + prefix + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self._token:
            req.add_header("Authorization", f"Bearer {self._token}")
        try:
            with _OPENER.open(req, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                where = exc.headers.get("Location")
                raise ControlError(exc.code, f"a redirect (to {where!r}) is not followed") from None
            raw = exc.read()
            try:
                detail = json.loads(raw).get("detail")
            except (ValueError, AttributeError):
                detail = raw.decode("utf-8", "replace")[:200]
            raise ControlError(exc.code, detail) from None
        return json.loads(raw) if raw else None

    def _object(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """A call the control API answers with a JSON object (as control_openapi.json says)."""
        return cast("dict[str, Any]", self._call(method, path, body))

    def health(self) -> dict[str, Any]:
        return self._object("GET", "/health")

    def control_openapi(self) -> dict[str, Any]:
        """The control API's own OpenAPI document."""
        return self._object("GET", "/openapi.json")

    def is_mock(self) -> bool:
        """Whether ``base_url`` is a prosper-voice-mock with its control API reachable."""
        try:
            return self.health().get("service") == SERVICE
        except (ControlError, OSError, ValueError, AttributeError):
            return False

    def start_call(self, **fields: Any) -> CallAnswer:
        return cast(CallAnswer, self._call("POST", "/live-calls", fields))

    def map_variables(self, call_log_id: int, **variables: Any) -> CallAnswer:
        return cast(
            CallAnswer,
            self._call("PATCH", f"/live-calls/{call_log_id}/variables", {"variables": variables}),
        )

    def end_call(self, call_log_id: int, keep_live: bool = False, **fields: Any) -> CallLogAnswer:
        return cast(
            CallLogAnswer,
            self._call(
                "POST", f"/live-calls/{call_log_id}/end", {"fields": fields, "keep_live": keep_live}
            ),
        )

    def live_calls(self, limit: int = 50) -> dict[str, Any]:
        """The latest live calls as stored, latest start first: ``{"live_calls", "count"}``."""
        return self._object("GET", f"/live-calls?limit={int(limit)}")

    def live_call(self, call_log_id: int) -> CallAnswer:
        """One live call as stored and as a client's lookup answers it."""
        return cast(CallAnswer, self._call("GET", f"/live-calls/{int(call_log_id)}"))

    def call_logs(self, limit: int = 50) -> dict[str, Any]:
        """The latest call logs as stored, largest id first: ``{"call_logs", "count"}``."""
        return self._object("GET", f"/call-logs?limit={int(limit)}")

    def call_log(self, call_log_id: int) -> CallLogAnswer:
        """One call log as stored and as a client's lookup answers it."""
        return cast(CallLogAnswer, self._call("GET", f"/call-logs/{int(call_log_id)}"))

    def delete_live_call(self, call_log_id: int) -> None:
        self._call("DELETE", f"/live-calls/{call_log_id}")

    def add_call_log(self, **fields: Any) -> CallLogAnswer:
        return cast(CallLogAnswer, self._call("POST", "/call-logs", fields))

    def delete_call_log(self, call_log_id: int) -> None:
        self._call("DELETE", f"/call-logs/{call_log_id}")

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """A call to the vendored API of the same mock (``path`` from ``/api/v1``); a refusal
        raises ``ControlError`` with its status and detail."""
        return self._call(method, path, body, prefix="")

    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign of the world (ids to use with the vendored API's campaign paths)."""
        return cast("list[dict[str, Any]]", self._object("GET", "/campaigns")["campaigns"])

    def campaign_targets(self, campaign_id: str, limit: int = 50) -> dict[str, Any]:
        """A campaign's newest targets, newest first: ``{"targets", "count"}``."""
        from urllib.parse import quote

        path = f"/campaigns/{quote(campaign_id, safe='')}/targets?limit={int(limit)}"
        return self._object("GET", path)

    def reset(self) -> dict[str, Any]:
        return self._object("POST", "/reset")

    def dump(self) -> dict[str, Any]:
        return self._object("GET", "/world")

    def load(self, world: dict[str, Any]) -> dict[str, Any]:
        return self._object("PUT", "/world", world)

    def snapshot(self) -> str:
        """Save the world (base and changes) and the fault rules; returns the name for
        ``restore``, which puts them back, reset baseline included."""
        return str(self._call("POST", "/snapshots")["snapshot"])

    def restore(self, snapshot: str) -> dict[str, Any]:
        """Back to what ``snapshot`` saved (once: the snapshot is then gone)."""
        return self._object("POST", f"/snapshots/{snapshot}/restore")

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        """Every entry matching ``filters``, read page by page."""
        from urllib.parse import urlencode

        entries: list[dict[str, Any]] = []
        while True:
            query = f"?{urlencode(filters)}" if filters else ""
            page = self._call("GET", f"/journal{query}")
            entries += page["entries"]
            if not page.get("more"):
                return entries
            filters = {**filters, "since": page["next_since"]}

    def clear_journal(self) -> None:
        self._call("DELETE", "/journal")

    def clock(self) -> ClockInfo:
        return cast(ClockInfo, self._call("GET", "/clock"))

    def advance_clock(self, seconds: float) -> ClockInfo:
        return cast(ClockInfo, self._call("POST", "/clock/advance", {"seconds": seconds}))

    def set_clock(self, now: str) -> ClockInfo:
        """Set the virtual clock to ``now`` (ISO-8601 with a UTC offset; never backwards)."""
        return cast(ClockInfo, self._call("PUT", "/clock", {"now": now}))

    def faults(self) -> dict[str, Any]:
        """The fault rules in force: ``{"rules": [...]}``."""
        return self._object("GET", "/faults")

    def set_faults(self, rules: list[dict[str, Any]]) -> dict[str, Any]:
        return self._object("PUT", "/faults", {"rules": rules})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")
