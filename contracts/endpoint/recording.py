"""Turn the answers that passed through the proxy into a world file the mock replays.

The live calls' answer is a flat snapshot; ``source`` says which table the row came
from. Un-flattened, it becomes a ``LiveCall`` (``live_calls``) or a ``CallLog``
(``call_logs``) row again. One row per call: the latest answer about a call wins,
since that is what upstream answers now (a call seen live, then in the call
logs, is recorded as a call log only). Keys the mock's rows do not have are
dropped and named in :attr:`Recorder.notes`; a field whose value the row model
refuses falls back to the model's default, and a missing or offset-less start
time becomes the time of the recording.

The other GETs the mock replays are kept too: a call log of ``GET /api/v1/call-logs/{id}``
or of a ``GET /api/v1/call-logs`` page becomes a ``call_logs`` row, merged over the
snapshot of the same call (the call-log answer's columns win; ``recording_urls`` only from
a full log asked ``include_recordings=true``, the list form has none); a target of
``GET /api/v1/targets/{id}`` or of a campaign's target pages becomes a ``targets`` row and
its campaign a ``campaigns`` entry (``targets_rows``).

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

from prosper_contracts.endpoint import targets_rows
from prosper_contracts.endpoint.pseudonymise import Pseudonymiser
from prosper_mock import (
    WORLD_FORMAT,
    CallLog,
    LiveCall,
    call_log_from_dict,
    flatten,
    live_call_from_dict,
    to_dict,
    unflatten,
)
from prosper_mock.base.files import write_atomically
from prosper_mock.base.timefmt import iso_milliseconds

_ROW: dict[str, tuple[type[LiveCall | CallLog], Callable[[Any], LiveCall | CallLog]]] = {
    "live_calls": (LiveCall, live_call_from_dict),
    "call_logs": (CallLog, call_log_from_dict),
}
_TRUE = frozenset({"1", "true", "on", "yes", "t", "y"})
CALL_LOGS_PATH = "/api/v1/call-logs"
CALL_LOG_PATH = "/api/v1/call-logs/{call_log_id}"
TARGET_PATH = "/api/v1/targets/{target_id}"
CAMPAIGN_TARGETS_PATH = "/api/v1/campaigns/{campaign_id}/targets"
PATIENT_TARGETS_PATH = "/api/v1/campaigns/{campaign_id}/patient/targets"
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
        # Call logs as GET /call-logs and /call-logs/{id} answer them: id -> the document's
        # fields (flat, ``id`` dropped), kept apart from the snapshots and merged when written.
        self._logs: dict[int, dict[str, Any]] = {}
        # Targets as GET /targets/{id} and the campaign target pages answer them: id -> document.
        self._targets: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._dirty = False
        #: Why the last write failed (``None`` after a good one).
        self.write_error: OSError | None = None

    def __len__(self) -> int:
        return len(self._snapshots.keys() | self._logs.keys())

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

    def observe_get(
        self, path: str, query: list[tuple[str, str]], status: int, answer: bytes
    ) -> None:
        """Keep what a GET of the call logs or the targets answered (``path``: the spec's)."""
        if path == CALL_LOGS_PATH:
            self.observe_call_log_page(status, answer)
        elif path == CALL_LOG_PATH:
            # FastAPI's bool parsing: only these spellings are true (the request validated).
            asked = dict(query).get("include_recordings", "").lower()
            self.observe_call_log(status, answer, recordings=asked in _TRUE)
        elif path in (TARGET_PATH, CAMPAIGN_TARGETS_PATH, PATIENT_TARGETS_PATH):
            self.observe_targets(status, answer, page=path != TARGET_PATH)

    def observe_call_log(self, status: int, body: bytes, *, recordings: bool) -> bool:
        """Keep a ``200`` of ``GET /api/v1/call-logs/{id}`` (``CallLogExportInformation``).

        ``recordings``: the request asked for them (``include_recordings=true``); otherwise
        its ``recording_urls`` is empty whatever the call has, so it is not kept.
        """
        document = _json_object(status, body)
        return document is not None and self._keep_log(document, recordings)

    def observe_call_log_page(self, status: int, body: bytes) -> int:
        """Keep every log of a ``200`` page of ``GET /api/v1/call-logs``; how many were kept.

        A list item has no ``recording_urls``: a full log or a snapshot supplies them.
        """
        page = _json_object(status, body)
        items = page.get("call_logs") if page is not None else None
        if not isinstance(items, list):
            return 0
        return sum(self._keep_log(i, False) for i in items if isinstance(i, dict))

    def observe_targets(self, status: int, body: bytes, *, page: bool) -> int:
        """Keep a ``200`` target (``page=False``) or every target of a ``200`` campaign page."""
        found = _json_object(status, body)
        if found is None:
            return 0
        items = found.get("targets") if page else [found]
        if not isinstance(items, list):
            return 0
        kept = 0
        for item in items:
            if not (isinstance(item, dict) and targets_rows.usable(item)):
                self.notes.add("a target without a string id and campaign_id: skipped")
                continue
            with self._lock:
                known = self._targets.pop(item["id"], {})
                # The patient view leaves fax_links and payor_api_data out: keep what was seen.
                self._targets[item["id"]] = {**known, **item}
                self._dirty = True
            kept += 1
        return kept

    def _keep_log(self, document: dict[str, Any], recordings: bool) -> bool:
        log_id = _integer_id(document.get("id"))
        if log_id is None:
            self.notes.add("a call log without an integer id: skipped")
            return False
        fields = {k: v for k, v in document.items() if k != "id"}
        if not recordings:
            fields.pop("recording_urls", None)
        with self._lock:
            known = self._logs.get(log_id, {})
            # A list item never takes the recordings a full log brought.
            self._logs[log_id] = {**known, **flatten(fields)}
            self._dirty = True
        return True

    def _merged(self) -> list[tuple[str, dict[str, Any], str]]:
        """Every call once: its snapshot with what the call-log answers said on top.

        A call the call-log endpoints answered is a call log (even if it was last seen
        live); a key of the answer replaces the snapshot's keys of the same column.
        """
        with self._lock:
            seen = dict(self._snapshots)
            logs = dict(self._logs)
        now = iso_milliseconds(time.time())
        merged: list[tuple[str, dict[str, Any], str]] = []
        for log_id, (source, snapshot, at) in seen.items():
            fields = logs.pop(log_id, None)
            if fields is None:
                merged.append((source, snapshot, at))
                continue
            columns = {k.split(".")[0] for k in fields}
            kept = {
                k: v
                for k, v in snapshot.items()
                if source == "call_logs" and k.split(".")[0] not in columns
            }
            if source == "live_calls" and "user_phone_number" in snapshot:
                kept["user_phone_number"] = snapshot["user_phone_number"]
            merged.append(
                ("call_logs", {**kept, **fields, "source": "call_logs", "call_log_id": log_id}, at)
            )
        for log_id, fields in logs.items():
            merged.append(
                ("call_logs", {**fields, "source": "call_logs", "call_log_id": log_id}, now)
            )
        return merged

    def document(self) -> dict[str, Any]:
        """The world-file JSON of everything recorded (pseudonymised unless raw)."""
        seen = self._merged()
        tables: dict[str, list[dict[str, Any]]] = {"live_calls": [], "call_logs": []}
        for source, snapshot, now in seen:
            row = row_from_snapshot(snapshot, now, self.notes)
            if row is not None:
                tables[source].append(to_dict(row))
        with self._lock:
            answered = list(self._targets.values())
        targets = [targets_rows.target_row(t, self.notes) for t in answered]
        campaigns = targets_rows.campaign_rows(answered)
        if self.pseudonymiser is not None:  # all rows at once: one mapping for the whole file
            self.pseudonymiser.reset()
            n, m = len(tables["live_calls"]), len(tables["call_logs"])
            rows = self.pseudonymiser.rows(tables["live_calls"] + tables["call_logs"] + targets)
            tables = {"live_calls": rows[:n], "call_logs": rows[n : n + m]}
            targets = rows[n + m :]
            for target in targets:  # the id a call log's campaign_target_id names, faked alike
                target["id"] = self.pseudonymiser.fake(target["id"], "id", ("campaign_target_id",))
        ids = [r["call_log_id"] for r in tables["live_calls"]] + [
            r["id"] for r in tables["call_logs"]
        ]
        # Calls the replaying mock creates get ids after every recorded one.
        recipe = {"seed": 0, "live_calls": 0, "call_logs": 0, "first_id": max([0, *ids]) + 1}
        document: dict[str, Any] = {"format": WORLD_FORMAT, "recipe": recipe, **tables}
        if targets:
            document["campaigns"] = campaigns
            document["targets"] = targets
        return document

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


def _json_object(status: int, body: bytes) -> dict[str, Any] | None:
    if status != 200:
        return None
    try:
        found = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return found if isinstance(found, dict) else None


def _integer_id(value: Any) -> int | None:
    """A call log's id: an integer, or the string of one (the export's ``id`` is a string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
