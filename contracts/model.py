"""A small reference model of the lookup rules (docs/semantics.md).

The suites change a mock's world through a ``WorldDriver`` (``Target.driver``,
``prosper_mock.WorldDriver``) and read what it answers with ``row_of``. The model
keeps, per store, each call's phone, variables and time; ``expect`` answers a lookup
the way docs/semantics.md says the endpoint must: precedence, live first, most recent
(time, then id) within a store, variables by text form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prosper_mock import text_form


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


EMPTY_WORLD: dict[str, Any] = {"live_calls": [], "call_logs": []}


def row_of(answer: Any, name: str) -> dict[str, Any]:
    """The row a driver's answer carries under ``name`` (``call`` or ``call_log``).

    A mock that answers otherwise is broken: a ``TypeError`` says so.
    """
    row = answer.get(name) if isinstance(answer, dict) else None
    if not isinstance(row, dict):
        raise TypeError(f"the mock answered without a {name!r} object: {answer!r:.200}")
    return row
