"""What changes in a world, with one owner: ``WorldState``, and its transactions.

The seeded base (the generator, the base tables) is immutable; ``WorldState`` holds the
overlay over it (the two ``Store``s, the ``TargetTable``, the ``Dialer``, the webhooks, the
largest id issued, the version), the clock, the lock, the listeners, and the transaction
under way. The world's services (``Reads``, ``Targets``, ``Calls``, ``Hooks``...) are
composed over it and change it only inside ``batch()``.

All or nothing: a change of the world is made whole, or not at all (kit decision 33).

Every write of a ``World`` (a call started, targets added, a clock move and what it sets
off...) runs in ``batch()``, and the outermost batch is a transaction. It begins at a
savepoint (a copy of what changed since the base, as ``World.snapshot`` keeps, not of the
world) and ends by telling the listeners once (the state file stores the world there). If
anything raises before that end, or a listener does (the state file cannot be written), the
state is put back as the savepoint found it and the error goes on to the caller: a refused
write leaves nothing behind in memory, and nothing is served that the state file does not
hold. What moves with the world but lives outside it (the simulation's schedule) registers
its own undo with ``on_rollback``.

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
from prosper_mock.world.errors import CallConflict
from prosper_mock.world.generate.generator import Generator
from prosper_mock.world.records import MAX_CALL_ID, CallLog, LiveCall
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


class WorldState:
    """What changes in a world, and the one way it changes: ``batch()``, a transaction.

    ``subject`` is what the listeners are told of at the end of a transaction (the
    ``World`` this state is the state of: persistence reads its ``change()``).
    """

    def __init__(
        self,
        live_calls: Store[LiveCall],
        call_logs: Store[CallLog],
        targets: TargetTable,
        generator: Generator,
        clock: Clock,
        origin: dict[str, Any],
        subject: object = None,
    ) -> None:
        self.lock = threading.RLock()
        self.live_calls = live_calls
        self.call_logs = call_logs
        self.targets = targets
        self.dialer = Dialer(generator.recipe.seed)  # launched calls' lives on the clock
        self.webhooks = WebhookTable()  # campaigns' webhooks, their events, retries due
        self.generator = generator
        self.clock = clock
        self.origin = origin  # how the base was made: recipe or file
        # The world document a ``load`` replaced the base with (None: the base is the
        # one the world was built with). Persistence stores it: a recipe cannot remake it.
        self.loaded: dict[str, Any] | None = None
        self.version = 0  # bumps on every change
        # False when reads must not write (a world on a shared store: the lead process plays
        # what falls due, as writes every process then applies).
        self.plays_on_read = True
        # The largest id a change gave a new row since the base. Part of ``changes()``, so an
        # id is never issued twice, even when its row was deleted before a restart.
        self.last_id = 0
        # Told (under the lock) at the end of every transaction that changed something:
        # persistence writes the state file here.
        self.listeners: list[Callable[[Any], None]] = []
        self.subject: object = self if subject is None else subject
        self.batching = 0  # depth of nested ``batch()`` blocks
        self.batched = False  # a change happened inside them
        self.undo: list[Callable[[], None]] = []  # what ``on_rollback`` registered
        self.began: Savepoint | None = None  # where the transaction under way began
        self.whole = False  # it replaced the overlay (``replacing``): its change is all of it

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Make many changes as one, all or nothing: listeners hear of them once, at the end.

        If the block raises, or a listener does, every change since the outermost ``batch``
        began is undone and the error raised. The simulation catching up with a clock that
        jumped makes thousands of changes: the state file is written once, and if it cannot
        be, none of them stands.
        """
        with self.lock:
            if self.batching:  # inside a transaction already: it decides for the whole
                self.batching += 1
                try:
                    yield
                finally:
                    self.batching -= 1
                return
            savepoint = self._savepoint()
            self.batching, self.batched, self.undo = 1, False, []
            self.began, self.whole = savepoint, False
            try:
                yield
                if self.batched:
                    self.batched = False
                    self._notify()
            except BaseException:
                for undo in reversed(self.undo):
                    undo()
                self._put_back(savepoint)
                raise
            finally:
                self.batching, self.batched, self.undo = 0, False, []
                self.began, self.whole = None, False

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

    def replacing(self) -> None:
        """The transaction under way replaces the overlay (a reset, a load, a restore)."""
        self.whole = True

    def on_rollback(self, undo: Callable[[], None]) -> None:
        """Call ``undo`` if the transaction under way fails (nothing happens outside one)."""
        if self.batching:
            self.undo.append(undo)

    def announce(self) -> None:
        """Tell the listeners now, or at the end of the transaction under way."""
        if self.batching:
            self.batched = True
        else:
            self._notify()

    def changed(self) -> None:
        """A change was made: the version moves, and the listeners hear of it."""
        self.version += 1
        self.announce()

    def _notify(self) -> None:
        for listener in self.listeners:
            listener(self.subject)

    def next_id(self) -> int:
        """An id no row has had since the base: past every row, generated call and issued id.

        ``CallConflict`` once the largest call id is taken: ids are never reused.
        """
        found = 1 + max(
            self.live_calls.max_id(),
            self.call_logs.max_id(),
            self.generator.next_id() - 1,
            self.last_id,
        )
        if found > MAX_CALL_ID:
            raise CallConflict(
                f"no call id is left to issue: the largest, {MAX_CALL_ID}, has been used "
                "(ids are never reused); give call_log_id, reset the world or load another"
            )
        return found
