"""``--state-file``: the world's changes survive restarts.

Only the overlay is stored (what changed since the seeded world, plus how
that world was made), so the file stays small whatever the world's size. A
world replaced through ``PUT /__mock/world`` cannot be remade from a recipe, so
then the loaded document is stored too (as ``base``), and a restart serves it.

Each change is stored before its answer is sent, as one line appended to the
file and fsynced (``storage.statelog``): O(change), however big the world. Now
and then (when those lines outgrow the whole state) the whole state is written
instead: to a temporary file, flushed and fsynced, then ``os.replace``d over the
old one, which is atomic on POSIX. A crash therefore loses at most the change in
flight, whose half-written line is ignored when the file is read. A change the
file cannot take (a full disk) is undone in memory and refused (``World.batch``):
the world served is the world stored. A virtual clock's time is stored too
(written when it moves), so a restart with ``--virtual-clock`` resumes from it,
and so is a running simulation's schedule (``Simulation.saved``/``resume``), and the
parts of the state a higher layer owns (``Section``: the stubs, the fault rules), stored
whole under ``sections`` whenever one of them changed (``store_sections``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prosper_mock.base.files import (
    FileError,
    parse_json,
    read_bytes,
    sweep_temporary_files,
    through_links,
    write_atomically,
)
from prosper_mock.base.jsontext import short
from prosper_mock.world.clock import VirtualClock
from prosper_mock.world.errors import StateFileError, WorldError
from prosper_mock.world.model import World
from prosper_mock.world.storage import statelog
from prosper_mock.world.storage.base import Section
from prosper_mock.world.worldfile import OTHER_CHANGES

if TYPE_CHECKING:
    from prosper_mock.world.simulation import Simulation

__all__ = ["STATE_FORMAT", "Section", "StateFile", "read_state", "write_atomically"]

STATE_FORMAT = "prosper-voice-mock/state@1"
log = logging.getLogger("prosper_mock.state_file")
NOT_MADE = "the change was not made: "
_STORES = ("live_calls", "call_logs")
_CALL_ID = re.compile(r"-?[0-9]+")


class StateFile:
    """Keeps ``path`` equal to ``world``'s changes (``StateFile(path).attach(world)``).

    ``path`` may be a symbolic link: the state is written through to its target.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._base: tuple[dict[str, Any], str] | None = None  # (world.loaded, its JSON)
        #: The running simulation, stored with the world so a restart can ``resume`` it.
        self.simulation: Simulation | None = None
        #: What ``restore`` found of a previous run's simulation (``Simulation.saved()``).
        self.restored_simulation: dict[str, Any] | None = None
        self._written: bytes | None = None  # the whole state last written (None: not known)
        self._logged = 0  # bytes of changes appended since
        self._extras: dict[str, Any] = {}  # the clock, simulation and sections last stored
        self._sections: dict[str, Section] = {}
        #: What ``restore`` found of the sections (name: its JSON), for ``add_section``.
        self.restored_sections: dict[str, Any] = {}
        #: Where the virtual clock stood when the file was last written (``None``: not stored).
        self.restored_clock: float | None = None
        self._world: World | None = None  # the world ``attach``ed
        self._failing = False  # a copy (``attach(vetoes=False)``) that could not be written

    def check(self) -> Path:
        """The file the state goes to (a link's target), refusing what cannot hold it.

        Raises ``StateFileError`` for a dangling link or a link loop, a folder or
        other non-file in its place, or a folder that does not exist: at start-up,
        before anything is served, not at the first change.
        """
        try:
            target = through_links(self.path)
        except OSError as exc:
            raise StateFileError(f"state file {self.path}: {exc.strerror}") from None
        if target.exists() and not target.is_file():
            kind = "a folder" if target.is_dir() else "not a regular file"
            raise StateFileError(f"state file {self.path}: it is {kind}")
        folder = target.parent
        if not folder.is_dir():
            problem = "is not a folder" if folder.exists() else "does not exist"
            raise StateFileError(
                f"state file {self.path}: folder {folder} {problem} (create it first)"
            )
        return target

    def restore(self, world: World) -> bool:
        """Apply a previous run's changes to ``world``; ``False`` when there is no file yet.

        Raises ``StateFileError`` naming the file when it cannot hold the state, cannot
        be read, or is not a state file of this world.
        """
        if not self.check().exists():
            return False
        try:
            data, changes = _read(self.path)
        except FileError as exc:
            raise StateFileError(str(exc)) from None
        try:
            self._restore(world, data)
            for number, change in changes:
                try:
                    world.apply_changes(change["change"], exact=True)
                except WorldError as exc:
                    raise StateFileError(f"line {number}: {exc}") from None
                self._restore_extras(world, change)
        except WorldError as exc:
            raise StateFileError(f"state file {self.path}: {exc}") from None
        except RecursionError:  # a row's value nested deeper than indexing it can follow
            raise StateFileError(f"state file {self.path}: a value is nested too deeply") from None
        return True

    def _restore(self, world: World, data: Any) -> None:
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise StateFileError("it is not a prosper-voice-mock state file")
        changes = data.get("changes", {})
        _check_changes(changes)
        if data.get("base") is not None:
            world.load(data["base"])  # the file holds the whole base: any start-up world goes
        elif data.get("origin") != _origin(world):
            raise StateFileError(
                f"it was written for another world ({short(data.get('origin'))}); "
                "start with the same seed and sizes or world file, or remove the state file"
            )
        world.apply_changes(changes)
        self._restore_extras(world, data)

    def _restore_extras(self, world: World, data: Mapping[str, Any]) -> None:
        """The virtual clock's time and the simulation a whole state or a change stored."""
        stored_now = data.get("clock")
        if stored_now is not None and (
            isinstance(stored_now, bool)
            or not isinstance(stored_now, int | float)
            or not math.isfinite(stored_now)
        ):
            raise StateFileError(f"clock must be a number of seconds, got {short(stored_now)}")
        simulation = data.get("simulation")
        if simulation is not None and not isinstance(simulation, dict):
            raise StateFileError(f"simulation must be an object, got {short(simulation)}")
        if simulation is not None:
            self.restored_simulation = simulation
        sections = data.get("sections")
        if sections is not None and not isinstance(sections, dict):
            raise StateFileError(f"sections must be an object, got {short(sections)}")
        self.restored_sections.update(sections or {})
        if stored_now is not None:
            self.restored_clock = float(stored_now)
        # Resume where the last run's virtual clock stood; it never goes back, so a
        # --start before that time is overridden rather than refused.
        if (
            isinstance(world.clock, VirtualClock)
            and stored_now is not None
            and stored_now > world.clock.now()
        ):
            try:
                world.clock.set(stored_now)
            except ValueError as exc:  # a hand-edited file: out of range
                raise StateFileError(f"clock: {exc}") from None

    def resume(self, simulation: Simulation) -> None:
        """Go on with the simulation ``restore`` found; ``StateFileError`` names the file if bad."""
        if self.restored_simulation is None:
            return
        try:
            simulation.resume(self.restored_simulation)
        except ValueError as exc:
            raise StateFileError(f"state file {self.path}: {exc}") from None

    def add_section(self, section: Section) -> None:
        """Store ``section`` with the state from now on, loading what ``restore`` found of
        it; ``StateFileError`` names the file and the section if that does not load."""
        if section.name in self.restored_sections:
            try:
                section.load(self.restored_sections[section.name])
            except (ValueError, WorldError) as exc:
                raise StateFileError(f"state file {self.path}: {section.name}: {exc}") from None
        self._sections[section.name] = section

    def store_sections(self) -> None:
        """Store the sections now if one changed (before the change is answered). Raises
        ``StateFileError``: the caller then undoes the change and refuses it."""
        if self._world is not None:
            with self._world.lock:  # in line with the world's own writes
                self.save(self._world)

    def attach(self, world: World, *, vetoes: bool = True) -> StateFile:
        """Write the state after every change of ``world`` (and now).

        Temporary files a killed process left beside the state file are removed
        first (only the kit's own: see ``files.TEMP_SUFFIX``). Raises ``StateFileError``
        when the file cannot hold or take the state now.

        ``vetoes``: a change the file cannot take is undone and refused (``save``). Without,
        the file is a copy of a world stored elsewhere first (a shared store, whose log holds
        the change already): a change it cannot take is logged, and the file is written
        whole at the next change it can take.
        """
        self.check()
        sweep_temporary_files(self.path)
        try:
            extras = self._extras_of(world)
            self._write(self._encoded(world, extras), extras)
        except OSError as exc:
            raise StateFileError(f"cannot write state file {self.path}: {exc.strerror}") from None
        world.listeners.append(self.save if vetoes else self._copy)
        self._world = world
        return self

    def _copy(self, world: World) -> None:
        try:
            self.save(world)
        except StateFileError as exc:
            if not self._failing:  # the change stands (the store holds it): only the copy lags
                reason = str(exc).removeprefix(NOT_MADE)
                log.error("%s; the file is written whole at the next change it can take", reason)
            self._failing = True
            return
        if self._failing:
            log.warning("the state file %s is written again", self.path)
            self._failing = False

    def save(self, world: World) -> None:
        """Store the change ``world`` made (its transaction's), unless the file holds it.

        Appends it as a line; writes the whole state instead after a reset, a load or a
        restore, and when the lines have outgrown the whole state. Raises ``StateFileError``
        when it cannot be stored; the world's transaction then undoes the change
        (``World.batch``), so what is served is what the file holds, and the write is refused
        (the control API and the vendored API answer ``503``).
        """
        change, extras = world.change(), self._extras_of(world)
        limit = statelog.compact_after(len(self._written or b""))
        if change.empty and extras == self._extras and self._written is not None:
            return  # nothing changed since the last write (a no-op request)
        line = b""
        if self._written is not None and not change.whole:
            stored = {k: v for k, v in extras.items() if k != "sections"}
            if extras.get("sections") != self._extras.get("sections"):  # whole, when changed
                stored["sections"] = extras["sections"]
            line = self._json({"change": change.document, **stored}) + b"\n"
        try:
            if not line or self._logged + len(line) > limit:
                data = self._encoded(world, extras)
                if data != self._written or self._logged:  # lines follow it: rewrite
                    self._write(data, extras)
            else:
                statelog.append_line(self.path, line)
                self._logged += len(line)
                self._extras = extras
        except OSError as exc:
            self._written = None  # unknown after a failed write: the next one writes whole
            raise StateFileError(
                f"{NOT_MADE}the state file {self.path} could not be written ({exc.strerror})"
            ) from None

    def _extras_of(self, world: World) -> dict[str, Any]:
        extras: dict[str, Any] = {}
        if isinstance(world.clock, VirtualClock):
            extras["clock"] = world.clock.now()
        if self.simulation is not None:
            extras["simulation"] = self.simulation.saved()
        if self._sections:
            extras["sections"] = {name: s.saved() for name, s in self._sections.items()}
        return extras

    @contextlib.contextmanager
    def _holdable(self) -> Iterator[None]:
        """``StateFileError`` for what cannot be written as JSON (a value the world's checks
        should have refused: the change is refused too)."""
        try:
            yield
        except (ValueError, RecursionError) as exc:
            raise StateFileError(
                f"{NOT_MADE}the state file {self.path} cannot hold it ({type(exc).__name__}: {exc})"
            ) from None

    def _json(self, payload: Any) -> bytes:
        """``payload`` as one line of UTF-8 JSON."""
        with self._holdable():
            return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def _encoded(self, world: World, extras: dict[str, Any]) -> bytes:
        """``world``'s state as the file's bytes."""
        with self._holdable():
            return (self._text(world, extras) + "\n").encode("utf-8")  # lines of changes follow

    def _text(self, world: World, extras: dict[str, Any]) -> str:
        payload: dict[str, Any] = {
            "format": STATE_FORMAT,
            "origin": _origin(world),
            "changes": world.changes(),
            **extras,
        }
        text = json.dumps(payload, ensure_ascii=False)
        if world.loaded is not None:
            # Encoded once per load, not once per change: the base only changes on load.
            if self._base is None or self._base[0] is not world.loaded:
                self._base = (world.loaded, json.dumps(world.loaded, ensure_ascii=False))
            text = f'{text[:-1]}, "base": {self._base[1]}}}'
        return text

    def _write(self, data: bytes, extras: dict[str, Any]) -> None:
        write_atomically(self.path, data)
        self._written, self._logged, self._extras = data, 0, extras


