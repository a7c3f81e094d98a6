"""``--state-file``: the world's changes survive restarts.

Only the overlay is stored (what changed since the seeded world, plus how
that world was made), so the file stays small whatever the world's size. A
world replaced through ``PUT /__mock/world`` cannot be remade from a recipe, so
then the loaded document is stored too (as ``base``), and a restart serves it.

Each change is written before its answer is sent: to a temporary file,
flushed and fsynced, then ``os.replace``d over the old one, which is atomic on
POSIX. A crash therefore loses at most the change in flight and never leaves
a half-written file. A virtual clock's time is stored too (written when it
moves), so a restart with ``--virtual-clock`` resumes from it, and so is a
running simulation's schedule (``Simulation.saved``/``resume``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .clock import VirtualClock
from .world import World, WorldError, parse_json

if TYPE_CHECKING:
    from .simulate import Simulation

STATE_FORMAT = "prosper-voice-mock/state@1"


class StateFile:
    """Keeps ``path`` equal to ``world``'s changes (``StateFile(path).attach(world)``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._base: tuple[dict[str, Any], str] | None = None  # (world.loaded, its JSON)
        #: The running simulation, stored with the world so a restart can ``resume`` it.
        self.simulation: Simulation | None = None
        #: What ``restore`` found of a previous run's simulation (``Simulation.saved()``).
        self.restored_simulation: dict[str, Any] | None = None

    def restore(self, world: World) -> bool:
        """Apply a previous run's changes to ``world``; ``False`` when there is no file yet."""
        if not self.path.exists():
            return False
        try:
            data = parse_json(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WorldError(f"cannot read state file {self.path}: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise WorldError(f"{self.path} is not a prosper-voice-mock state file")
        if data.get("base") is None and data.get("origin") != _origin(world):
            raise WorldError(
                f"{self.path} was written for another world ({data.get('origin')}); "
                "start with the same seed and sizes or world file, or remove the state file"
            )
        try:
            if data.get("base") is not None:
                world.load(data["base"])  # the file holds the whole base: any start-up world goes
            world.apply_changes(data.get("changes", {}))
        except WorldError as exc:
            raise WorldError(f"state file {self.path}: {exc}", exc.status) from None
        if isinstance(data.get("simulation"), dict):
            self.restored_simulation = data["simulation"]
        stored_now = data.get("clock")
        # Resume where the last run's virtual clock stood; it never goes back, so a
        # --start before that time is overridden rather than refused.
        if (
            isinstance(world.clock, VirtualClock)
            and isinstance(stored_now, int | float)
            and stored_now > world.clock.now()
        ):
            try:
                world.clock.set(stored_now)
            except ValueError as exc:  # a hand-edited file: out of range, not finite
                raise WorldError(f"{self.path}: clock: {exc}") from None
        return True

    def attach(self, world: World) -> StateFile:
        """Write the state after every change of ``world`` (and now).

        Temporary files a killed process left beside the state file are removed
        first: they were never renamed over it, so they hold nothing it lacks.
        """
        for leftover in self.path.parent.glob(f".{self.path.name}.*"):
            leftover.unlink(missing_ok=True)
        world.listeners.append(self.save)
        self.save(world)
        return self

    def save(self, world: World) -> None:
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
        try:
            write_atomically(self.path, text.encode("utf-8"))
        except OSError as exc:
            # The change stands in memory (it is served); the next write that works stores it.
            raise WorldError(
                f"the change was made, but the state file {self.path} could not be written "
                f"({exc}): a restart would lose it unless a later write succeeds",
                503,
            ) from None


def _origin(world: World) -> Any:
    return json.loads(json.dumps(world.origin))


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)
