"""``--state-file``: the world's changes survive restarts.

Only the overlay is stored (what changed since the seeded world, plus how
that world was made), so the file stays small whatever the world's size. A
world replaced through ``PUT /__mock/world`` cannot be remade from a recipe, so
then the loaded document is stored too (as ``base``), and a restart serves it.

Each change is written before its answer is sent: to a temporary file,
flushed and fsynced, then ``os.replace``d over the old one, which is atomic on
POSIX. A crash therefore loses at most the change in flight and never leaves
a half-written file. A change the file cannot take (a full disk) is undone in
memory and refused (``World.batch``): the world served is the world stored. A
virtual clock's time is stored too (written when it moves), so a restart with
``--virtual-clock`` resumes from it, and so is a running simulation's schedule
(``Simulation.saved``/``resume``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prosper_mock.base.files import (
    FileError,
    read_json,
    sweep_temporary_files,
    through_links,
    write_atomically,
)
from prosper_mock.base.jsontext import short
from prosper_mock.world.clock import VirtualClock
from prosper_mock.world.errors import StateFileError, WorldError
from prosper_mock.world.model import World
from prosper_mock.world.worldfile import OTHER_CHANGES

if TYPE_CHECKING:
    from prosper_mock.world.simulation import Simulation

__all__ = ["STATE_FORMAT", "StateFile", "write_atomically"]

STATE_FORMAT = "prosper-voice-mock/state@1"
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
        self._written: bytes | None = None  # what the file holds (None: not known)

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
            data = read_json(self.path, "state file")
        except FileError as exc:
            raise StateFileError(str(exc)) from None
        try:
            self._restore(world, data)
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
        if data.get("base") is not None:
            world.load(data["base"])  # the file holds the whole base: any start-up world goes
        elif data.get("origin") != _origin(world):
            raise StateFileError(
                f"it was written for another world ({short(data.get('origin'))}); "
                "start with the same seed and sizes or world file, or remove the state file"
            )
        world.apply_changes(changes)
        self.restored_simulation = simulation
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

    def attach(self, world: World) -> StateFile:
        """Write the state after every change of ``world`` (and now).

        Temporary files a killed process left beside the state file are removed
        first (only the kit's own: see ``files.TEMP_SUFFIX``). Raises ``StateFileError``
        when the file cannot hold or take the state.
        """
        self.check()
        sweep_temporary_files(self.path)
        try:
            self._write(self._encoded(world))
        except OSError as exc:
            raise StateFileError(f"cannot write state file {self.path}: {exc.strerror}") from None
        world.listeners.append(self.save)
        return self

    def save(self, world: World) -> None:
        """Store ``world``'s state, unless the file already holds it.

        Raises ``StateFileError`` when it cannot be stored; the world's transaction then
        undoes the change (``World.batch``), so what is served is what the file holds, and
        the write is refused (the control API and the vendored API answer ``503``).
        """
        data = self._encoded(world)
        if data == self._written:
            return  # nothing changed since the last write (a no-op request)
        try:
            self._write(data)
        except OSError as exc:
            self._written = None  # unknown after a failed write: the next one writes whole
            raise StateFileError(
                f"the change was not made: the state file {self.path} could not be written "
                f"({exc.strerror})"
            ) from None

    def _encoded(self, world: World) -> bytes:
        """``world``'s state as the file's bytes; ``StateFileError`` if it cannot be written as
        JSON (a value the world's checks should have refused: the change is refused too)."""
        try:
            return self._text(world).encode("utf-8")
        except (ValueError, RecursionError) as exc:
            raise StateFileError(
                f"the change was not made: the state file {self.path} cannot hold it "
                f"({type(exc).__name__}: {exc})"
            ) from None

    def _text(self, world: World) -> str:
        payload: dict[str, Any] = {
            "format": STATE_FORMAT,
            "origin": _origin(world),
            "changes": world.changes(),
        }
        if isinstance(world.clock, VirtualClock):
            payload["clock"] = world.clock.now()
        if self.simulation is not None:
            payload["simulation"] = self.simulation.saved()
        text = json.dumps(payload, ensure_ascii=False)
        if world.loaded is not None:
            # Encoded once per load, not once per change: the base only changes on load.
            if self._base is None or self._base[0] is not world.loaded:
                self._base = (world.loaded, json.dumps(world.loaded, ensure_ascii=False))
            text = f'{text[:-1]}, "base": {self._base[1]}}}'
        return text

    def _write(self, data: bytes) -> None:
        write_atomically(self.path, data)
        self._written = data


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
