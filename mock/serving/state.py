"""What one mock app owns: the configuration fixed at start, and the state that runs.

``MockConfig`` (spec, semantics, API key, read-only) never changes once the app is
built. ``MockState`` holds it and the run-time state (the world, the simulation, the
journal, the fault rules, the stubs): its attributes are read-only, and every change goes
through a method that names it (``swap_world``, ``set_fault_rules``, ``move_clock``...).
Changes of the stubs and fault rules are made in ``storing()``: stored (``--state-file``)
before they are answered, or undone.
Changes to the world's rows go through ``driver``, the same ``LocalDriver`` the
control API answers with.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web

from prosper_mock.serving.answers import AnswerCache, Reused
from prosper_mock.serving.faults import FaultInjector, FaultRule
from prosper_mock.serving.journal import Journal
from prosper_mock.serving.render import SnapshotCache
from prosper_mock.serving.semantics import Semantics
from prosper_mock.serving.spec import Operation, Spec
from prosper_mock.serving.stubs import Stubs
from prosper_mock.serving.writer import Writer
from prosper_mock.world.clock import Clock
from prosper_mock.world.driver import ClockInfo, LocalDriver
from prosper_mock.world.model import World
from prosper_mock.world.simulation import Simulation

if TYPE_CHECKING:
    from prosper_mock.serving.sharing import Sharing

T = TypeVar("T")

# A read-only mock (``--workers``) refuses every change, through the control API and the
# vendored API alike, with this detail and 409.
READ_ONLY_DETAIL = (
    "the world is read-only: this mock runs several worker processes (--workers), each "
    "with its own copy, and changes would diverge; use --workers 1 to change it, or share "
    "one world between the workers with --store redis://HOST:PORT/DB"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class MockConfig:
    """What an app is started with, and keeps for its whole life."""

    spec: Spec
    semantics: Semantics = field(default_factory=Semantics)
    api_key: tuple[str, str] | None = field(default=None, repr=False)  # (header, key)
    read_only: bool = False  # --workers: each process has a copy, so changes are refused


class MockState:
    """Everything one app owns: many apps can live in one process.

    The keyword arguments are ``MockConfig``'s fields and the run-time state to start
    with (a new journal, snapshot cache and fault injector when omitted).
    """

    def __init__(
        self,
        world: World,
        spec: Spec,
        semantics: Semantics | None = None,
        journal: Journal | None = None,
        snapshots: SnapshotCache | None = None,
        faults: FaultInjector | None = None,
        simulation: Simulation | None = None,
        api_key: tuple[str, str] | None = None,
        read_only: bool = False,
    ) -> None:
        self.config = MockConfig(spec, semantics or Semantics(), api_key, read_only)
        self._world = world
        self._journal = journal if journal is not None else Journal()
        self._snapshots = snapshots if snapshots is not None else SnapshotCache()
        self._faults = faults if faults is not None else FaultInjector()
        self._stubs = Stubs()
        if api_key is not None:  # its value is never journalled
            self._journal.secret_headers = self._journal.secret_headers | {api_key[0].lower()}
        self._simulation: Simulation | None = None
        self._reused: list[Reused] = []
        self._store: Callable[[], None] | None = None
        self._sharing: Sharing | None = None
        self._writer = Writer()
        if simulation is not None:
            self.attach_simulation(simulation)

    def __repr__(self) -> str:
        return f"MockState({self.config!r}, world={self._world!r})"

    # -- configuration (fixed) --------------------------------------------------------------

    @property
    def spec(self) -> Spec:
        return self.config.spec

    @property
    def semantics(self) -> Semantics:
        return self.config.semantics

    @property
    def api_key(self) -> tuple[str, str] | None:
        return self.config.api_key

    @property
    def read_only(self) -> bool:
        return self.config.read_only

    # -- run-time state (read) --------------------------------------------------------------

    @property
    def world(self) -> World:
        """The world served now (``swap_world`` replaces it)."""
        return self._world

    @property
    def clock(self) -> Clock:
        return self._world.clock

    @property
    def journal(self) -> Journal:
        return self._journal

    @property
    def snapshots(self) -> SnapshotCache:
        return self._snapshots

    @property
    def faults(self) -> FaultInjector:
        """The fault injector; its rules change through ``set_fault_rules``/``clear_faults``."""
        return self._faults

    @property
    def simulation(self) -> Simulation | None:
        return self._simulation

    @property
    def stubs(self) -> Stubs:
        """The stubs in force (``stubs.py``): reset removes them, a snapshot and a state file
        keep them; they change in ``storing()``."""
        return self._stubs

    @property
    def reused_answers(self) -> tuple[Reused, ...]:
        """The operations whose answers are kept (``reuse_answers``), for the fast path."""
        return tuple(self._reused)

    @property
    def sharing(self) -> Sharing | None:
        """This process's part in a world shared on Redis (``None``: the in-memory store)."""
        return self._sharing

    @property
    def leading(self) -> bool:
        """This process does what must happen once across processes (the clock's tick,
        webhook deliveries): always on the in-memory store, one process on a shared one."""
        return self._sharing is None or self._sharing.leading

    def stats(self) -> dict[str, int]:
        """The world's counts and version: on a shared store, the shared log's version, the
        same through every process."""
        stats = self._world.stats()
        if self._sharing is not None:
            stats["version"] = self._sharing.version
        return stats

    @property
    def driver(self) -> LocalDriver:
        """The world's ``WorldDriver`` (with the simulation that moves with its clock)."""
        return LocalDriver(self._world, self._simulation)

    # -- run-time changes -------------------------------------------------------------------

    def swap_world(self, world: World) -> World:
        """Serve ``world`` from now on; returns the world served until now.

        Refused (``ValueError``) while a simulation runs: it moves the world it was made for.
        """
        if self._simulation is not None and world is not self._world:
            raise ValueError("a simulation runs on this world: the world cannot be swapped")
        previous, self._world = self._world, world
        return previous

    def attach_simulation(self, simulation: Simulation | None) -> None:
        """Let ``simulation`` move the world with its clock (``None``: no simulation)."""
        if simulation is not None and simulation.world is not self._world:
            raise ValueError("the simulation moves another world than this app's")
        self._simulation = simulation

    def move_clock(self, seconds: float) -> ClockInfo:
        """Advance the virtual clock; the simulation catches up (``LocalDriver.advance_clock``)."""
        return self.driver.advance_clock(seconds)

    def set_clock(self, moment: str) -> ClockInfo:
        """Set the virtual clock to ``moment``; the simulation catches up."""
        return self.driver.set_clock(moment)

    def share(self, sharing: Sharing) -> None:
        """Serve the world shared through ``sharing`` (its stubs and fault rules included)."""
        self._sharing = sharing
        self._store = sharing.replica.commit_sections

    @property
    def writer(self) -> Writer:
        """The app's writes: one at a time, the long ones in a thread (``writer.py``)."""
        return self._writer

    async def write(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation``, a change of the world or its control state (an operation's
        implementation, a control call): one at a time in this app, in the order they came
        (a write inside a write is part of it); on a shared store, as one write of the shared
        log. Its long work runs in the writer thread (``off_loop``)."""
        async with self._writer.exclusive():
            if self._sharing is not None:
                return await self._sharing.write(operation)
            return await operation()

    async def off_loop(self, work: Callable[[], T]) -> T:
        """Do ``work``, a write's change of the world (and what is made of it: its answer),
        in the writer thread as one transaction (``World.batch``: all of it, or nothing if it
        raises); the world's readers wait meanwhile (``readable``), the rest goes on being
        served. Call it inside ``write``."""
        world = self._world

        def whole() -> T:
            with world.batch():
                return work()

        return await self._writer.run(whole)

    async def read_off_loop(self, read: Callable[[], T]) -> T:
        """Do ``read``, a long read of the world (a dump), in the writer thread between two
        writes: the loop goes on serving meanwhile (the world's other readers wait)."""
        async with self._writer.exclusive():
            return await self._writer.run(read)

    async def readable(self) -> None:
        """Return once the world may be read: at once, unless a write is changing it in the
        writer thread (then when that write is done: a read never sees half of one)."""
        if self._writer.busy:
            await self._writer.readable()

    def store_with(self, store: Callable[[], None]) -> None:
        """Call ``store`` at the end of ``storing()`` (the state file's ``store_sections``)."""
        self._store = store

    @contextlib.contextmanager
    def storing(self) -> Iterator[None]:
        """Change the stubs and fault rules in this block: they are stored at its end (with
        ``store_with``); if the block or the store fails, they are put back as they were and
        the error raised, so a change that cannot be stored is not made."""
        stubs, rules = self._stubs.saved(), list(self._faults.rules)
        try:
            yield
            if self._store is not None:
                self._store()
        except BaseException:
            self._stubs.restore(stubs)
            self._faults.rules = rules
            raise

    def set_fault_rules(self, rules: list[FaultRule]) -> None:
        """Inject these faults from now on (replacing the rules in force)."""
        self._faults.rules = list(rules)

    def clear_faults(self) -> None:
        self._faults.rules = []

    def reuse_answers(self, operation: Operation) -> AnswerCache:
        """A new cache of ``operation``'s answers, listed in ``reused_answers``."""
        cache = AnswerCache(stubs=self._stubs)  # nothing kept is answered while stubs exist
        self._reused.append(Reused(operation.method, operation.path, operation.operation_id, cache))
        return cache

    def clear_journal(self) -> None:
        """Forget the requests answered so far."""
        self._journal.clear()


STATE = web.AppKey("prosper_mock_state", MockState)


def state_of(app: web.Application) -> MockState:
    """The state an app built by ``create_app`` owns."""
    return app[STATE]
