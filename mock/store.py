"""One table of calls (``live_calls`` or ``call_logs``) with its lookup indexes.

A store is two layers:

* the **base**: the seeded world, immutable. Its rows may be derived on demand
  (a generated world keeps no rows, only indexes), and its indexes list ids
  most recent first;
* the **overlay**: what changed since (rows added, replaced or deleted), small.

Reading merges the two; writing touches only the overlay; resetting to the
seeded world drops the overlay, which is why per-test reset is cheap. Every
lookup is a dictionary hit in each layer, never a scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .records import CallLog, LiveCall, timestamp
from .textform import text_form

R = TypeVar("R", LiveCall, CallLog)

VariableKey = tuple[str, str]  # (variable name, text form of its value)


def variable_keys(variables: dict[str, object]) -> Iterator[VariableKey]:
    """The (name, text) pairs a row is found by; ``null`` values are never found."""
    for name, value in variables.items():
        text = text_form(value)
        if text is not None:
            yield name, text


def recency(record: LiveCall | CallLog) -> tuple[float, int]:
    """Sort key for "most recent": start time, then the larger id."""
    return timestamp(record.at), record.call_log_id


@dataclass
class BaseTable(Generic[R]):
    """The immutable seeded layer: how to fetch a row, and indexes most-recent-first."""

    fetch: Callable[[int], R]
    ids: Sequence[int]  # every id ascending, for dumps and counts; a range when derived
    count: int
    by_phone: dict[str, list[int]] = field(default_factory=dict)
    by_variable: dict[VariableKey, list[int]] = field(default_factory=dict)
    id_set: Callable[[int], bool] = lambda _id: False

    @classmethod
    def from_records(cls, records: Iterable[R]) -> BaseTable[R]:
        """A base layer holding explicit rows (a world file)."""
        rows = sorted(records, key=recency, reverse=True)
        by_id = {r.call_log_id: r for r in rows}
        if len(by_id) != len(rows):
            raise ValueError("duplicate call_log_id in one store")
        table: BaseTable[R] = cls(
            fetch=by_id.__getitem__, ids=sorted(by_id), count=len(by_id), id_set=by_id.__contains__
        )
        for r in rows:  # most recent first, so index lists come out in that order
            table.by_phone.setdefault(r.user_phone_number, []).append(r.call_log_id)
            for key in variable_keys(r.variables):
                table.by_variable.setdefault(key, []).append(r.call_log_id)
        return table

    @classmethod
    def derived(
        cls,
        ids: range,
        fetch: Callable[[int], R],
        keys: Callable[[int], tuple[str, dict[str, object]]],
    ) -> BaseTable[R]:
        """A base layer whose rows are derived on demand; ``ids`` ascend in time."""
        table: BaseTable[R] = cls(fetch=fetch, ids=ids, count=len(ids), id_set=ids.__contains__)
        by_phone, by_variable = table.by_phone, table.by_variable
        for call_log_id in reversed(ids):  # newest first
            phone, variables = keys(call_log_id)
            by_phone.setdefault(phone, []).append(call_log_id)
            for key in variable_keys(variables):
                by_variable.setdefault(key, []).append(call_log_id)
        return table


class Store(Generic[R]):
    """A table as the lookup sees it: the base layer merged with the overlay."""

    def __init__(self, name: str, base: BaseTable[R], cache_size: int = 100_000) -> None:
        self.name = name
        self.base = base
        self._rows: dict[int, R | None] = {}  # overlay: None marks a deleted base row
        self._by_phone: dict[str, set[int]] = {}
        self._by_variable: dict[VariableKey, set[int]] = {}
        self._cache: dict[int, R] = {}  # derived base rows already built
        self._cache_size = cache_size
        self._added = 0  # ids in the overlay that the base does not have
        self._high = 0  # the largest id ever put: ids are never reused, even after a delete

    # --- reading ------------------------------------------------------------------

    def get(self, call_log_id: int) -> R | None:
        """The row with this id, or ``None``."""
        if call_log_id in self._rows:
            return self._rows[call_log_id]
        if not self.base.id_set(call_log_id):
            return None
        return self._base_row(call_log_id)

    def __contains__(self, call_log_id: int) -> bool:
        return self.get(call_log_id) is not None

    def latest_by_phone(self, phone: str) -> R | None:
        """The most recent row whose ``user_phone_number`` is ``phone``."""
        return self._latest(self.base.by_phone.get(phone, ()), self._by_phone.get(phone, ()))

    def latest_by_variable(self, name: str, text: str) -> R | None:
        """The most recent row whose variable ``name`` has the text form ``text``."""
        key = (name, text)
        return self._latest(self.base.by_variable.get(key, ()), self._by_variable.get(key, ()))

    def __iter__(self) -> Iterator[R]:
        """Every row, oldest id first (base then added)."""
        for call_log_id in self.base.ids:
            row = self.get(call_log_id)
            if row is not None:
                yield row
        for call_log_id, row in sorted(self._rows.items()):
            if row is not None and not self.base.id_set(call_log_id):
                yield row

    def __len__(self) -> int:
        deleted = sum(1 for i, r in self._rows.items() if r is None and self.base.id_set(i))
        return self.base.count - deleted + self._added

    def max_id(self) -> int:
        """The largest id this store has ever held (0 when empty)."""
        top = self.base.ids[-1] if len(self.base.ids) else 0
        return max(top, self._high)

    # --- writing (overlay only) ---------------------------------------------------

    def put(self, row: R) -> None:
        """Insert or replace a row."""
        self.delete(row.call_log_id)
        call_log_id = row.call_log_id
        if not self.base.id_set(call_log_id):
            self._added += 1
        self._rows[call_log_id] = row
        self._high = max(self._high, call_log_id)
        self._by_phone.setdefault(row.user_phone_number, set()).add(call_log_id)
        for key in variable_keys(row.variables):
            self._by_variable.setdefault(key, set()).add(call_log_id)

    def delete(self, call_log_id: int) -> bool:
        """Remove a row; ``False`` if there was none."""
        old = self.get(call_log_id)
        if old is None:
            return False
        if call_log_id in self._rows:
            self._unindex(old)
        if self.base.id_set(call_log_id):
            self._rows[call_log_id] = None
        else:
            del self._rows[call_log_id]
            self._added -= 1
        return True

    def reset(self) -> None:
        """Back to the base layer: drop every change."""
        self._rows.clear()
        self._by_phone.clear()
        self._by_variable.clear()
        self._added = 0
        self._high = 0

    @property
    def changed(self) -> dict[int, R | None]:
        """The overlay (id → row, or ``None`` for a deleted base row); read-only use."""
        return self._rows

    # --- internals ----------------------------------------------------------------

    def _base_row(self, call_log_id: int) -> R:
        row = self._cache.get(call_log_id)
        if row is None:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            row = self._cache[call_log_id] = self.base.fetch(call_log_id)
        return row

    def _latest(self, base_ids: Iterable[int], overlay_ids: Iterable[int]) -> R | None:
        best: R | None = None
        rows = self._rows
        for call_log_id in base_ids:  # most recent first: the first untouched one wins
            if call_log_id not in rows:
                best = self._base_row(call_log_id)
                break
        for call_log_id in overlay_ids:
            row = rows[call_log_id]
            if row is not None and (best is None or recency(row) > recency(best)):
                best = row
        return best

    def _unindex(self, row: R) -> None:
        call_log_id = row.call_log_id
        ids = self._by_phone.get(row.user_phone_number)
        if ids is not None:
            ids.discard(call_log_id)
            if not ids:
                del self._by_phone[row.user_phone_number]
        for key in variable_keys(row.variables):
            ids = self._by_variable.get(key)
            if ids is not None:
                ids.discard(call_log_id)
                if not ids:
                    del self._by_variable[key]
