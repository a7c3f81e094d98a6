"""Turn the answers that passed through the proxy into a world file the mock replays.

A real answer is a flat snapshot; ``source`` says which table the row came
from. Un-flattened, it becomes a ``LiveCall`` (``live_calls``) or a ``CallLog``
(``call_logs``) row again. One row per call: the latest answer about a call wins,
since that is what upstream answers now (a call seen live, then in the call
logs, is recorded as a call log only). Keys the mock's rows do not have are
dropped and named in :attr:`Recorder.notes`; a field whose value the row model
refuses falls back to the model's default, and a missing or offset-less start
time becomes the time of the recording.

Unless ``pseudonymiser`` is ``None`` (``--record-raw``), every row passes
through :class:`~prosper_contracts.endpoint.pseudonymise.Pseudonymiser` before it is written.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from prosper_contracts.endpoint.pseudonymise import Pseudonymiser
from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.flatten import unflatten
from prosper_mock.world.persistence import write_atomically
from prosper_mock.world.records import (
    CallLog,
    LiveCall,
    call_log_from_dict,
    live_call_from_dict,
    to_dict,
)
from prosper_mock.world.worldfile import WORLD_FORMAT

_ROW: dict[str, tuple[type[LiveCall | CallLog], Callable[[Any], LiveCall | CallLog]]] = {
    "live_calls": (LiveCall, live_call_from_dict),
    "call_logs": (CallLog, call_log_from_dict),
}
_TIME_FIELD = {"live_calls": "started_at", "call_logs": "created_at"}


def row_from_snapshot(
    snapshot: Mapping[str, Any], now: str, notes: set[str] | None = None
) -> LiveCall | CallLog | None:
    """The row a flat snapshot was made from, or ``None`` when it names no usable call.

    ``notes`` collects what had to be dropped or defaulted (key names, never values).
    """
    notes = notes if notes is not None else set()
    source = snapshot.get("source")
    call_log_id = snapshot.get("call_log_id")
    if source not in _ROW or not isinstance(call_log_id, int) or isinstance(call_log_id, bool):
        return None
    model, build = _ROW[source]
    fields = {f.name for f in dataclasses.fields(model)}
    nested = unflatten({k: v for k, v in snapshot.items() if k != "source"})
    data: dict[str, Any] = {}
    for name, value in nested.items():
        if name in fields:
            data[name] = value
        elif name != "call_log_id" and (name != "id" or source == "live_calls"):
            notes.add(f"{source}: key {name!r} is not a column of the mock's rows: dropped")
    data.pop("call_log_id" if source == "call_logs" else "id", None)
    data["call_log_id" if source == "live_calls" else "id"] = call_log_id
    if not isinstance(data.get("user_phone_number"), str):
        notes.add(f"{source}: user_phone_number missing or not a string: recorded as ''")
        data["user_phone_number"] = ""
    time_field = _TIME_FIELD[source]
    if not _is_aware_time(data.get(time_field)):
        notes.add(f"{source}: {time_field} missing or without an offset: the recording time used")
        data[time_field] = now
    for _ in range(len(fields)):
        try:
            return build(data)
        except ValidationError as exc:
            refused = {str(e["loc"][0]) for e in exc.errors(include_url=False) if e["loc"]}
            refused -= {"call_log_id", "id", "user_phone_number", time_field}
            if not refused:
                return None
            for name in refused:
                notes.add(f"{source}: {name} does not fit the mock's rows: the default used")
                data.pop(name, None)
    return None


def _is_aware_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


class Recorder:
    """Collects snapshots (thread-safe) and writes them as a world file.

    ``pseudonymiser=None`` records raw personal data: only behind ``--record-raw``.
    """

    def __init__(self, path: str | Path, pseudonymiser: Pseudonymiser | None) -> None:
        self.path = Path(path)
        self.pseudonymiser = pseudonymiser
        self.notes: set[str] = set()
        self._snapshots: dict[int, tuple[str, dict[str, Any], str]] = {}
        self._lock = threading.Lock()
        self._dirty = False
        #: Why the last write failed (``None`` after a good one).
        self.write_error: OSError | None = None

    def __len__(self) -> int:
        return len(self._snapshots)

    def observe(self, status: int, body: bytes) -> bool:
        """Keep a ``200`` snapshot; ``True`` when it named a call it could keep."""
        if status != 200:
            return False
        try:
            snapshot = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return False
        if not isinstance(snapshot, dict):
            return False
        now = iso_milliseconds(time.time())
        if row_from_snapshot(snapshot, now, set()) is None:
            self.notes.add("an answer without a usable source and integer call_log_id: skipped")
            return False
        with self._lock:
            self._snapshots.pop(snapshot["call_log_id"], None)  # re-inserted: latest last
            self._snapshots[snapshot["call_log_id"]] = (snapshot["source"], snapshot, now)
            self._dirty = True
        return True

    def document(self) -> dict[str, Any]:
        """The world-file JSON of everything recorded (pseudonymised unless raw)."""
        with self._lock:
            seen = list(self._snapshots.values())
        tables: dict[str, list[dict[str, Any]]] = {"live_calls": [], "call_logs": []}
        for source, snapshot, now in seen:
            row = row_from_snapshot(snapshot, now, self.notes)
            if row is not None:
                tables[source].append(to_dict(row))
        if self.pseudonymiser is not None:  # all rows at once: one mapping for the whole file
            self.pseudonymiser.reset()
            n = len(tables["live_calls"])
            rows = self.pseudonymiser.rows(tables["live_calls"] + tables["call_logs"])
            tables = {"live_calls": rows[:n], "call_logs": rows[n:]}
        ids = [r["call_log_id"] for r in tables["live_calls"]] + [
            r["id"] for r in tables["call_logs"]
        ]
        # Calls the replaying mock creates get ids after every recorded one.
        recipe = {"seed": 0, "live_calls": 0, "call_logs": 0, "first_id": max([0, *ids]) + 1}
        return {"format": WORLD_FORMAT, "recipe": recipe, **tables}

    def write(self, force: bool = False) -> bool:
        """Write the file (atomically, mode 0600) if anything changed since the last write.

        Raises ``OSError`` when the file cannot be written; what was recorded is kept,
        so a later write (once the disk has room again) still has all of it.
        """
        with self._lock:
            if not (self._dirty or force):
                return False
            self._dirty = False
        data = json.dumps(self.document(), indent=2, ensure_ascii=False) + "\n"
        try:
            write_atomically(self.path, data.encode("utf-8"))
        except OSError as exc:
            with self._lock:
                self._dirty = True
            self.write_error = exc
            raise
        self.write_error = None
        return True
