"""The mock's world: the ``live_calls`` and ``call_logs`` stores and how they change.

A ``World`` owns everything the mock serves, so an app, a test or a fixture can
hold as many independent worlds as it likes. Changes go through its methods
(the control API, the pytest plugin and the contract suite all use them), which
keep the two stores consistent under one lock: the server answers requests on
its own thread while a test changes the world from another.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from prosper_mock.base.errors import ProsperMockError
from prosper_mock.base.files import FileError, read_json
from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.clock import Clock, SystemClock
from prosper_mock.world.generate.generator import Generator
from prosper_mock.world.generate.recipe import WorldRecipe
from prosper_mock.world.records import (
    CallLog,
    LiveCall,
    call_log_from_dict,
    json_problem,
    live_call_from_dict,
    to_dict,
)
from prosper_mock.world.store import BaseTable, Store

WORLD_FORMAT = "prosper-voice-mock/world@1"

_Row = TypeVar("_Row")


class WorldError(ProsperMockError, ValueError):
    """A change the world cannot make; ``status`` is the HTTP answer it deserves."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclasses.dataclass(frozen=True)
class WorldSnapshot:
    """A world as it was (``World.snapshot``): its base and overlay, and how the base was made."""

    live_calls: Store[LiveCall]
    call_logs: Store[CallLog]
    generator: Generator
    origin: dict[str, Any]
    loaded: dict[str, Any] | None


