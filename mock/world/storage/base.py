"""The storage seam: what one transaction of the world changed, and where it goes.

The seeded base of a world is immutable and every process rebuilds it from the seed (or the
world file); only the overlay changes. A write of the world is one transaction (``World.batch``)
that begins at a savepoint (what the overlay held), so a failed write is put back, and a write
that stands is described as a ``Change``: the overlay's entries it touched, as they are now, in
the form of ``World.changes()``. The world's listeners
(a store) take each ``Change`` before the write's answer is sent, all of it or none of it; when
one cannot, it raises and the transaction is undone.

Because a ``Change`` replays onto any world with the same base (``World.apply_changes``), one
total order of changes is all a store needs to keep worlds equal: the state file appends them
to a log (``persistence``); a shared store orders them for every process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from prosper_mock.world.errors import InvalidChange
from prosper_mock.world.records import call_id_problem


@dataclasses.dataclass(frozen=True)
class Change:
    """What one transaction changed.

    ``document``: the touched entries of the overlay, as they are after it, in the form of
    ``World.changes()`` (rows by id, ``None``: a base row deleted; ``last_id``, the targets'
    counters, the dialer when it changed), and under ``dropped`` the ids, per table, of the
    entries the overlay no longer holds (rows added since the base, then deleted). ``whole``:
    the transaction replaced the overlay (a reset, a load or a restore), so ``document`` is
    the whole of ``World.changes()`` and the base may have changed too.
    """

    document: dict[str, Any]
    whole: bool = False

    @property
    def empty(self) -> bool:
        """Nothing in the overlay changed (a virtual clock may have moved)."""
        return not self.whole and not self.document


@dataclasses.dataclass(frozen=True)
class Dropped:
    """A change's ``dropped``: ids, per table, of the entries the overlay no longer holds."""

    live_calls: tuple[int, ...] = ()
    call_logs: tuple[int, ...] = ()
    targets: tuple[str, ...] = ()


def parse_dropped(raw: Any) -> Dropped:
    """A change's ``dropped``, checked before anything is applied; raises ``InvalidChange``."""
    if not isinstance(raw, dict) or not set(raw) <= {"live_calls", "call_logs", "targets"}:
        raise InvalidChange("bad changes: dropped must map live_calls, call_logs or targets to ids")
    found: dict[str, tuple[Any, ...]] = {}
    for name, ids in raw.items():
        kind = str if name == "targets" else int
        if not isinstance(ids, list) or not all(
            type(i) is kind and (kind is str or call_id_problem(i) is None) for i in ids
        ):
            raise InvalidChange(f"bad changes: dropped.{name} must be a list of ids")
        found[name] = tuple(ids)
    return Dropped(**found)


@dataclasses.dataclass(frozen=True)
class Section:
    """A part of the state that a higher layer owns (stubs, fault rules), kept beside the
    world as ``name``: by the state file, and in the shared log's entries.

    ``saved`` answers its JSON now; ``load`` puts back what ``saved`` answered (at start-up,
    from the file; from another process's write), raising ``ValueError`` or ``WorldError`` that
    says what is wrong.
    """

    name: str
    saved: Callable[[], Any]
    load: Callable[[Any], None]
