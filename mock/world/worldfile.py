"""What the world reads: a world file, its recipe, its changes, and a change's fields.

A world file (``fixtures/*.json``, ``prosper-mock generate``'s output) holds the
recipe and every row of both stores; ``World.changes()`` (what the state file
keeps) holds rows by id. Each is checked whole before anything is built from it,
and every refusal is a ``WorldError`` naming where the problem sits
(``live_calls[3].variables.y: ...``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from prosper_mock.base.jsontext import short
from prosper_mock.base.problems import one_line
from prosper_mock.world.errors import InvalidChange
from prosper_mock.world.generate.recipe import WorldRecipe
from prosper_mock.world.records import (
    MAX_CALL_ID,
    CallLog,
    LiveCall,
    call_id_problem,
    call_log_from_dict,
    json_problem,
    live_call_from_dict,
    to_dict,
)
from prosper_mock.world.targetfile import SECTIONS

WORLD_FORMAT = "prosper-voice-mock/world@1"
# What ``changes()`` holds besides the two stores' rows (each checked where it is used).
OTHER_CHANGES = (
    "last_id", "targets", "targets_added", "targets_gone", "dialer", "dropped", "webhooks"
)  # fmt: skip

_Row = TypeVar("_Row")

# One row of a ``changes()`` document: (store name, id, the row, or None to delete it).
PlannedChange = tuple[str, int, LiveCall | CallLog | None]


def world_document(
    recipe: Any, live: Iterable[LiveCall], logs: Iterable[CallLog]
) -> dict[str, Any]:
    """A world in the world-file format (``recipe`` as its JSON form, or ``None``)."""
    return {
        "format": WORLD_FORMAT,
        "recipe": recipe,
        "live_calls": [to_dict(r) for r in live],
        "call_logs": [to_dict(r) for r in logs],
    }


def parse_world(data: Any) -> tuple[list[LiveCall], list[CallLog], WorldRecipe]:
    """Validate a world file's JSON; raises ``WorldError`` naming what is wrong."""
    if not isinstance(data, Mapping):
        raise InvalidChange("a world must be a JSON object")
    fmt = data.get("format", WORLD_FORMAT)
    if fmt != WORLD_FORMAT:
        raise InvalidChange(f"unknown world format {fmt!r} (expected {WORLD_FORMAT!r})")
    # The target sections are optional, read by ``targetfile.parse_sections``.
    unknown = set(data) - {"format", "recipe", "live_calls", "call_logs", *SECTIONS}
    if unknown:
        raise InvalidChange(f"unknown world keys: {sorted(unknown)}")
    live_raw, logs_raw = data.get("live_calls", []), data.get("call_logs", [])
    if not isinstance(live_raw, list) or not isinstance(logs_raw, list):
        raise InvalidChange("live_calls and call_logs must be arrays")
    live = [validated(live_call_from_dict, r, f"live_calls[{i}]") for i, r in enumerate(live_raw)]
    logs = [validated(call_log_from_dict, r, f"call_logs[{i}]") for i, r in enumerate(logs_raw)]
    tables: tuple[tuple[str, Sequence[LiveCall | CallLog], str], ...] = (
        ("live_calls", live, "call_log_id"),
        ("call_logs", logs, "id"),
    )
    for name, rows, id_field in tables:
        first: dict[int, int] = {}  # id -> the row that has it
        for i, row in enumerate(rows):
            j = first.setdefault(row.call_log_id, i)
            if j != i:
                raise InvalidChange(
                    f"{name}[{i}] and {name}[{j}] both have {id_field} {row.call_log_id}"
                )
    return live, logs, parse_recipe(data.get("recipe") or {})


