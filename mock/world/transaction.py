"""All or nothing: a change of the world is made whole, or not at all (kit decision 33).

Every write of a ``World`` (a call started, targets added, a clock move and what it sets
off...) runs in ``batch()``, and the outermost batch is a transaction. It begins at a
savepoint (``World`` keeps one as ``snapshot`` does: a copy of what changed since the base,
not of the world) and ends by telling the listeners once (the state file stores the world
there). If anything raises before that end, or a listener does (the state file cannot be
written), the world is put back as the savepoint found it and the error goes on to the
caller: a refused write leaves nothing behind in memory, and nothing is served that the
state file does not hold. What moves with the world but lives outside it (the simulation's
schedule) registers its own undo with ``on_rollback``.

A refusal inside the transaction that its caller catches (the dialer skipping a call ended
by hand meanwhile) undoes nothing by itself: every write checks what it was given before it
changes anything, so such a refusal has changed nothing to undo.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any


class Transactions:
    """``batch`` and ``on_rollback``, mixed into ``World``, which says what a savepoint holds
    (``_savepoint``) and how the world is put back to one (``_put_back``)."""

    lock: threading.RLock
    # Told (under the lock) at the end of every transaction that changed something.
    listeners: list[Callable[[Any], None]]
    _batching: int  # depth of nested ``batch()`` blocks
    _batched: bool  # a change happened inside them
    _undo: list[Callable[[], None]]  # what ``on_rollback`` registered in this transaction

    def _savepoint(self) -> Any:
        """What ``_put_back`` needs to undo every change made from now on."""
        raise NotImplementedError

    def _put_back(self, savepoint: Any) -> None:
        """Make the world what it was at ``savepoint``."""
        raise NotImplementedError

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Make many changes as one, all or nothing: listeners hear of them once, at the end.

        If the block raises, or a listener does, every change since the outermost ``batch``
        began is undone and the error raised. The simulation catching up with a clock that
        jumped makes thousands of changes: the state file is written once, and if it cannot
        be, none of them stands.
        """
        with self.lock:
            if self._batching:  # inside a transaction already: it decides for the whole
                self._batching += 1
                try:
                    yield
                finally:
                    self._batching -= 1
                return
            savepoint = self._savepoint()
            self._batching, self._batched, self._undo = 1, False, []
            try:
                yield
                if self._batched:
                    self._batched = False
                    self._notify()
            except BaseException:
                for undo in reversed(self._undo):
                    undo()
                self._put_back(savepoint)
                raise
            finally:
                self._batching, self._batched, self._undo = 0, False, []

    def on_rollback(self, undo: Callable[[], None]) -> None:
        """Call ``undo`` if the transaction under way fails (nothing happens outside one)."""
        if self._batching:
            self._undo.append(undo)

    def _announce(self) -> None:
        """Tell the listeners now, or at the end of the transaction under way."""
        if self._batching:
            self._batched = True
        else:
            self._notify()

    def _notify(self) -> None:
        for listener in self.listeners:
            listener(self)
