"""Write safety: which requests a run may send to its endpoint.

Writes against the real Prosper service place real phone calls to real patients. A target
that is not a prosper-voice-mock therefore gets reads (``GET``) only, unless the run names
``--allow-writes`` and ``--sandbox-campaign ID``; then a write goes only to that campaign:
a path's ``campaign_id`` must be the sandbox, a ``target_id`` (in the path, or in a body's
``target_ids``) must be one this run created there, and a launch may not pick targets by
``count``. A write that names neither a campaign nor a target (``DELETE
/api/v1/api-keys/{id}``) is never sent to such a target. A mock gets everything.

``WritePolicy.refusal`` decides; ``GuardedSession`` applies it to every request the suites
send through ``Target.session``, so a suite that forgets to ask is stopped before anything
leaves the machine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from prosper_mock.base.errors import ProsperMockError
from prosper_mock.serving.spec import load_spec, path_pattern

READS = frozenset({"GET", "HEAD", "OPTIONS"})
ADD_TARGETS = re.compile(r"/api/v1/campaigns/(?P<campaign_id>[^/]+)/targets")


class WriteRefused(ProsperMockError, RuntimeError):
    """A write the run's policy does not allow; raised before the request is sent."""


@dataclass(frozen=True)
class WriteRoute:
    """A write operation of the spec: its method and the path pattern it answers."""

    method: str
    template: str
    pattern: re.Pattern[str]


def write_routes() -> tuple[WriteRoute, ...]:
    """Every write operation of the vendored spec."""
    return tuple(
        WriteRoute(op.method.upper(), op.path, path_pattern(op.path))
        for op in load_spec().operations()
        if op.method.upper() not in READS
    )


@dataclass
class WritePolicy:
    """What a run may send. ``everything``: the target is a mock. ``sandbox``: the campaign
    writes may reach on any other target (``None``: no writes at all)."""

    everything: bool
    sandbox: str | None = None
    created: set[str] = field(default_factory=set)  # target ids this run added to the sandbox
    routes: tuple[WriteRoute, ...] = field(default_factory=write_routes)

    @property
    def writes(self) -> bool:
        """Whether any write may be sent."""
        return self.everything or self.sandbox is not None

    def refusal(self, method: str, path: str, body: Any = None) -> str | None:
        """Why ``method path`` (with its JSON ``body``) may not be sent, or ``None``."""
        method = method.upper()
        if method in READS or self.everything:
            return None
        if self.sandbox is None:
            return (
                f"{method} {path}: writes go to an endpoint that is not a prosper-voice-mock "
                "only with --allow-writes and --sandbox-campaign ID"
            )
        route, params = self._route(method, path)
        if route is None:
            return f"{method} {path}: not a write operation of the spec"
        campaign = params.get("campaign_id")
        if campaign is None and "target_id" not in params:
            return f"{method} {path}: names no campaign, so it cannot be kept to the sandbox"
        if campaign is not None and campaign != self.sandbox:
            return f"{method} {path}: campaign {campaign!r} is not the sandbox {self.sandbox!r}"
        named = [params["target_id"]] if "target_id" in params else []
        if isinstance(body, dict):
            ids = body.get("target_ids")
            if isinstance(ids, list):
                named += [str(i) for i in ids]
            elif ids is not None:
                return f"{method} {path}: target_ids is not a list"
            if body.get("count") is not None:
                return f"{method} {path}: a launch by count picks targets this run did not create"
        foreign = [t for t in named if t not in self.created]
        if foreign:
            return f"{method} {path}: targets {foreign[:3]} were not created by this run"
        return None

    def _route(self, method: str, path: str) -> tuple[WriteRoute | None, dict[str, str]]:
        for route in self.routes:
            match = route.pattern.fullmatch(path) if route.method == method else None
            if match:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}
        return None, {}

    def learn(self, method: str, path: str, sent: Any, status: int, answer: Any) -> None:
        """Remember the targets a successful ``POST .../targets`` added to the sandbox,
        and forget the ones a ``DELETE`` of ``sent``'s ``target_ids`` removed."""
        match = ADD_TARGETS.fullmatch(path)
        if not match or not 200 <= status < 300 or unquote(match["campaign_id"]) != self.sandbox:
            return
        if method.upper() == "POST":
            self.created |= target_ids_in(answer)
        elif method.upper() == "DELETE" and isinstance(sent, dict):
            self.created -= {str(t) for t in sent.get("target_ids") or ()}


def target_ids_in(answer: Any) -> set[str]:
    """The target ids an add-targets answer carries (upstream documents no shape for it):
    ``id`` / ``target_id`` strings of its objects and the items of any ``target_ids``."""
    found: set[str] = set()
    if isinstance(answer, dict):
        for key, value in answer.items():
            if key in ("id", "target_id") and isinstance(value, str | int):
                found.add(str(value))
            elif key == "target_ids" and isinstance(value, list):
                found |= {str(v) for v in value if isinstance(v, str | int)}
            else:
                found |= target_ids_in(value)
    elif isinstance(answer, list):
        for item in answer:
            found |= target_ids_in(item)
    return found


class GuardedSession(requests.Session):
    """A ``requests.Session`` that refuses, before sending, every request its policy forbids."""

    def __init__(self, policy: WritePolicy, base_path: str = "") -> None:
        super().__init__()
        self.policy = policy
        self.base_path = base_path.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        path = urlsplit(request.url or "").path
        if self.base_path and path.startswith(self.base_path):
            path = path[len(self.base_path) :]
        body = _json(request.body)
        why = self.policy.refusal(request.method or "GET", path, body)
        if why is not None:
            raise WriteRefused(why)
        response = super().send(request, **kwargs)
        if (request.method or "GET").upper() not in READS:
            answer = _json(response.content)
            self.policy.learn(request.method or "", path, body, response.status_code, answer)
        return response


def _json(raw: Any) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
