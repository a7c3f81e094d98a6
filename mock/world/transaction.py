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
from dataclasses import dataclass
from typing import Any

from prosper_mock.world.clock import Clock, VirtualClock
from prosper_mock.world.dialer import Dialer
from prosper_mock.world.generate.generator import Generator
from prosper_mock.world.records import CallLog, LiveCall
from prosper_mock.world.store import Store, StoreSavepoint
from prosper_mock.world.targets import TargetTable
from prosper_mock.world.webhooks import WebhookSavepoint, WebhookTable


@dataclass(frozen=True)
class Savepoint:
    """Where a transaction began: the world's parts, what each held (its overlay's shallow
    copy: what changed since the base, never a copy of a row or an index), the largest id
    issued, the version, the clock and a virtual clock's time."""

    live_calls: Store[LiveCall]
    live_rows: StoreSavepoint[LiveCall]
    call_logs: Store[CallLog]
    log_rows: StoreSavepoint[CallLog]
    targets: TargetTable
    target_rows: tuple[dict[str, Any], dict[str, str], int]
    dialer: Dialer  # a copy: it holds only the launched calls running
    generator: Generator
    origin: dict[str, Any]
    loaded: dict[str, Any] | None
    last_id: int
    version: int
    clock: Clock
    now: float | None
    webhooks: WebhookTable
    webhook_rows: WebhookSavepoint


class Transactions:
    """``batch`` and ``on_rollback``, mixed into ``World``: the parts below are the world's."""

    lock: threading.RLock
    live_calls: Store[LiveCall]
    call_logs: Store[CallLog]
    targets: TargetTable
    dialer: Dialer
    generator: Generator
    origin: dict[str, Any]
    loaded: dict[str, Any] | None
    last_id: int
    version: int
    clock: Clock
    webhooks: WebhookTable
    # Told (under the lock) at the end of every transaction that changed something.
    listeners: list[Callable[[Any], None]]
    _batching: int  # depth of nested ``batch()`` blocks
    _batched: bool  # a change happened inside them
    _undo: list[Callable[[], None]]  # what ``on_rollback`` registered in this transaction
    _began: Savepoint | None  # where the transaction under way began (``None``: none is)
    _whole: bool  # it replaced the overlay (``_replacing``): its change is the whole overlay

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
            self._began, self._whole = savepoint, False
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
                self._began, self._whole = None, False

    def _savepoint(self) -> Savepoint:
        clock = self.clock
        # What the transaction writes from now on: its ``Change`` (``storage.memory``).
        self.live_calls.touched, self.call_logs.touched, self.targets.touched = set(), set(), set()
        return Savepoint(
            self.live_calls,
            self.live_calls.savepoint(),
            self.call_logs,
            self.call_logs.savepoint(),
            self.targets,
            self.targets.savepoint(),
            self.dialer.copy(),
            self.generator,
            self.origin,
            self.loaded,
            self.last_id,
            self.version,
            clock,
            clock.now() if isinstance(clock, VirtualClock) else None,
            self.webhooks,
            self.webhooks.savepoint(),
        )

    def _put_back(self, saved: Savepoint) -> None:
        """Make the world what it was at ``saved``; the parts a write replaced (a load, a
        reset) come back with what they held."""
        # A refusal that changed nothing keeps the version (and the answers kept for it).
        moved = (
            self.version != saved.version
            or self.live_calls is not saved.live_calls
            or self.call_logs is not saved.call_logs
            or self.live_calls.changed != saved.live_rows.rows
            or self.call_logs.changed != saved.log_rows.rows
        )
        saved.live_calls.roll_back(saved.live_rows)
        saved.call_logs.roll_back(saved.log_rows)
        saved.targets.roll_back(saved.target_rows)
        saved.webhooks.roll_back(saved.webhook_rows)
        self.webhooks = saved.webhooks
        self.live_calls, self.call_logs = saved.live_calls, saved.call_logs
        self.targets, self.dialer, self.generator = saved.targets, saved.dialer, saved.generator
        self.origin, self.loaded, self.last_id = saved.origin, saved.loaded, saved.last_id
        self.clock = saved.clock
        if saved.now is not None and isinstance(self.clock, VirtualClock):
            self.clock.put_back(saved.now)
        if moved:
            self.version += 1

    def _replacing(self) -> None:
        """The transaction under way replaces the overlay (a reset, a load, a restore)."""
        self._whole = True

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
