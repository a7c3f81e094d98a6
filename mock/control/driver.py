"""``WorldDriver`` over a running mock's control API: the remote twin of ``LocalDriver``."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar, cast

from prosper_mock.control.client import ControlClient, ControlError
from prosper_mock.serving.errors import error_of
from prosper_mock.world.driver import CallAnswer, CallLogAnswer, ClockInfo
from prosper_mock.world.errors import UnknownCampaign, UnknownTarget

_P = ParamSpec("_P")
_T = TypeVar("_T")


def ask(call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """A control API call whose refusals raise ``WorldError``, as the local world's do."""
    try:
        return call(*args, **kwargs)
    except ControlError as exc:
        raise error_of(exc.status, str(exc.detail)) from None


def _part(text: str) -> str:
    """``text`` as one path segment."""
    return urllib.parse.quote(text, safe="")


def _vendored(control: ControlClient, method: str, path: str, body: Any = None) -> dict[str, Any]:
    """A vendored API call; an unknown campaign or target raises what the local world does."""
    try:
        return cast("dict[str, Any]", control.api(method, path, body))
    except ControlError as exc:
        detail = str(exc.detail)
        if detail.startswith(("Campaign not found", "Target not found")):
            cls = UnknownCampaign if detail.startswith("Campaign") else UnknownTarget
            raise cls(detail) from None
        raise error_of(exc.status, detail) from None


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

    def add_targets(
        self,
        campaign_id: str,
        targets: list[dict[str, Any]],
        *,
        launch: bool = False,
        allow_duplicates: bool = True,
    ) -> dict[str, Any]:
        body = {"targets": targets, "launch": launch, "allow_duplicates": allow_duplicates}
        path = f"/api/v1/campaigns/{_part(campaign_id)}/targets"
        return _vendored(self.control, "POST", path, body)

    def launch(
        self,
        campaign_id: str,
        *,
        target_ids: list[str] | None = None,
        count: int | None = None,
        prioritize_oldest: bool = False,
    ) -> dict[str, Any]:
        body = {"target_ids": target_ids, "count": count, "prioritize_oldest": prioritize_oldest}
        path = f"/api/v1/campaigns/{_part(campaign_id)}/calls"
        return _vendored(self.control, "POST", path, body)

    def target(self, target_id: str) -> dict[str, Any]:
        return _vendored(self.control, "GET", f"/api/v1/targets/{_part(target_id)}")

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
