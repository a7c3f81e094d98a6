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

from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from prosper_mock.world.records import CallLog, LiveCall, timestamp
from prosper_mock.world.textform import text_form

R = TypeVar("R", LiveCall, CallLog)
K = TypeVar("K")

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


def _more_ids(first: int, second: int) -> array[int] | list[int]:
    """The ids of a key seen twice while indexing: an ``array('q')`` to append to, or a list
    for ids beyond 64 bits (only a hand-written world file has them)."""
    try:
        return array("q", (first, second))
    except OverflowError:
        return [first, second]


def _add_id(ids: dict[Any, Any], key: Any, call_log_id: int) -> None:
    """Append ``call_log_id`` to ``key``'s ids in an ``{key: int | array | list}`` dict."""
    found = ids.get(key)
    if found is None:
        ids[key] = call_log_id
    elif found.__class__ is int:
        ids[key] = _more_ids(found, call_log_id)
    else:
        try:
            found.append(call_log_id)
        except OverflowError:  # a third id beyond 64 bits: the packed array becomes a list
            ids[key] = [*found, call_log_id]


class IdIndex(Mapping[K, Sequence[int]]):
    """Ids by key, most recent first, held compactly.

    A key with one id (most keys of a big world) holds the bare int; one with
    more, the ids packed 8 bytes each in a ``bytes``, read through a memoryview.
    Neither is an object per id, and neither is a container the garbage
    collector walks (an ``array`` is: a million of them made every full
    collection of a big world take seconds).
    """

    __slots__ = ("_ids",)

    def __init__(self, ids: dict[K, Any] | None = None) -> None:
        """``ids``: key → an id, or an array or list of ids, most recent first (``_add_id``);
        taken over and packed in place."""
        ids = ids if ids is not None else {}
        for key, found in ids.items():  # replacing values while iterating is allowed
            if found.__class__ is array:
                ids[key] = found.tobytes()
            elif found.__class__ is list:
                ids[key] = tuple(found)  # ints only: the collector stops tracking it
        self._ids: dict[K, Any] = ids

    def get(self, key: K, default: Any = None) -> Any:
        found = self._ids.get(key)
        if found is None:
            return default
        if found.__class__ is int:
            return (found,)
        if found.__class__ is bytes:
            return memoryview(found).cast("q")
        return found

    def __getitem__(self, key: K) -> Sequence[int]:
        found: Sequence[int] | None = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def __iter__(self) -> Iterator[K]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


class VariableIndex(Mapping[VariableKey, Sequence[int]]):
    """Ids by ``(name, text)``, most recent first: an ``IdIndex`` of texts per name.

    Two levels rather than tuple keys: no tuple object per key (millions in a
    big world), and a lookup is still two dictionary hits.
    """

    __slots__ = ("_names",)

    def __init__(self, names: dict[str, dict[str, Any]] | None = None) -> None:
        """``names``: name → text → an id or an array of ids (see ``_add_id``)."""
        self._names = {name: IdIndex(texts) for name, texts in (names or {}).items()}

    def get(self, key: VariableKey, default: Any = None) -> Any:
        texts = self._names.get(key[0])
        return default if texts is None else texts.get(key[1], default)

    def __getitem__(self, key: VariableKey) -> Sequence[int]:
        found: Sequence[int] | None = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[VariableKey]:
        for name, texts in self._names.items():
            for text in texts:
                yield name, text

    def __len__(self) -> int:
        return sum(len(texts) for texts in self._names.values())


class _Indexer:
    """Collects the index entries of rows added most recent first."""

    __slots__ = ("by_phone", "by_variable")

    def __init__(self) -> None:
        self.by_phone: dict[str, Any] = {}
        self.by_variable: defaultdict[str, dict[str, Any]] = defaultdict(dict)

    def add(self, call_log_id: int, phone: str, variables: dict[str, object]) -> None:
        _add_id(self.by_phone, phone, call_log_id)
        by_variable = self.by_variable
        # The hot loop of indexing a big world: variable_keys and _add_id, inlined.
        for name, value in variables.items():
            if value.__class__ is not str:
                value = text_form(value)
                if value is None:
                    continue
            texts = by_variable[name]
            found = texts.get(value)
            if found is None:
                texts[value] = call_log_id
            elif found.__class__ is int:
                texts[value] = _more_ids(found, call_log_id)
            else:
                found.append(call_log_id)

    def indexes(self) -> tuple[IdIndex[str], VariableIndex]:
        return IdIndex(self.by_phone), VariableIndex(dict(self.by_variable))


