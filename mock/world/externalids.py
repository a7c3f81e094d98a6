"""Which targets of a campaign hold an external id: what adding targets checks duplicates by.

Every target added with ``allow_duplicates`` asks whether its campaign holds its external id
already. A scan of the world's targets would make adding ``k`` targets cost O(k · n), so a
campaign's adds grew slower as it filled; these indexes make it O(k). A seeded target that
has a call is found through its call's ``external_id`` variable (the stores' index: see
``Targets``); the others here: the base's targets with no call (the seeded pending slots
and a world file's targets, indexed the first time one is asked for, then kept, since the
base never changes) and the overlay's rows, kept up to date on every change. The ids are
candidates: the caller reads each one's current row, which decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol, TypeVar

from prosper_mock.world.campaigns import SeededTargets
from prosper_mock.world.generate.ids import TargetIds
from prosper_mock.world.store import Store

Key = tuple[str, str]  # (campaign id, external id)


# The index reads three fields of a target row and four members of the table that holds them;
# naming them here, rather than importing ``targets``, keeps the table free to own the index.
class Row(Protocol):
    """What the index reads of a target."""

    @property
    def id(self) -> str: ...
    @property
    def campaign_id(self) -> str: ...
    @property
    def external_id(self) -> str | None: ...


R = TypeVar("R", bound=Row)
R_co = TypeVar("R_co", bound=Row, covariant=True)


class Table(Protocol[R_co]):
    """What ``holders`` reads of the targets' table."""

    @property
    def seeded(self) -> SeededTargets: ...
    @property
    def ids(self) -> TargetIds: ...
    @property
    def external(self) -> ExternalIds: ...
    def get(self, target_id: str) -> R_co | None: ...


class _Base:
    """The base's index, built once on first use and shared by every copy of a table."""

    def __init__(self, seeded: SeededTargets, explicit: Iterable[Row]) -> None:
        self._seeded = seeded
        self._explicit = explicit
        self._built: dict[Key, list[str]] | None = None

    def get(self, key: Key) -> list[str]:
        if self._built is None:
            self._built = self._build()
        return self._built.get(key, [])

    def _build(self) -> dict[Key, list[str]]:
        seeded = self._seeded
        ids = seeded.generator.target_ids
        built: dict[Key, list[str]] = {}
        for slot in range(seeded.calls, seeded.size):  # pending: no call to be found by
            key = (seeded.campaign_of(slot).id, seeded.plan(slot).person.external_id)
            built.setdefault(key, []).append(ids.base(slot))
        for target in self._explicit:
            if target.external_id is not None:
                key = (target.campaign_id, target.external_id)
                built.setdefault(key, []).append(target.id)
        return built


class ExternalIds:
    """Candidate targets by ``(campaign id, external id)``: the base's and the overlay's."""

    def __init__(self, seeded: SeededTargets, explicit: Iterable[Row]) -> None:
        self._base = _Base(seeded, explicit)
        self._rows: dict[Key, dict[str, None]] = {}  # an ordered set of ids per key

    def holding(self, campaign_id: str, external_id: str) -> list[str]:
        """Ids that may hold ``external_id`` in the campaign (their rows decide)."""
        key = (campaign_id, external_id)
        return [*self._base.get(key), *self._rows.get(key, ())]

    def add(self, target: Row) -> None:
        """An overlay row was put."""
        if target.external_id is not None:
            self._rows.setdefault((target.campaign_id, target.external_id), {})[target.id] = None

    def discard(self, target: Row) -> None:
        """An overlay row was replaced or dropped."""
        if target.external_id is None:
            return
        key = (target.campaign_id, target.external_id)
        found = self._rows.get(key)
        if found is not None:
            found.pop(target.id, None)
            if not found:
                del self._rows[key]

    def clear(self) -> None:
        """The overlay is gone (a reset)."""
        self._rows.clear()

    def copy(self) -> ExternalIds:
        """The same index for a copy of the table: the base shared, the overlay's own."""
        twin = ExternalIds.__new__(ExternalIds)
        twin._base = self._base
        twin._rows = {k: dict(v) for k, v in self._rows.items()}
        return twin


def holders(
    table: Table[R], stores: Iterable[Store[Any]], campaign_id: str, external_id: str
) -> Iterator[R]:
    """The campaign's targets with this external id, each once: the seeded ones with a call
    through their calls' ``external_id`` variable (``stores``: the world's call logs and live
    calls), the others through ``table.external``; each candidate's current row decides."""
    seeded = table.seeded
    first = seeded.generator.recipe.first_id
    candidates: list[str] = []
    for store in stores:
        for call_log_id in store.base.by_variable.get(("external_id", external_id), ()):
            if 0 <= call_log_id - first < seeded.calls:
                candidates.append(table.ids.base(call_log_id - first))
    candidates.extend(table.external.holding(campaign_id, external_id))
    for target_id in dict.fromkeys(candidates):
        target = table.get(target_id)
        if (
            target is not None
            and target.campaign_id == campaign_id
            and target.external_id == external_id
        ):
            yield target
