"""The mock's world: the ``live_calls`` and ``call_logs`` stores and how they change.

A ``World`` owns everything the mock serves, so an app, a test or a fixture can
hold as many independent worlds as it likes. Changes go through its methods
(the control API, the pytest plugin and the contract suite all use them), which
keep the two stores consistent under one lock: the server answers requests on
its own thread while a test changes the world from another.

``World`` is a facade: what changes is its state's (``state.WorldState``, one owner), and
its reads and writes are services composed over that state (``views``, ``hooking``,
``calls``, ``dialing``, ``targeting``, ``reading``), each given what it uses.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Mapping
from functools import partial
from itertools import islice
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

from prosper_mock.base.files import FileError, read_json
from prosper_mock.world.calls import Calls
from prosper_mock.world.campaigns import SeededTargets, SlotIndexer
from prosper_mock.world.clock import Clock, SystemClock
from prosper_mock.world.dialer import Dialer, parse_saved, steps_done
from prosper_mock.world.dialing import Dialing
from prosper_mock.world.errors import WorldError, WorldFileError
from prosper_mock.world.generate.generator import Generator
from prosper_mock.world.generate.recipe import WorldRecipe
from prosper_mock.world.hooking import Hooks
from prosper_mock.world.reading import Reads
from prosper_mock.world.records import CallLog, LiveCall, to_dict
from prosper_mock.world.state import WorldState
from prosper_mock.world.storage.base import Change, parse_dropped
from prosper_mock.world.storage.memory import change_since
from prosper_mock.world.storage.targetchanges import parse_target_changes, target_changes
from prosper_mock.world.storage.webhookchanges import parse_webhook_changes, webhook_changes
from prosper_mock.world.store import BaseTable, Store
from prosper_mock.world.targetfile import file_table, sections
from prosper_mock.world.targeting import Targets
from prosper_mock.world.targets import TargetTable
from prosper_mock.world.views import Views
from prosper_mock.world.webhooks import WebhookTable
from prosper_mock.world.worldfile import parse_changes, parse_world, world_document

T = TypeVar("T")
S = TypeVar("S")
P = ParamSpec("P")
R = TypeVar("R")


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
    last_id: int = 0  # the largest call id issued by then (rows since deleted included)


class Part(property, Generic[T]):
    """An attribute of ``World`` that lives in its state (``WorldState``): read and assigned
    there, so the services, which share that state, see the same part. Read through a C-level
    getter (``attrgetter``): a world's parts are read on every request."""

    def __init__(self, name: str) -> None:
        super().__init__(attrgetter(f"state.{name}"), partial(_put_part, name))

    if TYPE_CHECKING:

        @overload
        def __get__(self, world: None, owner: type | None = None) -> Part[T]: ...
        @overload
        def __get__(self, world: World, owner: type | None = None) -> T: ...
        def __get__(self, world: World | None, owner: type | None = None) -> Part[T] | T: ...
        def __set__(self, world: World, value: T) -> None: ...


def _put_part(name: str, world: World, value: Any) -> None:
    setattr(world.state, name, value)


class Via(Generic[S, P, R]):
    """A method of ``World`` that is one of its services' (``World.reads``...): the world's
    ``name`` calls ``method`` of the service the world holds as ``service``."""

    def __init__(self, service: str, method: Callable[Concatenate[S, P], R]) -> None:
        self.service = service
        self.method = method
        self.__doc__ = method.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, world: None, owner: type) -> Via[S, P, R]: ...
    @overload
    def __get__(self, world: World, owner: type) -> Callable[P, R]: ...
    def __get__(self, world: World | None, owner: type) -> Via[S, P, R] | Callable[P, R]:
        if world is None:
            return self
        return cast("Callable[P, R]", getattr(getattr(world, self.service), self.method.__name__))


