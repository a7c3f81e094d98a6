"""The two kinds of row the mock stores.

``LiveCall`` is a row of upstream's ``live_calls`` table (a call in progress);
``CallLog`` is a row of the ``v_call_logs`` view (a finished call), with the
field names of the public ``CallLogExportInformation`` schema plus the two
columns every snapshot carries (``user_phone_number``) and the flow's
``variables`` that ``key`` + ``value`` search.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, TypeAdapter

Direction = Literal["outbound", "inbound"]
TargetType = Literal["patient", "payor", "provider"]


@dataclass
class LiveCall:
    """A call in progress (``source=live_calls``)."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    call_log_id: int
    user_phone_number: str
    started_at: str
    agent_phone_number: str = ""
    direction: Direction = "outbound"
    status: str = "in_progress"
    updated_at: str | None = None
    campaign_target_id: str | None = None
    target: dict[str, Any] = field(default_factory=dict)
    agent_data: dict[str, Any] = field(default_factory=dict)
    flow: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    transcript: list[dict[str, str]] = field(default_factory=list)

    @property
    def at(self) -> str:
        """When the call started: what "most recent" compares."""
        return self.started_at


@dataclass
class CallLog:
    """A finished call (``source=call_logs``)."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    id: int
    user_phone_number: str
    created_at: str
    to: str = ""
    from_: str = ""
    call_length: str = "0"
    call_ended_reason: str = "customer-ended-call"
    call_categorization: dict[str, Any] | None = None
    recording_urls: list[str] = field(default_factory=list)
    agent_data: dict[str, Any] = field(default_factory=dict)
    campaign_target_id: str | None = None
    post_call_data: dict[str, Any] | None = None
    qa: dict[str, Any] | None = None
    transcripts: list[dict[str, str]] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def call_log_id(self) -> int:
        return self.id

    @property
    def at(self) -> str:
        """When the call was created: what "most recent" compares."""
        return self.created_at


Record = LiveCall | CallLog

_LIVE = TypeAdapter(LiveCall)
_LOG = TypeAdapter(CallLog)


def to_dict(record: Record) -> dict[str, Any]:
    """A JSON-ready dict in field order (the world-file form of a row)."""
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def live_call_from_dict(data: Any) -> LiveCall:
    """Build a ``LiveCall`` from JSON; raises ``pydantic.ValidationError`` on bad input."""
    call = _LIVE.validate_python(data)
    _check_time(call.started_at, "started_at")
    return call


def call_log_from_dict(data: Any) -> CallLog:
    """Build a ``CallLog`` from JSON; raises ``pydantic.ValidationError`` on bad input."""
    log = _LOG.validate_python(data)
    _check_time(log.created_at, "created_at")
    return log


def timestamp(value: str) -> float:
    """Seconds since the epoch of an ISO-8601 time with an offset."""
    return datetime.fromisoformat(value).timestamp()


def _check_time(value: str, name: str) -> None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be an ISO-8601 date-time, got {value!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name} must carry a UTC offset (e.g. +00:00), got {value!r}")
