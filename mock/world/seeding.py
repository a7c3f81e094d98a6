"""A shared world's first state, from a state file: ``serve --store ... --state-file PATH``.

Redis is the store of record of a shared world; a state file beside it is a copy, kept by
one process of each ``serve`` (``StateFile.attach(world, vetoes=False)``), so that the world
outlives a Redis that loses it (no appendonly file, a namespace flushed, everything
restarted). When ``serve`` starts and the namespace holds no world yet, ``seed_store`` gives
the log, as its first entry, the whole state the file holds: the rows, the virtual clock's
time, the stubs and fault rules, and the simulation (which goes on from this run's start, as
after any restart). A namespace that holds a world already keeps it: the file is then
rewritten from the shared world.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prosper_mock.world.model import World
from prosper_mock.world.persistence import StateFile
from prosper_mock.world.storage.address import StoreAddress
from prosper_mock.world.storage.replica import SharedWorld, StoreConflict

# The schedule of a simulation (``Simulation.saved``): a restart starts new calls from its own
# start, so a seed leaves it out and every process goes on from the first one's.
_SCHEDULE = ("start", "first_k")


@dataclass(frozen=True)
class Seeded:
    """What ``seed_store`` did: ``version`` is the log's version when the namespace held a
    world already (the file was not used), 0 when the file seeded it or there was no file."""

    seeded: bool
    version: int

    def describe(self, path: Path) -> str:
        """One clause for the start-up banner."""
        if self.seeded:
            return f"; the store seeded from {path}"
        if self.version:
            return f"; the store's world kept (version {self.version}), copied to {path}"
        return f"; copied to {path}"


def seed_store(world: World, address: StoreAddress, path: Path, virtual_clock: bool) -> Seeded:
    """Give an empty namespace at ``address`` the state the file at ``path`` holds, as the
    log's first entry (all of it or nothing: the append is refused when another process
    wrote first). ``world`` is the world every process starts from: it is left as it was.
    ``virtual_clock``: the processes run one (``--virtual-clock``), which goes on from the
    file's time.

    Raises ``StateFileError`` when the file cannot be read or is not one of this world's,
    ``StoreUnavailable`` when Redis cannot be used.
    """
    state_file = StateFile(path)
    # Read (and checked) first, whatever the store holds: a file of another world is refused
    # as it is without a store. Before the binding: putting the world back is no write.
    entry = _whole_entry(world, state_file, virtual_clock) if state_file.check().exists() else None
    replica = SharedWorld(world, address)
    try:
        held = replica.log_version()
        if held or entry is None:
            return Seeded(False, held)
        try:
            replica.append(entry)
        except StoreConflict:  # another process seeded or wrote first: its world stands
            return Seeded(False, replica.log_version())
        return Seeded(True, 0)
    finally:
        replica.close()


def _whole_entry(world: World, state_file: StateFile, virtual_clock: bool) -> dict[str, Any]:
    """The file's state as a whole entry of the log, checked by applying it to ``world``
    (then put back as it was)."""
    before, clock, added = world.snapshot(), world.clock, world.targets.added
    try:
        state_file.restore(world)  # checks it: StateFileError names what is wrong
        document, base = world.changes(), world.loaded
    finally:
        world.restore(before)
        world.clock, world.targets.added = clock, added
    sections = dict(state_file.restored_sections)
    simulation = state_file.restored_simulation
    if simulation is not None:
        sections["simulation"] = {k: v for k, v in simulation.items() if k not in _SCHEDULE}
    now = state_file.restored_clock
    return {
        "whole": True,
        "base": base,
        "document": document,
        # A virtual clock goes on from the file's time; the system clock is everyone's own.
        "clock": now if virtual_clock else None,
        "sections": sections,
    }
