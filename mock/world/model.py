"""The mock's world: the ``live_calls`` and ``call_logs`` stores and how they change.

A ``World`` owns everything the mock serves, so an app, a test or a fixture can
hold as many independent worlds as it likes. Changes go through its methods
(the control API, the pytest plugin and the contract suite all use them), which
keep the two stores consistent under one lock: the server answers requests on
its own thread while a test changes the world from another.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Mapping
from itertools import islice
from pathlib import Path
from typing import Any

from prosper_mock.base.files import FileError, read_json
from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.campaigns import SeededTargets, SlotIndexer
from prosper_mock.world.clock import Clock, SystemClock
from prosper_mock.world.dialer import Dialer, parse_saved, steps_done
from prosper_mock.world.errors import (
    CallConflict,
    InvalidChange,
    UnknownCall,
    WorldError,
    WorldFileError,
)
from prosper_mock.world.generate.generator import Generator
from prosper_mock.world.generate.recipe import WorldRecipe
from prosper_mock.world.hooking import Hooking
from prosper_mock.world.records import (
    MAX_CALL_ID,
    CallLog,
    LiveCall,
    call_id_problem,
    call_log_from_dict,
    live_call_from_dict,
    to_dict,
)
from prosper_mock.world.storage.base import Change, parse_dropped
from prosper_mock.world.storage.memory import change_since
from prosper_mock.world.storage.targetchanges import parse_target_changes, target_changes
from prosper_mock.world.storage.webhookchanges import parse_webhook_changes, webhook_changes
from prosper_mock.world.store import BaseTable, Store
from prosper_mock.world.targetfile import file_table, sections
from prosper_mock.world.targets import TargetTable
from prosper_mock.world.transaction import Savepoint, Transactions
from prosper_mock.world.webhooks import WebhookTable
from prosper_mock.world.worldfile import (
    field_sources,
    given_fields,
    parse_changes,
    parse_world,
    validated,
    world_document,
)


@dataclasses.dataclass(frozen=True)
class WorldSnapshot:
    """A world as it was (``World.snapshot``): its base and overlay, and how the base was made."""

    live_calls: Store[LiveCall]
    call_logs: Store[CallLog]
    targets: TargetTable
    dialer: Dialer
    generator: Generator
    origin: dict[str, Any]
    loaded: dict[str, Any] | None
    webhooks: WebhookTable


class World(Transactions, Hooking):
    """Two stores, the generator behind them, and the operations that change them."""

    def __init__(
        self,
        live: BaseTable[LiveCall],
        logs: BaseTable[CallLog],
        generator: Generator,
        clock: Clock | None = None,
        origin: Mapping[str, Any] | None = None,
        seeded: SeededTargets | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.live_calls: Store[LiveCall] = Store("live_calls", live)
        self.call_logs: Store[CallLog] = Store("call_logs", logs)
        self.targets = TargetTable(seeded or SeededTargets.empty(generator))
        self.dialer = Dialer(generator.recipe.seed)  # launched calls' lives on the clock
        self.webhooks = WebhookTable()  # campaigns' webhooks, their events, retries due
        self.generator = generator
        self.clock: Clock = clock or SystemClock()
        self.origin = dict(origin or {})  # how the base was made: recipe or file
        # The world document a ``load`` replaced the base with (None: the base is the
        # one the world was built with). Persistence stores it: a recipe cannot remake it.
        self.loaded: dict[str, Any] | None = None
        self.version = 0  # bumps on every change
        self.plays_on_read = True  # reads play what fell due first (``Reading``)
        # The largest id a change gave a new row since the base. Part of ``changes()``, so an
        # id is never issued twice, even when its row was deleted before a restart.
        self.last_id = 0
        # Called (under the lock) after every change: persistence writes the state file here.
        self.listeners: list[Callable[[Any], None]] = []
        self._batching = 0  # depth of nested ``batch()`` blocks (``transaction``)
        self._batched = False  # a change happened inside them
        self._undo: list[Callable[[], None]] = []
        self._began: Savepoint | None = None
        self._whole = False

    # --- construction -------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        recipe: WorldRecipe | None = None,
        clock: Clock | None = None,
        progress: Callable[[int], object] | None = None,
    ) -> World:
        """A faker-seeded world; the same recipe gives the same world.

        ``progress(n)``: told as every ``n`` more calls are indexed (a big world takes a while).
        """
        recipe = recipe or WorldRecipe()
        gen = Generator(recipe)
        slots = SlotIndexer(gen)  # notes each campaign's calls while the stores are indexed
        live = BaseTable.derived(gen.live_ids(), gen.live_call, slots.live_keys, progress)
        logs = BaseTable.derived(gen.log_ids(), gen.call_log, slots.log_keys, progress)
        origin = {"recipe": dataclasses.asdict(recipe)}
        seeded = SeededTargets.indexed(slots)
        return cls(live, logs, gen, clock=clock, origin=origin, seeded=seeded)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], clock: Clock | None = None) -> World:
        """A world from its JSON form (``fixtures/*.json``); raises ``WorldError``."""
        live, logs, recipe = parse_world(data)
        gen = Generator(recipe)
        targets = file_table(data, gen)
        world = cls(
            BaseTable.from_records(live),
            BaseTable.from_records(logs),
            gen,
            clock=clock,
            origin={"recipe": dataclasses.asdict(recipe), "from_file": True},
        )
        world.targets = targets
        return world

    @classmethod
    def from_file(cls, path: str | Path, clock: Clock | None = None) -> World:
        """A world from a world file; raises ``WorldError`` naming the file and the problem."""
        try:
            data = read_json(Path(path), "world file")
        except FileError as exc:
            raise WorldFileError(str(exc)) from None
        try:
            world = cls.from_dict(data, clock=clock)
        except WorldError as exc:
            raise WorldFileError(f"world file {path}: {exc}") from None
        except RecursionError:  # a row's value nested deeper than indexing it can follow
            raise WorldFileError(f"world file {path}: a value is nested too deeply") from None
        world.origin["from_file"] = str(Path(path).resolve())
        return world

    # --- reading ------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """The whole world, as it is now, in the world-file format."""
        with self.lock:
            document = world_document(self.origin.get("recipe"), self.live_calls, self.call_logs)
            return {**document, **sections(self.targets)}

    def changes(self) -> dict[str, Any]:
        """What changed since the seeded (or loaded) world: rows by id, ``None`` = deleted,
        and ``last_id``, the largest id issued (when a change issued one)."""
        with self.lock:
            found: dict[str, Any] = {
                store.name: {
                    str(i): (None if row is None else to_dict(row))
                    for i, row in sorted(store.changed.items())
                }
                for store in (self.live_calls, self.call_logs)
            }
            if self.last_id:
                found["last_id"] = self.last_id
            # Targets and the dialer only when they changed: older state files stay as they were.
            found.update(target_changes(self.targets))
            if len(self.dialer):
                found["dialer"] = self.dialer.saved()
            found.update(webhook_changes(self.webhooks))
            return found

    def change(self) -> Change:
        """What the transaction under way changed so far (its listeners ask at its end): the
        overlay's touched entries, in the form of ``changes()``; outside one, nothing."""
        with self.lock:
            if self._began is None:
                return Change({})
            return change_since(self, self._began, self._whole)

    def apply_changes(self, changes: Mapping[str, Any], *, exact: bool = False) -> None:
        """Replay ``changes()`` of an earlier run, or the ``change()`` of a transaction, onto
        this world; raises ``WorldError``. A ``dialer`` given replaces the dialer's calls.
        ``exact``: ``last_id`` is the one given (a change's), not also drawn from the rows (a
        state file of an older kit may lack it).

        Every row is checked before any is applied: a bad one changes nothing.
        """
        planned, last_id = parse_changes(changes)
        targets = parse_target_changes(changes)
        dialed = parse_saved(changes.get("dialer", []))
        dropped = parse_dropped(changes.get("dropped", {}))
        hooks = parse_webhook_changes(changes)
        with self.batch():
            for call_log_id in dropped.live_calls:
                self.live_calls.delete(call_log_id)
            for call_log_id in dropped.call_logs:
                self.call_logs.delete(call_log_id)
            for target_id in dropped.targets:
                self.targets.delete(target_id)
            for name, call_log_id, row in planned:
                store = getattr(self, name)
                if row is None:
                    store.delete(call_log_id)
                else:
                    store.put(row)
                    if not exact:
                        last_id = max(last_id, call_log_id)
            targets.apply_to(self.targets)
            hooks.apply_to(self.webhooks)
            if "dialer" in changes:
                self.dialer.reset()
            for call_log_id, began, steps in dialed:
                live = self.live_calls.get(call_log_id)
                if live is not None:  # what it played is in its row: the rest is to come
                    self.dialer.add(call_log_id, began, steps, steps_done(live.flow))
                elif exact:  # ended by hand: running for the dialer until its end is due
                    self.dialer.add(call_log_id, began, steps, steps)
            self.last_id = max(self.last_id, last_id)
            self.version += 1

    def stats(self) -> dict[str, int]:
        with self.lock:
            return {
                "live_calls": len(self.live_calls),
                "call_logs": len(self.call_logs),
                "version": self.version,
            }

    def sample_ids(self, per_store: int = 3) -> dict[str, list[int]]:
        """The first ``per_store`` ids of each store: known calls for a client that has none."""
        with self.lock:
            return {
                "live_calls": [r.call_log_id for r in islice(self.live_calls, per_store)],
                "call_logs": [r.call_log_id for r in islice(self.call_logs, per_store)],
            }

    # --- changing -----------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seeded (or loaded) world: every change since is dropped."""
        with self.batch():
            self._replacing()
            self.live_calls.reset()
            self.call_logs.reset()
            self.targets.reset()
            self.dialer.reset()
            self.webhooks.reset()
            self.last_id = 0
            self._changed()

    def load(self, data: Mapping[str, Any]) -> None:
        """Replace the base with a world file's contents; ``reset`` returns here after."""
        live, logs, recipe = parse_world(data)
        generator = Generator(recipe)
        targets = file_table(data, generator)
        with self.batch():
            self._replacing()
            self.live_calls = Store("live_calls", BaseTable.from_records(live))
            self.call_logs = Store("call_logs", BaseTable.from_records(logs))
            self.generator = generator
            self.targets = targets
            self.dialer = Dialer(recipe.seed)
            self.webhooks.reset()
            self.last_id = 0
            self.origin = {"recipe": dataclasses.asdict(recipe), "from_file": True}
            self.loaded = {
                **world_document(self.origin["recipe"], live, logs),
                **sections(targets),
            }
            self._changed()

    def snapshot(self) -> WorldSnapshot:
        """The world as it is now, base and changes, for ``restore``; costs only the changes.

        Unlike ``dump`` then ``load``, restoring it keeps what ``reset`` returns to.
        """
        with self.lock:
            return WorldSnapshot(
                self.live_calls.copy(),
                self.call_logs.copy(),
                self.targets.copy(),
                self.dialer.copy(),
                self.generator,
                copy.deepcopy(self.origin),
                self.loaded,
                self.webhooks.copy(),
            )

    def restore(self, saved: WorldSnapshot) -> None:
        """Back to ``saved``: the same rows, the same reset baseline, the same origin."""
        with self.batch():
            self._replacing()
            self.live_calls = saved.live_calls.copy()
            self.call_logs = saved.call_logs.copy()
            issued = self.targets.added  # a client may hold ids issued since: never reissued
            self.targets = saved.targets.copy()
            self.targets.added = max(issued, self.targets.added)
            self.dialer = saved.dialer.copy()
            self.webhooks = self.webhooks.restored(saved.webhooks)
            self.generator = saved.generator
            self.origin = copy.deepcopy(saved.origin)
            self.loaded = saved.loaded
            self._changed()

    def clock_moved(self) -> None:
        """Tell the listeners that a virtual clock moved: its time is part of the stored state
        (a restart resumes from it), though no row changed and the version stays."""
        with self.batch():
            self._announce()

    def _changed(self) -> None:
        self.version += 1
        self._announce()

    def _when(self, at: float | None) -> float:
        """``at`` (the clock's now when ``None``), refused unless it is a time a row can hold."""
        if at is None:
            return self.clock.now()
        try:
            if isinstance(at, bool) or not isinstance(at, int | float):
                raise TypeError(f"not a number: {at!r}")
            iso_milliseconds(at)
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            raise InvalidChange(f"at: not a time ({exc})") from None
        return float(at)

    def _next_id(self) -> int:
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

    def start_call(
        self, fields: Mapping[str, Any] | None = None, at: float | None = None
    ) -> LiveCall:
        """Start a live call: given fields win, the rest is generated from the seed.

        ``at`` is when it starts (default: the clock's now).
        """
        fields = given_fields(fields)
        with self.batch():
            call_log_id = fields.get("call_log_id")
            if call_log_id is None:
                call_log_id = self._next_id()
            elif (problem := call_id_problem(call_log_id)) is not None:
                raise InvalidChange(f"call_log_id {problem}")
            if call_log_id in self.live_calls:
                raise CallConflict(f"call {call_log_id} is already live")
            generated = self.generator.live_call(
                call_log_id, self._when(at), steps=0, **field_sources(fields, "outbound")
            )
            call = validated(
                live_call_from_dict, {**to_dict(generated), **fields, "call_log_id": call_log_id}
            )
            self.live_calls.put(call)
            self.last_id = max(self.last_id, call_log_id)
            self._link_call(call_log_id, call.campaign_target_id)
            self._changed()
            return call

    def map_variables(
        self,
        call_log_id: int,
        variables: Mapping[str, Any],
        at: float | None = None,
        progress: Mapping[str, Any] | None = None,
    ) -> LiveCall:
        """Map (set or change) variables on a live call, as its flow does while it runs.

        ``progress``: other fields of the row that move with the step (the
        simulation passes ``flow``, ``transcript`` and ``status``).
        """
        if not isinstance(variables, Mapping):
            raise InvalidChange("variables must be an object")
        if progress is not None and not isinstance(progress, Mapping):
            raise InvalidChange("progress must be an object")
        with self.batch():
            call = self.live_calls.get(call_log_id)
            if call is None:
                raise UnknownCall(f"no live call {call_log_id}")
            updated = validated(
                live_call_from_dict,
                {
                    **to_dict(call),
                    **(progress or {}),
                    "variables": {**call.variables, **variables},
                    "updated_at": iso_milliseconds(self._when(at)),
                },
            )
            self.live_calls.put(updated)
            self._changed()
            return updated

    def end_call(
        self,
        call_log_id: int,
        fields: Mapping[str, Any] | None = None,
        keep_live: bool = False,
        at: float | None = None,
    ) -> CallLog:
        """End a live call: it leaves ``live_calls`` and its log enters ``call_logs``.

        The log is derived from the live row (length from its start to now,
        ended reason, categorisation, transcripts, post-call data); ``fields``
        override any of it. ``keep_live`` leaves the live row in place, as
        upstream does for a moment after a call ends.
        """
        fields = given_fields(fields)
        with self.batch():
            call = self.live_calls.get(call_log_id)
            if call is None:
                raise UnknownCall(f"no live call {call_log_id}")
            # Given fields the log derives others from (the phone, the variables) go in first.
            source = dataclasses.replace(call, **field_sources(fields, call.direction, live=True))
            finished = self.generator.finish(source, self._when(at))
            log = validated(call_log_from_dict, {**to_dict(finished), **fields, "id": call_log_id})
            self.call_logs.put(log)
            if not keep_live:
                self.live_calls.delete(call_log_id)
            self._call_moved(call, self._when(at))
            self._call_ended(log, self._when(at))
            self._changed()
            return log

    def add_call_log(self, fields: Mapping[str, Any] | None = None) -> CallLog:
        """Add a finished call: given fields win, the rest is generated from the seed."""
        fields = given_fields(fields)
        with self.batch():
            call_log_id = fields.get("id", fields.pop("call_log_id", None))
            if call_log_id is None:
                call_log_id = self._next_id()
            elif (problem := call_id_problem(call_log_id)) is not None:
                raise InvalidChange(f"id {problem}")
            if call_log_id in self.call_logs:
                raise CallConflict(f"call log {call_log_id} already exists")
            now = self.clock.now()
            generated = self.generator.call_log(
                call_log_id, now - 60 - call_log_id % 600, now, **field_sources(fields, "outbound")
            )
            log = validated(call_log_from_dict, {**to_dict(generated), **fields, "id": call_log_id})
            self.call_logs.put(log)
            self.last_id = max(self.last_id, call_log_id)
            self._link_call(call_log_id, log.campaign_target_id)
            self._changed()
            return log

    def delete_call_log(self, call_log_id: int) -> None:
        with self.batch():
            row = self.call_logs.get(call_log_id)
            if not self.call_logs.delete(call_log_id):
                raise UnknownCall(f"no call log {call_log_id}")
            self._call_moved(row, self.clock.now())
            self._changed()

    def delete_live_call(self, call_log_id: int) -> None:
        with self.batch():
            row = self.live_calls.get(call_log_id)
            if not self.live_calls.delete(call_log_id):
                raise UnknownCall(f"no live call {call_log_id}")
            self._call_moved(row, self.clock.now())
            self._changed()
