"""Target-finished webhooks as world state: each campaign's setting, the events, the retries due.

Upstream POSTs ``{campaign_id, call_log_id, target_id, attempt, max_attempts,
next_attempt_scheduled}`` to a campaign's "campaign target finished" URL each time one of a
target's calls ends. The mock keeps what that needs in the world's overlay, beside the calls
and targets, so it travels in the world's changes (the state file, the shared store) exactly
as they do: every process holds the same events and their delivery outcomes, and a delivery
recorded by one is never made again by another.

``WebhookTable`` holds, per campaign, the setting given through the control API (a URL or
none, extra headers, the campaign's ``max_attempts``); every event (its payload, when it was
created, whether it is pending, delivered or failed, and each send's outcome); and the
targets whose next attempt is scheduled (target id -> when, on the world's clock). Entries are
replaced, never changed in place, so a transaction's savepoint is a shallow copy of each dict.
``default_url`` (``serve --webhook-url``) is the process's configuration, not world state.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from prosper_mock.world.errors import InvalidChange
from prosper_mock.world.hookfaults import DeliveryFaults, parse_delivery_faults

DEFAULT_MAX_ATTEMPTS = 3  # kit decision: upstream does not publish its default
MOST_ATTEMPTS = 10
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATES = (PENDING, DELIVERED, FAILED)
# Headers the mock sets itself: a campaign's extra headers may not replace them.
RESERVED_HEADERS = frozenset({"content-type", "content-length", "host", "transfer-encoding"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_MAX_URL = 2048


def checked_url(url: Any, where: str = "url") -> str:
    """``url`` if it is an absolute ``http``/``https`` URL with a host; else ``InvalidChange``."""
    if not isinstance(url, str) or not url or len(url) > _MAX_URL:
        raise InvalidChange(f"{where}: an http:// or https:// URL of at most {_MAX_URL} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidChange(f"{where}: {url!r} is not an http:// or https:// URL with a host")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidChange(f"{where}: a URL holds no spaces or control characters")
    return url


def shown_url(url: str) -> str:
    """``url`` as it may be printed: a password in it is masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def checked_headers(headers: Any, where: str = "headers") -> dict[str, str]:
    """Extra request headers: names are HTTP tokens (not one the mock sets), values one line."""
    if not isinstance(headers, Mapping):
        raise InvalidChange(f"{where}: an object of header names to values")
    found: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise InvalidChange(f"{where}: {name!r} is not a header name")
        if name.lower() in RESERVED_HEADERS:
            raise InvalidChange(f"{where}: {name} is set by the mock itself")
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            raise InvalidChange(f"{where}.{name}: a string on one line")
        found[name] = value
    return found


def checked_attempts(value: Any, where: str = "max_attempts") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MOST_ATTEMPTS:
        raise InvalidChange(f"{where}: an integer from 1 to {MOST_ATTEMPTS}, not {value!r}")
    return value


@dataclass(frozen=True)
class HookSetting:
    """A campaign's own setting. ``url`` ``None``: no deliveries for it, even with a default
    URL; ``max_attempts`` ``None``: the kit's default (``DEFAULT_MAX_ATTEMPTS``); ``faults``:
    its deliveries' faults in their grammar (``hookfaults``; "" for none)."""

    url: str | None
    headers: dict[str, str] = field(default_factory=dict)
    max_attempts: int | None = None
    faults: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "headers": dict(self.headers),
            "max_attempts": self.max_attempts,
            "faults": self.faults,
        }


def setting_from_dict(data: Any, where: str) -> HookSetting:
    if not isinstance(data, Mapping) or not set(data) <= {
        "url", "headers", "max_attempts", "faults"
    }:  # fmt: skip
        raise InvalidChange(f"{where}: an object of url, headers, max_attempts and faults")
    url = data.get("url")
    attempts = data.get("max_attempts")
    try:
        faults = parse_delivery_faults(data.get("faults", "")).text
    except InvalidChange as exc:
        raise InvalidChange(f"{where}.{exc}") from None
    return HookSetting(
        None if url is None else checked_url(url, f"{where}.url"),
        checked_headers(data.get("headers", {}), f"{where}.headers"),
        None if attempts is None else checked_attempts(attempts, f"{where}.max_attempts"),
        faults,
    )


@dataclass(frozen=True)
class Send:
    """One POST of an event: when (the world's clock), where, and how it went (``status``:
    the receiver's HTTP status, ``None`` when none came; ``error``: why it failed)."""

    at: str
    url: str | None
    ok: bool
    status: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "url": self.url,
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
        }