def _read(path: Path) -> tuple[Any, list[tuple[int, Mapping[str, Any]]]]:
    """A state file's whole state and the changes logged after it (line number, change);
    raises ``FileError``."""
    raw = read_bytes(path, "state file")
    head, lines = statelog.split(raw)
    data = parse_json(head, "state file", path)
    changes: list[tuple[int, Mapping[str, Any]]] = []
    for number, line in lines:
        change = parse_json(line, "state file", path)
        if not isinstance(change, dict) or not isinstance(change.get("change"), dict):
            raise FileError(f"cannot read state file {path}: line {number} is not a change")
        changes.append((number, change))
    return data, changes


def read_state(path: str | Path) -> Any:
    """The state a state file holds, as one document: its whole state with the changes
    logged after it applied (what the file would hold if written whole now). Raises
    ``StateFileError``."""
    try:
        data, changes = _read(Path(path))
    except FileError as exc:
        raise StateFileError(str(exc)) from None
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for _, change in changes:
        data["changes"] = statelog.fold(data.get("changes", {}), change["change"])
        data.update({k: v for k, v in change.items() if k in ("clock", "simulation")})
        if "sections" in change:
            data["sections"] = {**data.get("sections", {}), **change["sections"]}
    return data


def _check_changes(changes: Any) -> None:
    """Refuse ``changes`` that are not ``{store: {"<id>": row or null}}`` before any is applied."""
    if not isinstance(changes, Mapping):
        raise StateFileError(f"changes must be an object, got {short(changes)}")
    for name, rows in changes.items():
        if name in OTHER_CHANGES:  # the largest id issued, targets, the dialer: checked on apply
            continue
        if name not in _STORES:
            raise StateFileError(f"changes: unknown store {name!r} (known: {', '.join(_STORES)})")
        if not isinstance(rows, Mapping):
            raise StateFileError(f"changes.{name} must be an object, got {short(rows)}")
        for key, row in rows.items():
            if not _CALL_ID.fullmatch(key):
                raise StateFileError(f"changes.{name}: {key!r} is not a call id")
            if row is not None and not isinstance(row, Mapping):
                raise StateFileError(f"changes.{name}[{key}] must be a row or null")


def _origin(world: World) -> Any:
    return json.loads(json.dumps(world.origin))
