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
from typing import Any


@dataclasses.dataclass(frozen=True)
class Change:
    """What one transaction changed.

    ``document``: the touched entries of the overlay, as they are after it, in the form of
    ``World.changes()`` (rows by id, ``None``: deleted; ``last_id``, the targets' counters,
    the dialer when it changed). ``whole``: the transaction replaced the overlay (a reset, a
    load or a restore), so ``document`` is the whole of ``World.changes()`` and the base may
    have changed too.
    """

    document: dict[str, Any]
    whole: bool = False

    @property
    def empty(self) -> bool:
        """Nothing in the overlay changed (a virtual clock may have moved)."""
        return not self.whole and not self.document
