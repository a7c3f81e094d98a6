"""What one mock app owns: its world, spec, journal, faults and simulation."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from prosper_mock.serving.faults import FaultInjector
from prosper_mock.serving.journal import Journal
from prosper_mock.serving.render import SnapshotCache
from prosper_mock.serving.semantics import Semantics
from prosper_mock.serving.spec import Spec
from prosper_mock.world.clock import Clock
from prosper_mock.world.model import World
from prosper_mock.world.simulation import Simulation


@dataclass
class MockState:
    """Everything one app owns: many apps can live in one process."""

    world: World
    spec: Spec
    semantics: Semantics = field(default_factory=Semantics)
    journal: Journal = field(default_factory=Journal)
    snapshots: SnapshotCache = field(default_factory=SnapshotCache)
    faults: FaultInjector = field(default_factory=FaultInjector)
    simulation: Simulation | None = None
    api_key: tuple[str, str] | None = field(default=None, repr=False)  # (header, key)
    read_only: bool = False  # --workers: each process has a copy, so changes are refused

    @property
    def clock(self) -> Clock:
        return self.world.clock


STATE = web.AppKey("prosper_mock_state", MockState)


def state_of(app: web.Application) -> MockState:
    """The state an app built by ``create_app`` owns."""
    return app[STATE]