class World:
    """The seeded base, the state over it (``WorldState``) and the services composed over that
    state: ``views`` (lookups), ``hooks`` (attempts, webhooks), ``calls``, ``dialing`` (the
    clock's launched calls and retries), ``targeting`` (target writes), ``reads``.

    Each service is given the state and the services it uses, in that order: no service uses
    one given after it. The world's own methods (a dump, the changes, a reset, a load, a
    snapshot) and the parts of the state are here; the rest calls the services.
    """

    lock = Part[threading.RLock]("lock")
    live_calls = Part[Store[LiveCall]]("live_calls")
    call_logs = Part[Store[CallLog]]("call_logs")
    targets = Part[TargetTable]("targets")
    dialer = Part[Dialer]("dialer")
    webhooks = Part[WebhookTable]("webhooks")
    generator = Part[Generator]("generator")
    clock = Part[Clock]("clock")
    origin = Part[dict[str, Any]]("origin")
    loaded = Part[dict[str, Any] | None]("loaded")
    version = Part[int]("version")
    # Reads play what fell due first (``Reads.follow_clock``).
    plays_on_read = Part[bool]("plays_on_read")
    last_id = Part[int]("last_id")
    # Told after every change (a state file, a shared store).
    listeners = Part[list[Callable[[Any], None]]]("listeners")

    batch = Via("state", WorldState.batch)
    on_rollback = Via("state", WorldState.on_rollback)
    campaigns = Via("views", Views.campaigns)
    campaign = Via("views", Views.campaign)
    follow_clock = Via("reads", Reads.follow_clock)
    target = Via("reads", Reads.target)
    targets_page = Via("reads", Reads.targets_page)
    call_logs_page = Via("reads", Reads.call_logs_page)
    latest_live_calls = Via("reads", Reads.latest_live_calls)
    latest_call_logs = Via("reads", Reads.latest_call_logs)
    latest_targets = Via("reads", Reads.latest_targets)
    start_call = Via("calls", Calls.start_call)
    map_variables = Via("calls", Calls.map_variables)
    end_call = Via("calls", Calls.end_call)
    add_call_log = Via("calls", Calls.add_call_log)
    delete_call_log = Via("calls", Calls.delete_call_log)
    delete_live_call = Via("calls", Calls.delete_live_call)
    catch_up = Via("dialing", Dialing.catch_up)
    add_targets = Via("targeting", Targets.add_targets)
    delete_targets = Via("targeting", Targets.delete_targets)
    launch = Via("targeting", Targets.launch)
    update_target_input = Via("targeting", Targets.update_target_input)
    webhook_step = Via("targeting", Targets.webhook_step)
    ehr_event = Via("targeting", Targets.ehr_event)
    webhook_setting = Via("hooks", Hooks.webhook_setting)
    set_webhook = Via("hooks", Hooks.set_webhook)
    clear_webhook = Via("hooks", Hooks.clear_webhook)
    webhook_events = Via("hooks", Hooks.webhook_events)
    record_send = Via("hooks", Hooks.record_send)
    rerun_failed = Via("hooks", Hooks.rerun_failed)

    def __init__(
        self,
        live: BaseTable[LiveCall],
        logs: BaseTable[CallLog],
        generator: Generator,
        clock: Clock | None = None,
        origin: Mapping[str, Any] | None = None,
        seeded: SeededTargets | None = None,
    ) -> None:
        self.state = WorldState(
            Store("live_calls", live),
            Store("call_logs", logs),
            TargetTable(seeded or SeededTargets.empty(generator)),
            generator,
            clock or SystemClock(),
            dict(origin or {}),  # how the base was made: recipe or file
            subject=self,  # the listeners are told of the world
        )
        self.views = Views(self.state)
        self.hooks = Hooks(self.state, self.views)
        self.calls = Calls(self.state, self.hooks)
        self.dialing = Dialing(self.state, self.views, self.calls)
        self.targeting = Targets(self.state, self.views, self.calls, self.dialing)
        self.reads = Reads(self.state, self.views, self.dialing)

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
            if self.state.began is None:
                return Change({})
            return change_since(self, self.state.began, self.state.whole)

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
            self.state.replacing()
            self.live_calls.reset()
            self.call_logs.reset()
            self.targets.reset()
            self.dialer.reset()
            self.webhooks.reset()
            self.last_id = 0
            self.state.changed()

    def load(self, data: Mapping[str, Any]) -> None:
        """Replace the base with a world file's contents; ``reset`` returns here after."""
        live, logs, recipe = parse_world(data)
        generator = Generator(recipe)
        targets = file_table(data, generator)
        with self.batch():
            self.state.replacing()
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
            self.state.changed()

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
                self.last_id,
            )

    def restore(self, saved: WorldSnapshot) -> None:
        """Back to ``saved``: the same rows, the same reset baseline, the same origin."""
        with self.batch():
            self.state.replacing()
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
            # As for targets: a call id issued since the snapshot is never issued again.
            self.last_id = max(self.last_id, saved.last_id)
            self.state.changed()

    def clock_moved(self) -> None:
        """Tell the listeners that a virtual clock moved: its time is part of the stored state
        (a restart resumes from it), though no row changed and the version stays."""
        self.announce()

    def announce(self) -> None:
        """Tell the listeners of a transaction that changed no row (at the end of the one
        under way): what is stored beside the rows changed (the clock, stubs, a simulation)."""
        with self.batch():
            self.state.announce()
