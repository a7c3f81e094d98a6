"""The control API's request bodies and typed answers, as pydantic types.

Each body is validated strictly (JSON types only, no coercion, no unknown keys); the
control API's OpenAPI document takes its requestBody schemas from these types (a test
keeps them equal), so the routes and their document cannot drift.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from prosper_mock.world.records import CallLog, LiveCall
from prosper_mock.world.worldfile import WORLD_FORMAT

PREFIX = "/__mock"
SERVICE = "prosper-voice-mock"

_DATE_TIME = Field(json_schema_extra={"format": "date-time"})
# The record times records._check_time insists on (ISO-8601 with a UTC offset).
_TIMES = frozenset({"started_at", "created_at"})


def _row_type(record: type, name: str, *, partial: bool) -> type:
    """A record as a JSON body: its fields, those without a default required unless ``partial``.

    (A TypedDict, not the dataclass itself: strict validation takes a dataclass only as an
    instance, a TypedDict as the JSON object it is.)
    """
    hints = typing.get_type_hints(record, include_extras=True)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        hint = Annotated[hints[f.name], _DATE_TIME] if f.name in _TIMES else hints[f.name]
        has_default = f.default is not dataclasses.MISSING or (
            f.default_factory is not dataclasses.MISSING
        )
        fields[f.name] = NotRequired[hint] if partial or has_default else hint
    # mypy takes a TypedDict only as a literal definition; this one is made from the fields.
    typed = TypedDict(name, fields)  # type: ignore[misc]
    return with_config(ConfigDict(extra="forbid"))(typed)


# Types made at run time: mypy cannot use them in annotations (valid-type), where a body
# type below names one; pydantic reads those annotations, and checks them.
LiveCallFields = _row_type(LiveCall, "LiveCallFields", partial=True)
CallLogFields = _row_type(CallLog, "CallLogFields", partial=True)
LiveCallRow = _row_type(LiveCall, "LiveCall", partial=False)
CallLogRow = _row_type(CallLog, "CallLog", partial=False)
_FORBID = ConfigDict(extra="forbid")


@with_config(_FORBID)
class VariablesBody(TypedDict):
    variables: dict[str, Any]


@with_config(_FORBID)
class EndCallBody(TypedDict, total=False):
    fields: CallLogFields  # type: ignore[valid-type]
    keep_live: bool


@with_config(_FORBID)
class RecipeBody(TypedDict, total=False):
    seed: int
    live_calls: Annotated[int, Field(ge=0)]
    call_logs: Annotated[int, Field(ge=0)]
    anchor: Annotated[str, _DATE_TIME]
    first_id: Annotated[int, Field(ge=1)]
    pending_targets: Annotated[int, Field(ge=0)]


@with_config(_FORBID)
class WorldBody(TypedDict, total=False):
    format: Literal[WORLD_FORMAT]  # type: ignore[valid-type]
    recipe: RecipeBody
    live_calls: list[LiveCallRow]  # type: ignore[valid-type]
    call_logs: list[CallLogRow]  # type: ignore[valid-type]
    # Checked whole by the world (world.targetfile): campaigns and stored targets.
    campaigns: list[dict[str, Any]]
    targets: list[dict[str, Any]]


@with_config(_FORBID)
class AdvanceBody(TypedDict):
    seconds: Annotated[float, Field(ge=0)]


@with_config(_FORBID)
class ClockBody(TypedDict):
    now: Annotated[str, _DATE_TIME]


@with_config(_FORBID)
class FaultRuleBody(TypedDict):
    faults: Annotated[str, Field(description="header grammar (docs/how-to/faults.md)")]
    probability: NotRequired[Annotated[float, Field(ge=0, le=1)]]
    match: NotRequired[dict[str, str]]


@with_config(_FORBID)
class FaultsBody(TypedDict):
    rules: list[FaultRuleBody]


_SECONDS = Annotated[float, Field(ge=0, le=60)]


@with_config(_FORBID)
class StubBody(TypedDict):
    """A stub: the requests it matches and the answer it gives (docs/how-to/stubs.md)."""

    method: str
    path: Annotated[str, Field(description="a path, or the spec's template: any value")]
    query: NotRequired[dict[str, str]]
    request_body: NotRequired[Annotated[Any, Field(description="a JSON subset of the body")]]
    request_body_exact: NotRequired[bool]
    status: NotRequired[Annotated[int, Field(ge=200, le=599)]]
    body: NotRequired[Any]
    headers: NotRequired[dict[str, str]]
    times: NotRequired[Annotated[int, Field(ge=1)] | None]
    after: NotRequired[Annotated[int, Field(ge=0)]]
    delay: NotRequired[_SECONDS]
    unchecked: NotRequired[bool]
    id: NotRequired[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]]


@with_config(_FORBID)
class VerifyBody(TypedDict, total=False):
    """What the journal's requests must be, and how many of them."""

    method: str
    path: Annotated[str, Field(description="a path, or the spec's template: any value")]
    query: dict[str, str]
    headers: dict[str, str]
    request_body: Annotated[Any, Field(description="a JSON subset of the body")]
    request_body_exact: bool
    count: Annotated[int, Field(ge=0)]
    at_least: Annotated[int, Field(ge=0)]
    at_most: Annotated[int, Field(ge=0)]


@with_config(_FORBID)
class WebhookBody(TypedDict):
    url: Annotated[
        str | None, Field(description="an http(s) URL; null: no deliveries for the campaign")
    ]
    headers: NotRequired[
        Annotated[dict[str, str], Field(description="extra headers sent with each delivery")]
    ]
    max_attempts: NotRequired[
        Annotated[int | None, Field(ge=1, le=10, description="calls per target (default 3)")]
    ]
    faults: NotRequired[
        Annotated[
            str,
            Field(
                description="its deliveries' faults: latency=MS[-MS], duplicate[=N], reorder, drop"
            ),
        ]
    ]


# operationId → (body type, whether a body is required)
BODIES: dict[str, tuple[Any, bool]] = {
    "start_call": (LiveCallFields, False),
    "map_variables": (VariablesBody, True),
    "end_call": (EndCallBody, False),
    "add_call_log": (CallLogFields, False),
    "load": (WorldBody, True),
    "advance_clock": (AdvanceBody, True),
    "set_clock": (ClockBody, True),
    "set_faults": (FaultsBody, True),
    "add_stub": (StubBody, True),
    "verify": (VerifyBody, True),
    "set_webhook": (WebhookBody, True),
}


def body_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """(operationId → requestBody schema, components.schemas), as the control API spec has them."""
    adapters = {op: adapter(kind) for op, (kind, _) in BODIES.items()}
    refs = "#/components/schemas/{model}"
    schemas, components = {}, {}
    for op, validator in adapters.items():
        schema = validator.json_schema(ref_template=refs)
        components.update(schema.pop("$defs", {}))
        schemas[op] = schema
    return schemas, components


@functools.cache
def adapter(kind: Any) -> TypeAdapter[Any]:
    """The validator of one body type, built once per process (apps share them)."""
    return TypeAdapter(kind)
