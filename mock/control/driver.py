"""``WorldDriver`` over a running mock's control API: the remote twin of ``LocalDriver``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from prosper_mock.control.client import ControlClient, ControlError
from prosper_mock.serving.errors import error_of
from prosper_mock.world.driver import CallAnswer, CallLogAnswer, ClockInfo

_P = ParamSpec("_P")
_T = TypeVar("_T")


def ask(call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """A control API call whose refusals raise ``WorldError``, as the local world's do."""
    try:
        return call(*args, **kwargs)
    except ControlError as exc:
        raise error_of(exc.status, str(exc.detail)) from None


class RemoteDriver:
    """Changes the world of a mock in another process through its ``ControlClient``.

    Answers are the control API's (the same as ``LocalDriver``'s); a refusal raises
    the ``WorldError`` subclass a local world raises for the status the mock answered.
    """

    def __init__(self, control: ControlClient) -> None:
        self.control = control

    def start_call(self, **fields: Any) -> CallAnswer:
        return ask(self.control.start_call, **fields)

    def map_variables(self, call_log_id: int, /, **variables: Any) -> CallAnswer:
        return ask(self.control.map_variables, call_log_id, **variables)

    def end_call(
        self, call_log_id: int, /, keep_live: bool = False, **fields: Any
    ) -> CallLogAnswer:
        return ask(self.control.end_call, call_log_id, keep_live=keep_live, **fields)

    def delete_live_call(self, call_log_id: int) -> None:
        ask(self.control.delete_live_call, call_log_id)

    def add_call_log(self, **fields: Any) -> CallLogAnswer:
        return ask(self.control.add_call_log, **fields)

    def delete_call_log(self, call_log_id: int) -> None:
        ask(self.control.delete_call_log, call_log_id)

    def campaigns(self) -> list[dict[str, Any]]:
        return ask(self.control.campaigns)

    def reset(self) -> dict[str, Any]:
        return ask(self.control.reset)

    def load(self, world: dict[str, Any]) -> dict[str, Any]:
        return ask(self.control.load, world)

    def dump(self) -> dict[str, Any]:
        return ask(self.control.dump)

    def clock(self) -> ClockInfo:
        return ask(self.control.clock)

    def advance_clock(self, seconds: float) -> ClockInfo:
        return ask(self.control.advance_clock, seconds)

    def set_clock(self, now: str) -> ClockInfo:
        return ask(self.control.set_clock, now)

    def now(self) -> float:
        return datetime.fromisoformat(self.clock()["now"]).timestamp()