@dataclass(frozen=True)
class WebhookEvent:
    """A target's attempt ended: the payload upstream sends, and its deliveries so far."""

    id: int
    campaign_id: str
    target_id: str
    call_log_id: int
    attempt: int
    max_attempts: int
    next_attempt_scheduled: str | None
    created_at: str
    state: str = PENDING
    sends: tuple[Send, ...] = ()
    reruns: int = 0  # how many times rerun-failed made it pending again

    def payload(self) -> dict[str, Any]:
        """Exactly the six keys of upstream's quickstart."""
        return {
            "campaign_id": self.campaign_id,
            "call_log_id": self.call_log_id,
            "target_id": self.target_id,
            "attempt": self.attempt,
            "max_attempts": self.max_attempts,
            "next_attempt_scheduled": self.next_attempt_scheduled,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "payload": self.payload(),
            "created_at": self.created_at,
            "state": self.state,
            "sends": [s.to_dict() for s in self.sends],
            "reruns": self.reruns,
        }


def _int(value: Any, where: str, lowest: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        raise InvalidChange(f"{where}: an integer >= {lowest}")
    return value


def _text(value: Any, where: str, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidChange(f"{where}: a string")
    return value


def event_from_dict(data: Any, where: str) -> WebhookEvent:
    """An event from its ``to_dict`` form; raises ``InvalidChange`` naming ``where``."""
    if not isinstance(data, Mapping) or not isinstance(data.get("payload"), Mapping):
        raise InvalidChange(f"{where}: an event object with a payload")
    p = data["payload"]
    sends = data.get("sends", [])
    if not isinstance(sends, list) or not all(isinstance(s, Mapping) for s in sends):
        raise InvalidChange(f"{where}.sends: a list of objects")
    if data.get("state") not in STATES:
        raise InvalidChange(f"{where}.state: one of {list(STATES)}")
    return WebhookEvent(
        id=_int(data.get("id"), f"{where}.id", 1),
        campaign_id=_text(p.get("campaign_id"), f"{where}.campaign_id"),
        target_id=_text(p.get("target_id"), f"{where}.target_id"),
        call_log_id=_int(p.get("call_log_id"), f"{where}.call_log_id"),
        attempt=_int(p.get("attempt"), f"{where}.attempt", 1),
        max_attempts=_int(p.get("max_attempts"), f"{where}.max_attempts", 1),
        next_attempt_scheduled=_text(p.get("next_attempt_scheduled"), where, optional=True),
        created_at=_text(data.get("created_at"), f"{where}.created_at"),
        state=data["state"],
        sends=tuple(
            Send(
                at=_text(s.get("at"), f"{where}.sends.at"),
                url=_text(s.get("url"), f"{where}.sends.url", optional=True),
                ok=bool(s.get("ok")),
                status=None if s.get("status") is None else _int(s["status"], where),
                error=_text(s.get("error"), f"{where}.sends.error", optional=True),
            )
            for s in sends
        ),
        reruns=_int(data.get("reruns", 0), f"{where}.reruns"),
    )


WebhookSavepoint = tuple[dict[str, HookSetting], dict[int, WebhookEvent], dict[str, float], int]


class WebhookTable:
    """The webhooks' part of a world's overlay (see the module's docstring)."""

    def __init__(self, default_url: str | None = None) -> None:
        self.default_url = default_url  # serve --webhook-url: configuration, kept by a reset
        self.settings: dict[str, HookSetting] = {}
        self.events: dict[int, WebhookEvent] = {}
        self.retries: dict[str, float] = {}  # target id -> when its next attempt is due
        self.last_event = 0
        # Keys written since a transaction began (its ``Change``).
        self.touched: dict[str, set[Any]] = {"settings": set(), "events": set(), "retries": set()}
        # Indexes, so the sender's look and the clock's are not scans: the pending events'
        # ids, and the retries by time (a heap whose stale entries are skipped when read).
        self._pending: set[int] = set()
        self._due: list[tuple[float, str]] = []

    def __bool__(self) -> bool:
        return bool(self.settings or self.events or self.retries or self.last_event)

    # --- reading ------------------------------------------------------------------

    def url_of(self, campaign_id: str) -> str | None:
        """Where the campaign's events go now: its own URL, else the default (or none)."""
        own = self.settings.get(campaign_id)
        return own.url if own is not None else self.default_url

    def headers_of(self, campaign_id: str) -> dict[str, str]:
        own = self.settings.get(campaign_id)
        return dict(own.headers) if own is not None else {}

    def faults_of(self, campaign_id: str) -> DeliveryFaults:
        """The faults of the campaign's deliveries (none unless its setting gives some)."""
        own = self.settings.get(campaign_id)
        return parse_delivery_faults(own.faults) if own is not None else DeliveryFaults()

    def max_attempts_of(self, campaign_id: str) -> int:
        own = self.settings.get(campaign_id)
        found = own.max_attempts if own is not None else None
        return DEFAULT_MAX_ATTEMPTS if found is None else found

    def pending(self) -> list[WebhookEvent]:
        """The events waiting to be sent, oldest first."""
        return [self.events[i] for i in sorted(self._pending)]

    def next_retry(self) -> tuple[float, str] | None:
        """``(when, target id)`` of the earliest attempt scheduled, or ``None``."""
        due = self._due
        while due and self.retries.get(due[0][1]) != due[0][0]:
            heapq.heappop(due)  # rescheduled or cancelled since it was pushed
        return due[0] if due else None

    # --- writing ------------------------------------------------------------------

    def set_setting(self, campaign_id: str, setting: HookSetting | None) -> None:
        self.touched["settings"].add(campaign_id)
        if setting is None:
            self.settings.pop(campaign_id, None)
        else:
            self.settings[campaign_id] = setting

    def put_event(self, event: WebhookEvent) -> None:
        self.touched["events"].add(event.id)
        self.events[event.id] = event
        self.last_event = max(self.last_event, event.id)
        if event.state == PENDING:
            self._pending.add(event.id)
        else:
            self._pending.discard(event.id)

    def drop_event(self, event_id: int) -> None:
        """Forget an event (a change that removed it: only a reset does)."""
        self.touched["events"].add(event_id)
        self.events.pop(event_id, None)
        self._pending.discard(event_id)

    def new_event(self, **fields: Any) -> WebhookEvent:
        event = WebhookEvent(id=self.last_event + 1, **fields)
        self.put_event(event)
        return event

    def schedule(self, target_id: str, at: float | None) -> None:
        """Note the target's next attempt due at ``at`` (``None``: none is)."""
        self.touched["retries"].add(target_id)
        if at is None:
            self.retries.pop(target_id, None)
        else:
            self.retries[target_id] = at
            heapq.heappush(self._due, (at, target_id))

    def record(self, event_id: int, sends: int, *done: Send) -> bool:
        """Record the outcome of the delivery made when the event had ``sends`` sends (``done``:
        its sends, more than one when a fault duplicated it): delivered if one was answered
        2xx. ``False`` (nothing changes) when it was recorded already, here or by another
        process."""
        event = self.events.get(event_id)
        if event is None or event.state != PENDING or len(event.sends) != sends or not done:
            return False
        state = DELIVERED if any(s.ok for s in done) else FAILED
        self.put_event(replace(event, state=state, sends=(*event.sends, *done)))
        return True

    def reset(self) -> None:
        for name, keys in (("settings", self.settings), ("events", self.events)):
            self.touched[name] |= set(keys)
        self.touched["retries"] |= set(self.retries)
        self.settings, self.events, self.retries, self.last_event = {}, {}, {}, 0
        self._reindex()

    def savepoint(self) -> WebhookSavepoint:
        self.touched = {"settings": set(), "events": set(), "retries": set()}
        return dict(self.settings), dict(self.events), dict(self.retries), self.last_event

    def roll_back(self, saved: WebhookSavepoint) -> None:
        settings, events, retries, last = saved
        self.settings, self.events, self.retries = dict(settings), dict(events), dict(retries)
        self.last_event = last
        self._reindex()

    def _reindex(self) -> None:
        self._pending = {i for i, e in self.events.items() if e.state == PENDING}
        self._due = sorted((at, target_id) for target_id, at in self.retries.items())

    def copy(self) -> WebhookTable:
        twin = WebhookTable(self.default_url)
        twin.roll_back(self.savepoint_copy())
        return twin

    def restored(self, saved: WebhookTable) -> WebhookTable:
        """``saved``'s overlay with this table's configuration; event ids issued since
        ``saved`` are never issued again (a client may hold them)."""
        twin = saved.copy()
        twin.default_url = self.default_url
        twin.last_event = max(self.last_event, twin.last_event)
        return twin

    def savepoint_copy(self) -> WebhookSavepoint:
        """The overlay's dicts copied, without starting a transaction's tracking."""
        return dict(self.settings), dict(self.events), dict(self.retries), self.last_event
