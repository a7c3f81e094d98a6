"""Where the kit's errors meet HTTP: the one table from an error's class to its status.

The world's errors name what went wrong in its own terms; the control API answers
each with the status here, and the pytest plugin turns a running mock's answer back
into the class a local world would have raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from prosper_mock.base.errors import ProsperMockError
from prosper_mock.serving.stubs import StubConflict, UnknownStub
from prosper_mock.world.errors import (
    CallConflict,
    ClockNotSettable,
    InvalidChange,
    StateFileError,
    StoreUnavailable,
    TargetStarted,
    UnknownCall,
    UnknownCampaign,
    UnknownSnapshot,
    UnknownTarget,
    WorldError,
)
from prosper_mock.world.storage.replica import StoreConflict

# Looked up along the error's class hierarchy: the most specific class listed wins.
STATUSES: Mapping[type[ProsperMockError], int] = MappingProxyType(
    {
        UnknownCall: 404,
        UnknownCampaign: 404,
        UnknownTarget: 404,
        TargetStarted: 409,
        UnknownSnapshot: 404,
        UnknownStub: 404,
        StubConflict: 409,
        CallConflict: 409,
        ClockNotSettable: 409,
        # The change stands in memory, but the store behind it is unavailable.
        StateFileError: 503,
        # The shared store is gone (it comes back by itself), or kept losing the race to
        # other processes' writes: nothing was applied, try again.
        StoreUnavailable: 503,
        StoreConflict: 503,
        InvalidChange: 422,
        WorldError: 422,
    }
)
# A control API answer back to the error a local world raises for the same refusal:
# the plugin's helpers change calls, so a 404 or 409 is about a call.
_ERRORS: Mapping[int, type[WorldError]] = MappingProxyType(
    {404: UnknownCall, 409: CallConflict, 503: StateFileError}
)


def status_of(exc: ProsperMockError) -> int:
    """The HTTP status that answers ``exc``: 422 (a refused request) unless the table says."""
    for cls in type(exc).__mro__:
        status = STATUSES.get(cls)
        if status is not None:
            return status
    return 422


def error_of(status: int, detail: str) -> WorldError:
    """The world error a control API refusal (``status``, ``detail``) stands for."""
    return _ERRORS.get(status, InvalidChange)(detail)
