"""A small synchronous client for a running mock's control API (stdlib only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from email.message import Message
from typing import IO, Any, cast
from urllib.parse import quote, urlencode

from prosper_mock.base.errors import ProsperMockError
from prosper_mock.control.bodies import PREFIX, SERVICE
from prosper_mock.control.declared import BY_ID
from prosper_mock.world.driver import CallAnswer, CallLogAnswer, ClockInfo


class ControlError(ProsperMockError):
    """The control API refused a request; ``status`` and ``detail`` say why (``location``:
    where a redirect, never followed, pointed; ``method``, ``url`` and ``body``: the request
    refused, when the client sent one)."""

    def __init__(
        self,
        status: int,
        detail: Any,
        location: str | None = None,
        method: str | None = None,
        url: str | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.location = location
        self.method = method
        self.url = url
        self.body = body


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
                raise ControlError(
                    exc.code,
                    f"a redirect (to {where!r}) is not followed",
                    where,
                    method,
                    req.full_url,
                    data,
                ) from None
            raw = exc.read()
            try:
                detail = json.loads(raw).get("detail")
            except (ValueError, AttributeError):
                detail = raw.decode("utf-8", "replace")[:200]
            raise ControlError(exc.code, detail, None, method, req.full_url, data) from None
        return json.loads(raw) if raw else None

    def call(
        self,
        operation_id: str,
        /,
        body: Any = None,
        query: dict[str, Any] | None = None,
        **path: Any,
    ) -> Any:
        """Send the declared control operation ``operation_id`` (``declared.OPERATIONS``):
        ``path`` fills its path parameters, ``query`` its query string, ``body`` its body."""
        declared = BY_ID[operation_id]
        names = declared.path_names()
        if set(path) != set(names):
            raise TypeError(f"{operation_id} takes the path parameters {names}, got {sorted(path)}")
        where = declared.path
        for name in names:
            where = where.replace("{" + name + "}", quote(str(path[name]), safe=""))
        if query:
            where += "?" + urlencode(query)
        return self._call(declared.method, where, body)

    def _object(self, operation_id: str, body: Any = None, **path: Any) -> dict[str, Any]:
        """A call the control API answers with a JSON object (as its declaration says)."""
        return cast("dict[str, Any]", self.call(operation_id, body, **path))

    def health(self) -> dict[str, Any]:
        return self._object("health")

    def control_openapi(self) -> dict[str, Any]:
        """The control API's own OpenAPI document."""
        return self._object("control_openapi")

    def is_mock(self) -> bool:
        """Whether ``base_url`` is a prosper-voice-mock with its control API reachable."""
        try:
            return self.health().get("service") == SERVICE
        except (ControlError, OSError, ValueError, AttributeError):
            return False

    def start_call(self, **fields: Any) -> CallAnswer:
        return cast(CallAnswer, self.call("start_call", fields))

    def map_variables(self, call_log_id: int, **variables: Any) -> CallAnswer:
        body = {"variables": variables}
        return cast(CallAnswer, self.call("map_variables", body, call_log_id=call_log_id))

    def end_call(self, call_log_id: int, keep_live: bool = False, **fields: Any) -> CallLogAnswer:
        body = {"fields": fields, "keep_live": keep_live}
        return cast(CallLogAnswer, self.call("end_call", body, call_log_id=call_log_id))

    def live_calls(self, limit: int = 50) -> dict[str, Any]:
        """The latest live calls as stored, latest start first: ``{"live_calls", "count"}``."""
        return cast("dict[str, Any]", self.call("live_calls", query={"limit": int(limit)}))

    def live_call(self, call_log_id: int) -> CallAnswer:
        """One live call as stored and as a client's lookup answers it."""
        return cast(CallAnswer, self.call("live_call", call_log_id=int(call_log_id)))

    def call_logs(self, limit: int = 50) -> dict[str, Any]:
        """The latest call logs as stored, largest id first: ``{"call_logs", "count"}``."""
        return cast("dict[str, Any]", self.call("call_logs", query={"limit": int(limit)}))

    def call_log(self, call_log_id: int) -> CallLogAnswer:
        """One call log as stored and as a client's lookup answers it."""
        return cast(CallLogAnswer, self.call("call_log", call_log_id=int(call_log_id)))

    def delete_live_call(self, call_log_id: int) -> None:
        self.call("delete_live_call", call_log_id=call_log_id)

    def add_call_log(self, **fields: Any) -> CallLogAnswer:
        return cast(CallLogAnswer, self.call("add_call_log", fields))

    def delete_call_log(self, call_log_id: int) -> None:
        self.call("delete_call_log", call_log_id=call_log_id)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """A call to the vendored API of the same mock (``path`` from ``/api/v1``); a refusal
        raises ``ControlError`` with its status and detail."""
        return self._call(method, path, body, prefix="")

    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign of the world (ids to use with the vendored API's campaign paths)."""
        return cast("list[dict[str, Any]]", self._object("campaigns")["campaigns"])

    def campaign_targets(self, campaign_id: str, limit: int = 50) -> dict[str, Any]:
        """A campaign's newest targets, newest first: ``{"targets", "count"}``."""
        query = {"limit": int(limit)}
        answer = self.call("campaign_targets", query=query, campaign_id=campaign_id)
        return cast("dict[str, Any]", answer)

    def reset(self) -> dict[str, Any]:
        return self._object("reset")

    def dump(self) -> dict[str, Any]:
        return self._object("dump")

    def load(self, world: dict[str, Any]) -> dict[str, Any]:
        return self._object("load", world)

    def snapshot(self) -> str:
        """Save the world (base and changes) and the fault rules; returns the name for
        ``restore``, which puts them back, reset baseline included."""
        return str(self._object("snapshot")["snapshot"])

    def restore(self, snapshot: str) -> dict[str, Any]:
        """Back to what ``snapshot`` saved (once: the snapshot is then gone)."""
        return self._object("restore", snapshot=snapshot)

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        """Every entry matching ``filters``, read page by page."""
        entries: list[dict[str, Any]] = []
        while True:
            page = self.call("journal", query=filters)
            entries += page["entries"]
            if not page.get("more"):
                return entries
            filters = {**filters, "since": page["next_since"]}

    def clear_journal(self) -> None:
        self.call("clear_journal")

    def clock(self) -> ClockInfo:
        return cast(ClockInfo, self.call("clock"))

    def advance_clock(self, seconds: float) -> ClockInfo:
        return cast(ClockInfo, self.call("advance_clock", {"seconds": seconds}))

    def set_clock(self, now: str) -> ClockInfo:
        """Set the virtual clock to ``now`` (ISO-8601 with a UTC offset; never backwards)."""
        return cast(ClockInfo, self.call("set_clock", {"now": now}))

    def faults(self) -> dict[str, Any]:
        """The fault rules in force: ``{"rules": [...]}``."""
        return self._object("faults")

    def set_faults(self, rules: list[dict[str, Any]]) -> dict[str, Any]:
        return self._object("set_faults", {"rules": rules})

    def clear_faults(self) -> None:
        self.call("clear_faults")

    def add_stub(self, **stub: Any) -> dict[str, Any]:
        """Add a stub (``method``, ``path``, ``status``, ``body``... as docs/how-to/stubs.md
        says); returns it with its ``id``. A body the spec refuses is a ``ControlError``
        (422) naming the path in the body and the schema rule."""
        return self._object("add_stub", stub)

    def stubs(self) -> list[dict[str, Any]]:
        """The stubs in force, oldest first, each with ``seen`` and ``answered``."""
        return cast("list[dict[str, Any]]", self._object("stubs")["stubs"])

    def stub(self, stub_id: str) -> dict[str, Any]:
        return self._object("stub", stub_id=stub_id)

    def remove_stub(self, stub_id: str) -> None:
        self.call("remove_stub", stub_id=stub_id)

    def clear_stubs(self) -> None:
        self.call("clear_stubs")

    def verify(self, **matcher: Any) -> dict[str, Any]:
        """Whether the journal holds the requests ``matcher`` describes (``method``, ``path``,
        ``query``, ``headers``, ``request_body``; ``count`` or ``at_least``/``at_most``):
        ``{"ok", "count", "expected", "seqs", "near_misses"}``."""
        return self._object("verify", matcher)

    def webhook(self, campaign_id: str) -> dict[str, Any]:
        """A campaign's webhook as in force: ``{"campaign_id", "url", "headers",
        "max_attempts", "source"}``."""
        return self._object("webhook", campaign_id=campaign_id)

    def set_webhook(
        self,
        campaign_id: str,
        url: str | None,
        headers: dict[str, str] | None = None,
        max_attempts: int | None = None,
        faults: str = "",
    ) -> dict[str, Any]:
        """Give a campaign its own webhook (``url`` ``None``: no deliveries for it; ``faults``:
        of its deliveries, e.g. ``"latency=500,duplicate"``)."""
        body: dict[str, Any] = {"url": url, "headers": headers or {}, "faults": faults}
        if max_attempts is not None:
            body["max_attempts"] = max_attempts
        return self._object("set_webhook", body, campaign_id=campaign_id)

    def clear_webhook(self, campaign_id: str) -> None:
        """Drop a campaign's own webhook: serve's ``--webhook-url`` applies again."""
        self.call("clear_webhook", campaign_id=campaign_id)

    def webhook_events(self, **filters: Any) -> list[dict[str, Any]]:
        """The webhook events, oldest first (filters: ``campaign_id``, ``target_id``,
        ``state``; ``limit``: only the latest that many), each with its ``payload`` and its
        ``sends``."""
        answer = self.call("webhook_events", query=filters or None)
        return cast("list[dict[str, Any]]", answer["events"])