def parse_recipe(raw: Any) -> WorldRecipe:
    """A ``WorldRecipe`` from JSON, each field of its declared type; raises ``WorldError``."""
    if not isinstance(raw, Mapping):
        raise InvalidChange("recipe must be an object")
    fields = {f.name: f for f in dataclasses.fields(WorldRecipe)}
    for name, value in raw.items():
        if name not in fields:
            raise InvalidChange(f"bad recipe: unknown key {name!r} (known: {sorted(fields)})")
        wanted = int if fields[name].type in (int, "int") else str
        if isinstance(value, bool) or not isinstance(value, wanted):
            raise InvalidChange(f"bad recipe: {name} must be {wanted.__name__}")
    try:
        return WorldRecipe(**raw)
    except ValueError as exc:
        raise InvalidChange(f"bad recipe: {exc}") from None


def parse_changes(changes: Any) -> tuple[list[PlannedChange], int]:
    """``World.changes()`` of an earlier run, checked: its rows, and the largest id issued.

    Raises ``WorldError`` on the first problem, before anything is applied.
    """
    builders: dict[str, Callable[[Any], LiveCall | CallLog]] = {
        "live_calls": live_call_from_dict,
        "call_logs": call_log_from_dict,
    }
    if not isinstance(changes, Mapping):
        raise InvalidChange("changes must be an object")
    planned: list[PlannedChange] = []
    last_id = changes.get("last_id", 0)  # absent from files written before it was kept
    if call_id_problem(last_id) is not None:
        raise InvalidChange(
            f"bad changes: last_id must be an id (an integer from 0 to {MAX_CALL_ID}), "
            f"not {short(last_id)}"
        )
    for name, rows in changes.items():
        if name in OTHER_CHANGES:  # checked by their own parsers
            continue
        if name not in builders or not isinstance(rows, Mapping):
            raise InvalidChange(f"bad changes for {name!r}")
        for key, row in rows.items():
            where = f"{name}[{key}]"
            call_log_id = _change_key(key, where)
            if row is not None:
                row = validated(builders[name], row, where)
                if row.call_log_id != call_log_id:
                    raise InvalidChange(f"{where}: the row's id is {row.call_log_id}")
            planned.append((name, call_log_id, row))
    return planned, last_id


def _change_key(key: Any, where: str) -> int:
    """The id a ``changes()`` key names: a call id or its decimal text, nothing else."""
    if isinstance(key, str) and 0 < len(key) <= len(str(MAX_CALL_ID)) and key.isdecimal():
        number = int(key)
        key = number if str(number) == key else None  # "007" names no id
    if call_id_problem(key) is None:
        return int(key)
    raise InvalidChange(f"{where}: the key must be an id (an integer from 0 to {MAX_CALL_ID})")


def field_sources(fields: Mapping[str, Any], direction: str, live: bool = False) -> dict[str, Any]:
    """The given fields that others are derived from, as the generator takes them.

    The caller's number is ``user_phone_number``, and in a log also ``to`` (an outbound
    call) or ``from_`` (an inbound one); the variables make the transcript and post-call
    data. Only usable values are passed: the row's validation refuses the others.
    """
    phone = fields.get(
        "user_phone_number", fields.get("to" if direction == "outbound" else "from_")
    )
    variables = fields.get("variables")
    found: dict[str, Any] = {}
    if isinstance(phone, str):
        found["user_phone_number" if live else "phone"] = phone
    if isinstance(variables, dict) and json_problem(variables, 1) is None:
        found["variables"] = variables
    return found


def given_fields(fields: Mapping[str, Any] | None) -> dict[str, Any]:
    """The fields a change brings (none: ``{}``), as a dict of its own."""
    if fields is None:
        return {}
    if not isinstance(fields, Mapping):
        raise InvalidChange("fields must be an object")
    return dict(fields)


def validated(build: Callable[[Any], _Row], data: Any, where: str = "") -> _Row:
    """``build(data)``, its refusal as one ``WorldError`` line: ``where.field: problem; ...``."""
    from pydantic import ValidationError

    try:
        return build(data)
    except ValidationError as exc:
        raise InvalidChange(one_line(exc.errors(include_url=False), where, brackets=True)) from None
    except ValueError as exc:
        raise InvalidChange(f"{where + ': ' if where else ''}{exc}") from None