@dataclass
class BaseTable(Generic[R]):
    """The immutable seeded layer: how to fetch a row, and indexes most-recent-first."""

    fetch: Callable[[int], R]
    ids: Sequence[int]  # every id ascending, for dumps and counts; a range when derived
    count: int
    by_phone: Mapping[str, Sequence[int]] = field(default_factory=IdIndex)
    by_variable: Mapping[VariableKey, Sequence[int]] = field(default_factory=VariableIndex)
    id_set: Callable[[int], bool] = lambda _id: False

    @classmethod
    def from_records(cls, records: Iterable[R]) -> BaseTable[R]:
        """A base layer holding explicit rows (a world file)."""
        rows = sorted(records, key=recency, reverse=True)
        by_id = {r.call_log_id: r for r in rows}
        if len(by_id) != len(rows):
            raise ValueError("duplicate call_log_id in one store")
        indexer = _Indexer()
        for r in rows:  # most recent first, so index lists come out in that order
            indexer.add(r.call_log_id, r.user_phone_number, r.variables)
        by_phone, by_variable = indexer.indexes()
        return cls(
            fetch=by_id.__getitem__,
            ids=sorted(by_id),
            count=len(by_id),
            by_phone=by_phone,
            by_variable=by_variable,
            id_set=by_id.__contains__,
        )

    @classmethod
    def derived(
        cls,
        ids: range,
        fetch: Callable[[int], R],
        keys: Callable[[int], tuple[str, dict[str, object]]],
        progress: Callable[[int], object] | None = None,
    ) -> BaseTable[R]:
        """A base layer whose rows are derived on demand; ``ids`` ascend in time.

        ``progress(n)`` hears of every ``n`` rows indexed (a million take a while).
        """
        indexer = _Indexer()
        add = indexer.add
        newest_first = ids[::-1]
        step = 10_000  # per chunk, not per row: the loop below is the hot path
        for start in range(0, len(newest_first), step):
            chunk = newest_first[start : start + step]
            for call_log_id in chunk:
                add(call_log_id, *keys(call_log_id))
            if progress is not None:
                progress(len(chunk))
        by_phone, by_variable = indexer.indexes()
        return cls(
            fetch=fetch,
            ids=ids,
            count=len(ids),
            by_phone=by_phone,
            by_variable=by_variable,
            id_set=ids.__contains__,
        )


@dataclass(frozen=True)
class StoreSavepoint(Generic[R]):
    """A store's overlay as ``Store.savepoint`` found it."""

    rows: dict[int, R | None]
    added: int
    high: int


class Store(Generic[R]):
    """A table as the lookup sees it: the base layer merged with the overlay."""

    def __init__(self, name: str, base: BaseTable[R], cache_size: int = 100_000) -> None:
        self.name = name
        self.base: BaseTable[R] = base
        self._rows: dict[int, R | None] = {}  # overlay: None marks a deleted base row
        self._by_phone: dict[str, set[int]] = {}
        self._by_variable: dict[VariableKey, set[int]] = {}
        self._cache: dict[int, R] = {}  # derived base rows already built
        self._cache_size = cache_size
        self._added = 0  # ids in the overlay that the base does not have
        self._high = 0  # the largest id ever put: ids are never reused, even after a delete
        # Ids written since a transaction began: what its ``Change`` holds (``state``).
        self.touched: set[int] = set()

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
        """Insert or replace a row.

        Whatever can fail (the variables' text forms, the row's time) is worked out before
        anything changes, so the row and its indexes never disagree.
        """
        keys = list(variable_keys(row.variables))
        recency(row)
        self.delete(row.call_log_id)
        call_log_id = row.call_log_id
        self.touched.add(call_log_id)
        if not self.base.id_set(call_log_id):
            self._added += 1
        self._rows[call_log_id] = row
        self._high = max(self._high, call_log_id)
        self._index(row, keys)

    def delete(self, call_log_id: int) -> bool:
        """Remove a row; ``False`` if there was none."""
        old = self.get(call_log_id)
        if old is None:
            return False
        self.touched.add(call_log_id)
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

    def savepoint(self) -> StoreSavepoint[R]:
        """The overlay as it is now, for ``roll_back``: a shallow copy, not the indexes'."""
        return StoreSavepoint(dict(self._rows), self._added, self._high)

    def roll_back(self, savepoint: StoreSavepoint[R]) -> None:
        """Back to the overlay ``savepoint`` took (a world's failed transaction): the rows
        changed since are unindexed, the ones they replaced indexed again."""
        rows = savepoint.rows
        for call_log_id in self._rows.keys() | rows.keys():
            now, then = self._rows.get(call_log_id), rows.get(call_log_id)
            if now is not then:
                if now is not None:
                    self._unindex(now)
                if then is not None:
                    self._index(then, list(variable_keys(then.variables)))
        self._rows, self._added, self._high = rows, savepoint.added, savepoint.high

    def copy(self) -> Store[R]:
        """The same table as a new store: the base shared (it never changes), the overlay copied."""
        twin: Store[R] = Store(self.name, self.base, self._cache_size)
        twin._rows = dict(self._rows)
        twin._by_phone = {k: set(v) for k, v in self._by_phone.items()}
        twin._by_variable = {k: set(v) for k, v in self._by_variable.items()}
        twin._added, twin._high = self._added, self._high
        return twin

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

    def _index(self, row: R, keys: Iterable[VariableKey]) -> None:
        call_log_id = row.call_log_id
        self._by_phone.setdefault(row.user_phone_number, set()).add(call_log_id)
        for key in keys:
            self._by_variable.setdefault(key, set()).add(call_log_id)

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
