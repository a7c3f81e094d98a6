"""The two kinds of row the mock stores.

``LiveCall`` is a row of upstream's ``live_calls`` table (a call in progress);
``CallLog`` is a row of the ``v_call_logs`` view (a finished call), with the
field names of the public ``CallLogExportInformation`` schema plus the two
columns every snapshot carries (``user_phone_number``) and the flow's
``variables`` that ``key`` + ``value`` search.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, StrictInt, StrictStr, TypeAdapter, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

#: How deeply arrays and objects may nest in a row, the row itself being the first level
#: (``{"variables": {"y": [...]}}``: the list is on the third). Well below Python's recursion
#: limit, so every reader of a row (text forms, flattening, JSON encoding) can recurse freely.
MAX_DEPTH = 64

#: The largest call id (kit decision 30): upstream's ids are PostgreSQL ``bigint``s, and the
#: spec bounds ``GET /call-logs/{call_log_id}`` to 0 .. 2**63 - 1. Every id the world holds,
#: issues or reads from a file is in that range, so it always prints, packs and persists.
MAX_CALL_ID = 2**63 - 1
#: A call id as a row's field: a strict integer from 0 to ``MAX_CALL_ID``.
CallId = Annotated[StrictInt, Field(ge=0, le=MAX_CALL_ID)]

Direction = Literal["outbound", "inbound"]
TargetType = Literal["patient", "payor", "provider"]


@dataclass
class LiveCall:
    """A call in progress (``source=live_calls``)."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    call_log_id: CallId
    user_phone_number: StrictStr
    started_at: StrictStr
    agent_phone_number: StrictStr = ""
    direction: Direction = "outbound"
    status: StrictStr = "in_progress"
    updated_at: StrictStr | None = None
    campaign_target_id: StrictStr | None = None
    target: dict[StrictStr, Any] = field(default_factory=dict)
    agent_data: dict[StrictStr, Any] = field(default_factory=dict)
    flow: dict[StrictStr, Any] = field(default_factory=dict)
    variables: dict[StrictStr, Any] = field(default_factory=dict)
    transcript: list[dict[StrictStr, StrictStr]] = field(default_factory=list)

    @property
    def at(self) -> str:
        """When the call started: what "most recent" compares."""
        return self.started_at


@dataclass
class CallLog:
    """A finished call (``source=call_logs``)."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    id: CallId
    user_phone_number: StrictStr
    created_at: StrictStr
    to: StrictStr = ""
    from_: StrictStr = ""
    call_length: StrictStr = "0"
    call_ended_reason: StrictStr = "customer-ended-call"
    call_categorization: dict[StrictStr, Any] | None = None
    recording_urls: list[StrictStr] = field(default_factory=list)
    agent_data: dict[StrictStr, Any] = field(default_factory=dict)
    campaign_target_id: StrictStr | None = None
    post_call_data: dict[StrictStr, Any] | None = None
    qa: dict[StrictStr, Any] | None = None
    transcripts: list[dict[StrictStr, StrictStr]] = field(default_factory=list)
    variables: dict[StrictStr, Any] = field(default_factory=dict)

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
    """Build a ``LiveCall`` from JSON; raises ``pydantic.ValidationError`` on bad input.

    Types are strict (``"7"``, ``7.0`` and ``true`` are not the integer 7), and every value
    must be plain JSON that any answer can carry (``json_problem``).
    """
    call = _LIVE.validate_python(data)
    _check_values(call)
    _check_time(call.started_at, "started_at")
    return call


def call_log_from_dict(data: Any) -> CallLog:
    """Build a ``CallLog`` from JSON; raises ``pydantic.ValidationError`` on bad input.

    Strict types and plain JSON values, as ``live_call_from_dict``.
    """
    log = _LOG.validate_python(data)
    _check_values(log)
    _check_time(log.created_at, "created_at")
    return log


def call_id_problem(value: Any) -> str | None:
    """Why ``value`` is not a call id (an integer from 0 to ``MAX_CALL_ID``), or ``None``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be an integer"
    if not 0 <= value <= MAX_CALL_ID:
        return f"must be an integer from 0 to {MAX_CALL_ID}"
    return None


Location = tuple[str | int, ...]
_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep (the row is the first level)"
_BIG = 1 << 64  # integers this short always print
_INF = math.inf


def json_problem(value: Any, depth: int = 0) -> tuple[Location, str] | None:
    """Why ``value`` cannot be stored in a row, or ``None`` when it can.

    A stored value must survive every way out of the world: a snapshot encoded as strict
    JSON (no ``NaN``/``Infinity``), the state file (UTF-8), a text form, a restart. So it
    is ``null``, a boolean, a string without lone surrogates, an integer short enough to
    print, a finite float, or a list or string-keyed object of such values, with at most
    ``MAX_DEPTH`` levels of nesting counting the ``depth`` levels that already enclose it.
    The answer is where the problem is (keys and indexes inside ``value``) and what it is.
    """
    if isinstance(value, list | dict):
        if depth >= MAX_DEPTH:
            return (), _TOO_DEEP
        is_list = isinstance(value, list)
        for key, item in enumerate(value) if isinstance(value, list) else value.items():
            if not is_list and not (key.__class__ is str and key.isascii()):
                if not isinstance(key, str):
                    return (), f"object keys must be strings, not {key.__class__.__name__} {key!r}"
                found = json_problem(key)
                if found is not None:
                    return (key, *found[0]), found[1]
            # Every change checks its whole row: the common plain values skip the call.
            kind = item.__class__
            if (
                (kind is str and item.isascii())
                or item is None
                or kind is bool
                or (kind is int and -_BIG < item < _BIG)
                or (kind is float and -_INF < item < _INF)
            ):
                continue
            found = json_problem(item, depth + 1)
            if found is not None:
                # Too deep is said where the value starts (``variables.y``), not 64 indexes on.
                if found[1] is _TOO_DEEP and depth > 1:
                    return found
                return (key, *found[0]), found[1]
        return None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return (), "strings must be valid Unicode (this one holds a lone surrogate)"
        return None
    if isinstance(value, int):
        try:
            str(value)
        except ValueError:
            return (), "integer too long to print (more than 4300 digits)"
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return (), f"numbers must be finite, not {value!r} (JSON has no NaN or Infinity)"
    return (), f"a {value.__class__.__name__} is not a JSON value"


def _check_values(record: Record) -> None:
    """Raise a ``ValidationError`` located at the first value of ``record`` no answer could
    carry (see ``json_problem``)."""
    # A row's __dict__ is its fields (no slots), checked as the row's JSON object.
    found = json_problem(record.__dict__)
    if found is not None:
        loc, message = found
        raise ValidationError.from_exception_data(
            record.__class__.__name__,
            [
                InitErrorDetails(
                    type=PydanticCustomError("json_value", message),
                    loc=loc,
                    # The value itself may be too deep to print: name the field only.
                    input=str(loc[0]),
                )
            ],
        )


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
