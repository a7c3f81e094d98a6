"""The lookup rules of ``GET /api/v1/live-calls``.

Upstream documents the parameters and the fallback; the rest follows
``docs/semantics.md``:

1. precedence: ``call_log_id``, then ``user_phone_number``, then ``key`` +
   ``value``; the first one given is the only one used;
2. ``live_calls`` first (``source=live_calls``), then ``call_logs``;
3. several matches in a store: the most recent call wins;
4. variables match on their text form (``variables->>key``);
5. nothing to look up, or nothing found, are outcomes the handler turns into
   the configured error answers.

A parameter counts as given when it is present, even empty (``key=`` is the
string ``""``, as FastAPI passes it).
"""

from __future__ import annotations

from dataclasses import dataclass

from prosper_mock.world.model import World
from prosper_mock.world.records import CallLog, LiveCall
from prosper_mock.world.store import Store

LIVE_CALLS = "live_calls"
CALL_LOGS = "call_logs"


@dataclass(frozen=True)
class LiveCallQuery:
    """The four (validated) parameters of the endpoint."""

    call_log_id: int | None = None
    user_phone_number: str | None = None
    key: str | None = None
    value: str | None = None

    @property
    def by(self) -> str | None:
        """Which lookup the precedence rule picks, or ``None`` if none is complete."""
        if self.call_log_id is not None:
            return "call_log_id"
        if self.user_phone_number is not None:
            return "user_phone_number"
        if self.key is not None and self.value is not None:
            return "key"
        return None


@dataclass(frozen=True)
class Found:
    """The call a lookup answers: its row and the store it was found in."""

    source: str  # "live_calls" or "call_logs"
    row: LiveCall | CallLog


@dataclass(frozen=True)
class NotFound:
    """A complete lookup that matches no call in either store."""


@dataclass(frozen=True)
class NothingToLookUp:
    """No complete lookup was given; ``detail`` says what is missing."""

    detail: str
    missing: str  # the parameter to name in a 422-style answer


def missing_lookup(query: LiveCallQuery) -> NothingToLookUp:
    if query.key is not None:
        return NothingToLookUp("value is required when key is given", "value")
    if query.value is not None:
        return NothingToLookUp("key is required when value is given", "key")
    return NothingToLookUp(
        "Provide one of call_log_id, user_phone_number, or key and value", "call_log_id"
    )


def find_call(world: World, query: LiveCallQuery) -> Found | NotFound | NothingToLookUp:
    """Apply the rules above to the world as it is now."""
    by = query.by
    if by is None:
        return missing_lookup(query)
    with world.lock:
        for store in (world.live_calls, world.call_logs):
            row = _find_in(store, query, by)
            if row is not None:
                return Found(store.name, row)
    return NotFound()


def _find_in(
    store: Store[LiveCall] | Store[CallLog], query: LiveCallQuery, by: str
) -> LiveCall | CallLog | None:
    if by == "call_log_id":
        return store.get(query.call_log_id)  # type: ignore[arg-type]
    if by == "user_phone_number":
        return store.latest_by_phone(query.user_phone_number)  # type: ignore[arg-type]
    return store.latest_by_variable(query.key, query.value)  # type: ignore[arg-type]
