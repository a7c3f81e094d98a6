"""A small reference model of the lookup rules (docs/semantics.md), and drivers that change a mock.

The model keeps, per store, each call's phone, variables and time; ``expect``
answers a lookup the way docs/semantics.md says the endpoint must: precedence, live
first, most recent (time, then id) within a store, variables by text form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from prosper_mock.world.records import to_dict
from prosper_mock.world.textform import text_form


@dataclass
class ModelCall:
    call_log_id: int
    phone: str
    variables: dict[str, Any]
    at: float


@dataclass
class Model:
    live: dict[int, ModelCall] = field(default_factory=dict)
    logs: dict[int, ModelCall] = field(default_factory=dict)

    def expect(self, params: dict[str, str]) -> tuple[str, int] | None:
        """``(source, call_log_id)`` the endpoint must answer, or ``None`` for not found."""
        for source, store in (("live_calls", self.live), ("call_logs", self.logs)):
            match = self._find(store, params)
            if match is not None:
                return source, match
        return None

    @staticmethod
    def _find(store: dict[int, ModelCall], params: dict[str, str]) -> int | None:
        if "call_log_id" in params:
            wanted = int(params["call_log_id"])
            return wanted if wanted in store else None
        if "user_phone_number" in params:
            hits = [c for c in store.values() if c.phone == params["user_phone_number"]]
        else:
            key, value = params["key"], params["value"]
            hits = [c for c in store.values() if text_form(c.variables.get(key)) == value]
        if not hits:
            return None
        return max(hits, key=lambda c: (c.at, c.call_log_id)).call_log_id


def model_call(row: dict[str, Any]) -> ModelCall:
    """A model entry from a row as the world (or the control API) returns it."""
    return ModelCall(
        call_log_id=int(row["call_log_id"] if "call_log_id" in row else row["id"]),
        phone=row["user_phone_number"],
        variables=dict(row.get("variables") or {}),
        at=datetime.fromisoformat(str(row.get("started_at") or row["created_at"])).timestamp(),
    )


class Driver(Protocol):
    """How the suite changes a mock's world; every method returns the row as stored."""

    def empty(self) -> None: ...
    def start_call(self, **fields: Any) -> dict[str, Any]: ...
    def map_variables(self, call_log_id: int, variables: dict[str, Any]) -> dict[str, Any]: ...
    def end_call(self, call_log_id: int) -> dict[str, Any]: ...
    def add_call_log(self, **fields: Any) -> dict[str, Any]: ...


EMPTY_WORLD: dict[str, Any] = {"live_calls": [], "call_logs": []}


class WorldDriver:
    """Changes an in-process mock through its public ``World`` API."""

    def __init__(self, world: Any) -> None:
        self.world = world

    def empty(self) -> None:
        self.world.load(EMPTY_WORLD)

    def start_call(self, **fields: Any) -> dict[str, Any]:
        return to_dict(self.world.start_call(fields))

    def map_variables(self, call_log_id: int, variables: dict[str, Any]) -> dict[str, Any]:
        return to_dict(self.world.map_variables(call_log_id, variables))

    def end_call(self, call_log_id: int) -> dict[str, Any]:
        return to_dict(self.world.end_call(call_log_id))

    def add_call_log(self, **fields: Any) -> dict[str, Any]:
        return to_dict(self.world.add_call_log(fields))


class ControlDriver:
    """Changes a running mock through its control API."""

    def __init__(self, control: Any) -> None:
        self.control = control

    def empty(self) -> None:
        self.control.load(EMPTY_WORLD)

    def start_call(self, **fields: Any) -> dict[str, Any]:
        return _row(self.control.start_call(**fields), "call")

    def map_variables(self, call_log_id: int, variables: dict[str, Any]) -> dict[str, Any]:
        return _row(self.control.map_variables(call_log_id, **variables), "call")

    def end_call(self, call_log_id: int) -> dict[str, Any]:
        return _row(self.control.end_call(call_log_id), "call_log")

    def add_call_log(self, **fields: Any) -> dict[str, Any]:
        return _row(self.control.add_call_log(**fields), "call_log")


def _row(answer: Any, name: str) -> dict[str, Any]:
    """The row a control answer carries under ``name``; a mock that answers otherwise is broken."""
    row = answer.get(name) if isinstance(answer, dict) else None
    if not isinstance(row, dict):
        raise TypeError(f"the control API answered without a {name!r} object: {answer!r:.200}")
    return row
