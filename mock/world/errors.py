"""The world's errors: one root, ``WorldError``, and a class per kind of refusal.

They say what went wrong in the world's terms only. Which HTTP answer each one
deserves is decided where they meet HTTP (``prosper_mock.serving.errors``).
"""

from __future__ import annotations

from prosper_mock.base.errors import ProsperMockError


class WorldError(ProsperMockError, ValueError):
    """A change the world cannot make, or a world it cannot read: catch this for all of them."""


class InvalidChange(WorldError):
    """A value the world refuses: a field of the wrong type, a row that does not validate."""


class UnknownCall(WorldError):
    """No live call or call log has the id a change names."""


class CallConflict(WorldError):
    """The id a new call or call log would take is taken already."""


class UnknownSnapshot(WorldError):
    """No snapshot has the name asked for (never taken, or restored already)."""


class ClockNotSettable(WorldError):
    """The world runs on the system clock, which only time moves."""


class WorldFileError(WorldError):
    """A world file cannot be read, or does not hold a world."""


class StateFileError(WorldError):
    """The state file cannot be read or written, or holds no state of this world."""


class StoreUnavailable(WorldError):
    """The shared store on Redis (``storage.redislog``) cannot be reached or refuses the mock: what
    needs it is refused, and nothing of it is applied."""


class UnknownCampaign(WorldError):
    """No campaign has the id a read or change names."""


class UnknownTarget(WorldError):
    """No target (in the campaign named, when one is) has the id a read or change names."""


class TargetStarted(WorldError):
    """The change is refused because the target has been called already (or left staging)."""
