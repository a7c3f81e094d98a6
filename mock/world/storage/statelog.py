"""The state file as a log: the whole state on its first line, then one line per change.

A write appends its ``Change`` as one line and fsyncs it before its answer is sent: O(change),
however big the world. When the lines add up to more than the whole state (``compact_after``),
the next write stores the whole state instead, atomically, in place of the file: the log stays
within twice the state. A line a killed process left half-written is the last one, and it was
never acknowledged: reading ignores it, and the next start writes the file whole again. An
append that fails cuts the file back to where it was, so nothing half-written stays behind a
refused write.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prosper_mock.world.storage.webhookchanges import fold_webhooks

COMPACT_MIN_BYTES = 1 << 16  # lines of changes below this never force a whole write
_ORDER = ("live_calls", "call_logs", "last_id", "targets", "targets_added", "targets_gone")


def compact_after(whole_bytes: int) -> int:
    """How many bytes of lines may follow a whole state of ``whole_bytes`` before the next
    write stores the whole state again (amortised, a write stays O(change))."""
    return max(whole_bytes, COMPACT_MIN_BYTES)


def append_line(path: Path, line: bytes) -> None:
    """Append ``line`` to ``path`` (through a link) and fsync it. Raises ``OSError``; the file
    is then cut back to its size before (what the append wrote of the line is gone)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            # If this fails too, the caller writes the whole state next: the tail goes then.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)


def split(raw: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
    """The first line and the lines of changes after it, numbered from 2 (a half-written last
    line left out). A file without lines of changes is one document, as it always was."""
    head, newline, rest = raw.partition(b"\n")
    if not newline or not rest.strip() or not _is_document(head):
        return raw, []  # one document, whatever its layout (a file written by hand)
    pieces = rest.split(b"\n")
    pieces.pop()  # after the last newline: nothing, or a line a killed process left half done
    return head, [(number, piece) for number, piece in enumerate(pieces, 2) if piece.strip()]


def _is_document(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def fold(changes: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` (a ``World.changes()`` document) with a ``Change`` document applied: what
    ``World.changes()`` answers after the change."""
    dropped = change.get("dropped", {})
    folded = dict(changes)
    for name in ("live_calls", "call_logs"):
        rows = dict(folded.get(name, {}))
        for call_log_id in dropped.get(name, ()):
            rows.pop(str(call_log_id), None)
        rows.update(change.get(name, {}))
        folded[name] = dict(sorted(rows.items(), key=lambda item: int(item[0])))
    targets = dict(folded.get("targets", {}))
    gone = dict(folded.get("targets_gone", {}))
    for target_id in dropped.get("targets", ()):
        targets.pop(target_id, None)
    for target_id, row in change.get("targets", {}).items():
        targets[target_id] = row
        if row is not None:
            gone.pop(target_id, None)
    gone.update(change.get("targets_gone", {}))
    folded["targets"], folded["targets_gone"] = targets, gone
    for name in ("last_id", "targets_added", "dialer"):
        if name in change:
            folded[name] = change[name]
    if "webhooks" in change:
        folded["webhooks"] = fold_webhooks(folded.get("webhooks"), change["webhooks"])
    # As ``World.changes()`` writes them: the tables always, the rest only when not empty.
    ordered = {name: folded[name] for name in _ORDER[:2]}
    ordered.update({n: folded[n] for n in (*_ORDER[2:], "dialer", "webhooks") if folded.get(n)})
    return ordered
