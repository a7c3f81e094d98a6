"""The one table from an error's class to its HTTP status, and back for the plugin."""

from __future__ import annotations

import pytest

from prosper_mock import (
    CallConflict,
    ClockNotSettable,
    InvalidChange,
    ProsperMockError,
    StateFileError,
    UnknownCall,
    UnknownSnapshot,
    WorldError,
    WorldFileError,
)
from prosper_mock.serving.errors import error_of, status_of
from prosper_mock.world.errors import StoreUnavailable
from prosper_mock.world.storage.replica import StoreConflict


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UnknownCall, 404),
        (UnknownSnapshot, 404),
        (CallConflict, 409),
        (ClockNotSettable, 409),
        (StateFileError, 503),
        (StoreUnavailable, 503),
        (StoreConflict, 503),
        (InvalidChange, 422),
        (WorldFileError, 422),
        (WorldError, 422),
        (ProsperMockError, 422),
    ],
)
def test_each_refusal_has_its_status(error: type[ProsperMockError], status: int) -> None:
    assert status_of(error("no")) == status


def test_a_subclass_answers_as_its_nearest_listed_class() -> None:
    class GoneCall(UnknownCall):
        pass

    assert status_of(GoneCall("x")) == 404


def test_the_world_errors_are_value_errors_and_carry_no_status() -> None:
    for error in (UnknownCall, CallConflict, InvalidChange, StateFileError, WorldFileError):
        assert issubclass(error, WorldError) and issubclass(error, ValueError)
        assert not hasattr(error("x"), "status")


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, UnknownCall), (409, CallConflict), (503, StateFileError), (422, InvalidChange)],
)
def test_a_control_refusal_turns_back_into_the_local_class(
    status: int, error: type[WorldError]
) -> None:
    found = error_of(status, "no live call 7")
    assert type(found) is error and str(found) == "no live call 7"
    assert status_of(found) == status