class World:
    """Two stores, the generator behind them, and the operations that change them."""

    def __init__(
        self,
        live: BaseTable[LiveCall],
        logs: BaseTable[CallLog],
        generator: Generator,
        clock: Clock | None = None,
        origin: Mapping[str, Any] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.live_calls: Store[LiveCall] = Store("live_calls", live)
        self.call_logs: Store[CallLog] = Store("call_logs", logs)
        self.generator = generator
        self.clock: Clock = clock or SystemClock()
        self.origin = dict(origin or {})  # how the base was made: recipe or file
        # The world document a ``load`` replaced the base with (None: the base is the
        # one the world was built with). Persistence stores it: a recipe cannot remake it.
        self.loaded: dict[str, Any] | None = None
        self.version = 0  # bumps on every change
        # The largest id a change gave a new row since the base. Part of ``changes()``, so an
        # id is never issued twice, even when its row was deleted before a restart.
        self.last_id = 0
        # Called (under the lock) after every change: persistence writes the state file here.
        self.listeners: list[Callable[[World], None]] = []
        self._batching = 0  # depth of nested ``batch()`` blocks
        self._batched = False  # a change happened inside them

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
        live = BaseTable.derived(gen.live_ids(), gen.live_call, gen.live_keys, progress)
        logs = BaseTable.derived(gen.log_ids(), gen.call_log, gen.log_keys, progress)
        origin = {"recipe": dataclasses.asdict(recipe)}
        return cls(live, logs, gen, clock=clock, origin=origin)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], clock: Clock | None = None) -> World:
        """A world from its JSON form (``fixtures/*.json``); raises ``WorldError``."""
        live, logs, recipe = parse_world(data)
        gen = Generator(recipe)
        return cls(
            BaseTable.from_records(live),
            BaseTable.from_records(logs),
            gen,
            clock=clock,
            origin={"recipe": dataclasses.asdict(recipe), "from_file": True},
        )

    @classmethod
    def from_file(cls, path: str | Path, clock: Clock | None = None) -> World:
        """A world from a world file; raises ``WorldError`` naming the file and the problem."""
        try:
            data = read_json(Path(path), "world file")
        except FileError as exc:
            raise WorldError(str(exc)) from None
        try:
            world = cls.from_dict(data, clock=clock)
        except WorldError as exc:
            raise WorldError(f"world file {path}: {exc}", exc.status) from None
        except RecursionError:  # a row's value nested deeper than indexing it can follow
            raise WorldError(f"world file {path}: a value is nested too deeply", 422) from None
        world.origin["from_file"] = str(Path(path).resolve())
        return world

    # --- reading ------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """The whole world, as it is now, in the world-file format."""
        with self.lock:
            return {
                "format": WORLD_FORMAT,
                "recipe": self.origin.get("recipe"),
                "live_calls": [to_dict(r) for r in self.live_calls],
                "call_logs": [to_dict(r) for r in self.call_logs],
            }

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
            return found

    def apply_changes(self, changes: Mapping[str, Any]) -> None:
        """Replay ``changes()`` of an earlier run onto this world; raises ``WorldError``.

        Every row is checked before any is applied: a bad one changes nothing.
        """
        builders: dict[str, Callable[[Any], LiveCall | CallLog]] = {
            "live_calls": live_call_from_dict,
            "call_logs": call_log_from_dict,
        }
        if not isinstance(changes, Mapping):
            raise WorldError("changes must be an object", 422)
        planned: list[tuple[str, int, Any]] = []  # (store name, id, row or None to delete)
        last_id = changes.get("last_id", 0)  # absent from files written before it was kept
        if isinstance(last_id, bool) or not isinstance(last_id, int) or last_id < 0:
            raise WorldError(f"bad changes: last_id must be an id, not {last_id!r}", 422)
        for name, rows in changes.items():
            if name == "last_id":
                continue
            if name not in builders or not isinstance(rows, Mapping):
                raise WorldError(f"bad changes for {name!r}", 422)
            for key, row in rows.items():
                where = f"{name}[{key}]"
                call_log_id = _change_key(key, where)
                if row is not None:
                    row = _validated(builders[name], row, where)
                    if row.call_log_id != call_log_id:
                        raise WorldError(f"{where}: the row's id is {row.call_log_id}", 422)
                planned.append((name, call_log_id, row))
        with self.lock:
            for name, call_log_id, row in planned:
                store = getattr(self, name)
                if row is None:
                    store.delete(call_log_id)
                else:
                    store.put(row)
                    last_id = max(last_id, call_log_id)
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
        with self.lock:
            self.live_calls.reset()
            self.call_logs.reset()
            self.last_id = 0
            self._changed()

    def load(self, data: Mapping[str, Any]) -> None:
        """Replace the base with a world file's contents; ``reset`` returns here after."""
        live, logs, recipe = parse_world(data)
        with self.lock:
            self.live_calls = Store("live_calls", BaseTable.from_records(live))
            self.call_logs = Store("call_logs", BaseTable.from_records(logs))
            self.generator = Generator(recipe)
            self.last_id = 0
            self.origin = {"recipe": dataclasses.asdict(recipe), "from_file": True}
            self.loaded = {
                "format": WORLD_FORMAT,
                "recipe": self.origin["recipe"],
                "live_calls": [to_dict(r) for r in live],
                "call_logs": [to_dict(r) for r in logs],
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
                self.generator,
                copy.deepcopy(self.origin),
                self.loaded,
            )

    def restore(self, saved: WorldSnapshot) -> None:
        """Back to ``saved``: the same rows, the same reset baseline, the same origin."""
        with self.lock:
            self.live_calls = saved.live_calls.copy()
            self.call_logs = saved.call_logs.copy()
            self.generator = saved.generator
            self.origin = copy.deepcopy(saved.origin)
            self.loaded = saved.loaded
            self._changed()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Make many changes as one: listeners hear of them once, at the end.

        The simulation catching up with a clock that jumped makes thousands of
        changes; the state file is then written once, not once per change.
        """
        with self.lock:
            self._batching += 1
            try:
                yield
            finally:
                self._batching -= 1
                if not self._batching and self._batched:
                    self._batched = False
                    self._notify()

    def clock_moved(self) -> None:
        """Tell the listeners that a virtual clock moved: its time is part of the stored state
        (a restart resumes from it), though no row changed and the version stays."""
        with self.lock:
            self._announce()

    def _changed(self) -> None:
        self.version += 1
        self._announce()

    def _announce(self) -> None:
        """Tell the listeners now, or at the end of the batch under way."""
        if self._batching:
            self._batched = True
        else:
            self._notify()

    def _notify(self) -> None:
        for listener in self.listeners:
            listener(self)

    def _when(self, at: float | None) -> float:
        """``at`` (the clock's now when ``None``), refused unless it is a time a row can hold."""
        if at is None:
            return self.clock.now()
        try:
            if isinstance(at, bool) or not isinstance(at, int | float):
                raise TypeError(f"not a number: {at!r}")
            iso_milliseconds(at)
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            raise WorldError(f"at: not a time ({exc})", 422) from None
        return float(at)

    def _next_id(self) -> int:
        """An id no row has had since the base: past every row, generated call and issued id."""
        return 1 + max(
            self.live_calls.max_id(),
            self.call_logs.max_id(),
            self.generator.next_id() - 1,
            self.last_id,
        )

    def start_call(
        self, fields: Mapping[str, Any] | None = None, at: float | None = None
    ) -> LiveCall:
        """Start a live call: given fields win, the rest is generated from the seed.

        ``at`` is when it starts (default: the clock's now).
        """
        fields = _fields(fields)
        with self.lock:
            call_log_id = fields.get("call_log_id")
            if call_log_id is None:
                call_log_id = self._next_id()
            elif not isinstance(call_log_id, int) or isinstance(call_log_id, bool):
                raise WorldError("call_log_id must be an integer", 422)
            if call_log_id in self.live_calls:
                raise WorldError(f"call {call_log_id} is already live", 409)
            generated = self.generator.live_call(
                call_log_id, self._when(at), steps=0, **_sources(fields, "outbound")
            )
            call = _validated(
                live_call_from_dict, {**to_dict(generated), **fields, "call_log_id": call_log_id}
            )
            self.live_calls.put(call)
            self.last_id = max(self.last_id, call_log_id)
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
            raise WorldError("variables must be an object", 422)
        if progress is not None and not isinstance(progress, Mapping):
            raise WorldError("progress must be an object", 422)
        with self.lock:
            call = self.live_calls.get(call_log_id)
            if call is None:
                raise WorldError(f"no live call {call_log_id}", 404)
            updated = _validated(
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
        fields = _fields(fields)
        with self.lock:
            call = self.live_calls.get(call_log_id)
            if call is None:
                raise WorldError(f"no live call {call_log_id}", 404)
            # Given fields the log derives others from (the phone, the variables) go in first.
            source = dataclasses.replace(call, **_sources(fields, call.direction, live=True))
            finished = self.generator.finish(source, self._when(at))
            log = _validated(call_log_from_dict, {**to_dict(finished), **fields, "id": call_log_id})
            self.call_logs.put(log)
            if not keep_live:
                self.live_calls.delete(call_log_id)
            self._changed()
            return log

    def add_call_log(self, fields: Mapping[str, Any] | None = None) -> CallLog:
        """Add a finished call: given fields win, the rest is generated from the seed."""
        fields = _fields(fields)
        with self.lock:
            call_log_id = fields.get("id", fields.pop("call_log_id", None))
            if call_log_id is None:
                call_log_id = self._next_id()
            elif not isinstance(call_log_id, int) or isinstance(call_log_id, bool):
                raise WorldError("id must be an integer", 422)
            if call_log_id in self.call_logs:
                raise WorldError(f"call log {call_log_id} already exists", 409)
            now = self.clock.now()
            generated = self.generator.call_log(
                call_log_id, now - 60 - call_log_id % 600, now, **_sources(fields, "outbound")
            )
            log = _validated(
                call_log_from_dict, {**to_dict(generated), **fields, "id": call_log_id}
            )
            self.call_logs.put(log)
            self.last_id = max(self.last_id, call_log_id)
            self._changed()
            return log

    def delete_call_log(self, call_log_id: int) -> None:
        with self.lock:
            if not self.call_logs.delete(call_log_id):
                raise WorldError(f"no call log {call_log_id}", 404)
            self._changed()

    def delete_live_call(self, call_log_id: int) -> None:
        with self.lock:
            if not self.live_calls.delete(call_log_id):
                raise WorldError(f"no live call {call_log_id}", 404)
            self._changed()


def parse_world(data: Any) -> tuple[list[LiveCall], list[CallLog], WorldRecipe]:
    """Validate a world file's JSON; raises ``WorldError`` naming what is wrong."""
    if not isinstance(data, Mapping):
        raise WorldError("a world must be a JSON object", 422)
    fmt = data.get("format", WORLD_FORMAT)
    if fmt != WORLD_FORMAT:
        raise WorldError(f"unknown world format {fmt!r} (expected {WORLD_FORMAT!r})", 422)
    unknown = set(data) - {"format", "recipe", "live_calls", "call_logs"}
    if unknown:
        raise WorldError(f"unknown world keys: {sorted(unknown)}", 422)
    live_raw, logs_raw = data.get("live_calls", []), data.get("call_logs", [])
    if not isinstance(live_raw, list) or not isinstance(logs_raw, list):
        raise WorldError("live_calls and call_logs must be arrays", 422)
    live = [_validated(live_call_from_dict, r, f"live_calls[{i}]") for i, r in enumerate(live_raw)]
    logs = [_validated(call_log_from_dict, r, f"call_logs[{i}]") for i, r in enumerate(logs_raw)]
    tables: tuple[tuple[str, Sequence[LiveCall | CallLog], str], ...] = (
        ("live_calls", live, "call_log_id"),
        ("call_logs", logs, "id"),
    )
    for name, rows, id_field in tables:
        first: dict[int, int] = {}  # id -> the row that has it
        for i, row in enumerate(rows):
            j = first.setdefault(row.call_log_id, i)
            if j != i:
                raise WorldError(
                    f"{name}[{i}] and {name}[{j}] both have {id_field} {row.call_log_id}", 422
                )
    return live, logs, parse_recipe(data.get("recipe") or {})


def parse_recipe(raw: Any) -> WorldRecipe:
    """A ``WorldRecipe`` from JSON, each field of its declared type; raises ``WorldError``."""
    if not isinstance(raw, Mapping):
        raise WorldError("recipe must be an object", 422)
    fields = {f.name: f for f in dataclasses.fields(WorldRecipe)}
    for name, value in raw.items():
        if name not in fields:
            raise WorldError(f"bad recipe: unknown key {name!r} (known: {sorted(fields)})", 422)
        wanted = int if fields[name].type in (int, "int") else str
        if isinstance(value, bool) or not isinstance(value, wanted):
            raise WorldError(f"bad recipe: {name} must be {wanted.__name__}", 422)
    try:
        return WorldRecipe(**raw)
    except ValueError as exc:
        raise WorldError(f"bad recipe: {exc}", 422) from None


def _sources(fields: Mapping[str, Any], direction: str, live: bool = False) -> dict[str, Any]:
    """The given fields that others are derived from, as the generator takes them.

    The caller's number is ``user_phone_number``, and in a log also ``to`` (an outbound
    call) or ``from_`` (an inbound one); the variables make the transcript and post-call
    data. Only usable values are passed: the row's validation refuses the others.
    """
    phone = fields.get(
        "user_phone_number", fields.get("to" if direction == "outbound" else "from_")
    )
    variables = fields.get("variables")
    found: dict[str, Any] = {}
    if isinstance(phone, str):
        found["user_phone_number" if live else "phone"] = phone
    if isinstance(variables, dict) and json_problem(variables, 1) is None:
        found["variables"] = variables
    return found


def _fields(fields: Mapping[str, Any] | None) -> dict[str, Any]:
    if fields is None:
        return {}
    if not isinstance(fields, Mapping):
        raise WorldError("fields must be an object", 422)
    return dict(fields)


def _change_key(key: Any, where: str) -> int:
    """The id a ``changes()`` key names: an integer or its decimal text, nothing else."""
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str):
        with contextlib.suppress(ValueError):
            if str(int(key)) == key:
                return int(key)
    raise WorldError(f"{where}: the key must be an id (an integer)", 422)


def _validated(build: Callable[[Any], _Row], data: Any, where: str = "") -> _Row:
    from pydantic import ValidationError

    try:
        return build(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_location(where, e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise WorldError(problems, 422) from None
    except ValueError as exc:
        raise WorldError(f"{where + ': ' if where else ''}{exc}", 422) from None


def _location(where: str, loc: tuple[Any, ...]) -> str:
    """``live_calls[3].variables.y``: the row, then the path inside it."""
    text = where
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(root)"
