"""The targets' part of a world's changes (``World.changes()``, a ``Change``): the rows by id,
how many targets were ever added, and the deleted added ones' campaigns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prosper_mock.world.errors import InvalidChange
from prosper_mock.world.targets import Target, TargetTable, target_from_dict, target_to_dict


@dataclass(frozen=True)
class TargetChanges:
    """The targets' part of a ``changes()`` document, checked: rows by id (``None``: a seeded
    one deleted), how many were ever added, and the deleted added ones' campaigns."""

    rows: dict[str, Target | None]
    added: int
    gone: dict[str, str]

    def apply_to(self, table: TargetTable) -> None:
        for target_id, target in self.rows.items():
            if target is None:
                table.delete(target_id)
            else:
                table.put(target)
        table.added = max(table.added, self.added)
        table.gone.update(self.gone)


def target_changes(table: TargetTable) -> dict[str, Any]:
    """The targets' part of ``World.changes()``: none when nothing changed."""
    found: dict[str, Any] = {}
    if table.changed:
        found["targets"] = {
            k: None if v is None else target_to_dict(v) for k, v in table.changed.items()
        }
    if table.added:
        found["targets_added"] = table.added
    if table.gone:
        found["targets_gone"] = dict(table.gone)
    return found


def parse_target_changes(changes: Any) -> TargetChanges:
    """The targets' part of a ``changes()`` document, checked before anything is applied."""
    if not isinstance(changes, dict):
        return TargetChanges({}, 0, {})
    raw = changes.get("targets", {})
    if not isinstance(raw, dict):
        raise InvalidChange("bad changes: targets must be an object")
    found: dict[str, Target | None] = {}
    for key, row in raw.items():
        where = f"targets[{key}]"
        target = None if row is None else target_from_dict(row, where)
        if target is not None and target.id != key:
            raise InvalidChange(f"{where}: the target's id is {target.id!r}")
        found[key] = target
    added = changes.get("targets_added", 0)
    if isinstance(added, bool) or not isinstance(added, int) or added < 0:
        raise InvalidChange(f"bad changes: targets_added must be a count, not {added!r}")
    gone = changes.get("targets_gone", {})
    if not isinstance(gone, dict) or not all(isinstance(v, str) for v in gone.values()):
        raise InvalidChange("bad changes: targets_gone must map target ids to campaign ids")
    return TargetChanges(found, added, gone)
