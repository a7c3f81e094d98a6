"""Write safety: which requests a run may send to its endpoint.

Writes against the real Prosper service place real phone calls to real patients. A target
that is not a prosper-voice-mock therefore gets reads (``GET``) only, unless the run names
``--allow-writes`` and ``--sandbox-campaign ID``; then a write goes only to that campaign,
and names only targets this run created there:

* a path's ``campaign_id`` must be the sandbox;
* every target a write names, wherever it names it (a path's ``target_id``; in the query
  or at any depth of the body, a ``target_id``, ``campaign_target_id`` or ``target_ids``;
  an ``external_id`` or ``external_ids``; the ``id`` of an add-targets ``TargetInput``) must
  be one this run created: listed as created in the answer of its own add-targets request
  (``created_targets``), never an id the endpoint merely mentioned;
* a launch may not pick targets by ``count``, and an EHR event must name a target of the
  run (either would let the endpoint choose targets the run did not create).

A write that names neither a campaign nor a target (``DELETE /api/v1/api-keys/{id}``) is
never sent to such a target. A mock gets everything.

``WritePolicy.refusal`` decides; ``GuardedSession`` applies it to every request the suites
send through ``Target.session``, so a suite that forgets to ask is stopped before anything
leaves the machine. The session never follows a redirect (an answer ``3xx`` is the answer)
and sends nothing to any other origin than the endpoint's.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies

from prosper_mock import load_spec, path_pattern
from prosper_mock.base.errors import ProsperMockError

READS = frozenset({"GET", "HEAD", "OPTIONS"})
ADD_TARGETS = "/api/v1/campaigns/{campaign_id}/targets"
EHR_EVENT = "/api/v1/campaigns/{campaign_id}/ehr-event/{friendly_id}"
# Keys whose values name a target (by its id, or by its external id), at any depth.
TARGET_KEYS = frozenset({"target_id", "target_ids", "campaign_target_id"})
EXTERNAL_KEYS = frozenset({"external_id", "external_ids"})


class WriteRefused(ProsperMockError, RuntimeError):
    """A request the run's policy does not allow; raised before the request is sent."""


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
class Named:
    """The targets a write names: by id and by external id."""

    ids: list[str] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)

    def collect(self, node: Any, new_targets: bool = False) -> None:
        """Every target ``node`` (a body, at any depth) names. ``new_targets``: ``node`` is
        an add-targets ``TargetInput``, whose external ids are the ones being created."""
        if isinstance(node, dict):
            for key, value in node.items():
                if key in TARGET_KEYS:
                    self.ids += _scalars(value)
                elif key in EXTERNAL_KEYS and not new_targets:
                    self.external_ids += _scalars(value)
                self.collect(value, new_targets)
        elif isinstance(node, list):
            for item in node:
                self.collect(item, new_targets)

    def collect_query(self, pairs: Iterable[tuple[str, str]]) -> None:
        for key, value in pairs:
            if key in TARGET_KEYS:
                self.ids.append(value)
            elif key in EXTERNAL_KEYS:
                self.external_ids.append(value)


@dataclass
class WritePolicy:
    """What a run may send. ``everything``: the target is a mock. ``sandbox``: the campaign
    writes may reach on any other target (``None``: no writes at all)."""

    everything: bool
    sandbox: str | None = None
    # The targets this run created in the sandbox: id -> its external id (or None).
    created: dict[str, str | None] = field(default_factory=dict)
    routes: tuple[WriteRoute, ...] = field(default_factory=write_routes)

    @property
    def writes(self) -> bool:
        """Whether any write may be sent."""
        return self.everything or self.sandbox is not None

    @property
    def external_ids(self) -> set[str]:
        """The external ids of the targets this run created."""
        return {e for e in self.created.values() if e is not None}

    def refusal(
        self, method: str, path: str, body: Any = None, query: Iterable[tuple[str, str]] = ()
    ) -> str | None:
        """Why ``method path`` (with its JSON ``body`` and its ``query`` pairs) may not be
        sent, or ``None``."""
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
        if isinstance(body, dict) and body.get("count") is not None:
            return f"{method} {path}: a launch by count picks targets this run did not create"
        named = self.named(route, params, body, query)
        foreign = [t for t in named.ids if t not in self.created]
        foreign += [e for e in named.external_ids if e not in self.external_ids]
        if foreign:
            return (
                f"{method} {path}: names {sorted(set(foreign))[:3]}, not created by this run "
                "(a write names only targets its own add-targets answers listed as created)"
            )
        if route.template == EHR_EVENT and not (named.ids or named.external_ids):
            return (
                f"{method} {path}: an EHR event must name a target this run created "
                "(target_id or external_id), or the endpoint picks targets by its data"
            )
        return None

    @staticmethod
    def named(
        route: WriteRoute, params: dict[str, str], body: Any, query: Iterable[tuple[str, str]]
    ) -> Named:
        """Every target a write names: in its path, its query and its body."""
        named = Named()
        if "target_id" in params:
            named.ids.append(params["target_id"])
        named.collect_query(query)
        if route.template == ADD_TARGETS and route.method == "POST" and isinstance(body, dict):
            rest = {k: v for k, v in body.items() if k != "targets"}
            named.collect(rest)
            targets = body.get("targets")
            for item in targets if isinstance(targets, list) else [targets]:
                if isinstance(item, dict) and "id" in item:  # an input naming an existing id
                    named.ids += _scalars(item["id"])
                named.collect(item, new_targets=isinstance(item, dict))
        else:
            named.collect(body)
        return named

    def _route(self, method: str, path: str) -> tuple[WriteRoute | None, dict[str, str]]:
        for route in self.routes:
            match = route.pattern.fullmatch(path) if route.method == method else None
            if match:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}
        return None, {}

    def learn(self, method: str, path: str, sent: Any, status: int, answer: Any) -> None:
        """Remember the targets a successful ``POST .../targets`` created in the sandbox,
        and forget the ones a ``DELETE`` of ``sent``'s ``target_ids`` removed."""
        route, params = self._route(method.upper(), path)
        if route is None or route.template != ADD_TARGETS or not 200 <= status < 300:
            return
        if self.sandbox is None or params.get("campaign_id") != self.sandbox:
            return
        if route.method == "POST":
            self.created.update(created_targets(sent, answer, self.sandbox))
        elif isinstance(sent, dict):
            for target in _scalars(sent.get("target_ids")):
                self.created.pop(target, None)


def created_targets(sent: Any, answer: Any, campaign: str) -> dict[str, str | None]:
    """The targets an add-targets ``answer`` lists as created, id -> external id.

    Upstream documents no shape for the answer; the mock's (kit decision 26) lists the
    targets it created under ``targets``, one object each. Only those count (kit decision
    35), each by its string ``id``: an id anywhere else in the answer (ignored duplicates,
    existing targets) is no target of the run. An answer listing more targets than the
    request sent creates none, and one that names another campaign is skipped; an external
    id counts only when the request sent it.
    """
    items = answer.get("targets") if isinstance(answer, dict) else None
    asked = sent.get("targets") if isinstance(sent, dict) else None
    if not isinstance(items, list) or not isinstance(asked, list) or len(items) > len(asked):
        return {}
    sent_external = {
        str(t["external_id"]) for t in asked if isinstance(t, dict) and t.get("external_id")
    }
    found: dict[str, str | None] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            continue
        if item.get("campaign_id", campaign) != campaign:
            continue
        external = item.get("external_id")
        found[item["id"]] = external if external in sent_external else None
    return found


def _scalars(value: Any) -> list[str]:
    """The ids a value names: itself, or the items of a list. ``None`` names none, but an
    item of a list is never "not given": whatever it is, it must be the run's own."""
    if value is None or isinstance(value, dict):
        return []
    if isinstance(value, list):  # an object in the list too: refused, not skipped
        return [str(v) if isinstance(v, str | int | float) else json.dumps(v) for v in value]
    return [str(value)]


class GuardedSession(requests.Session):
    """A ``requests.Session`` that refuses, before sending, every request its policy forbids.

    It never follows a redirect, whatever its caller asks (schemathesis asks to follow
    them): a write that followed one would reach whatever the ``Location`` names. ``base``
    is the endpoint's URL (then a request to any other origin is refused too) or only its
    path.

    The environment's proxy and CA-bundle settings apply as in any ``requests.Session``,
    read once per origin instead of once per request (``merge_environment_settings``).
    """

    def __init__(self, policy: WritePolicy, base: str = "") -> None:
        super().__init__()
        self.policy = policy
        parts = urlsplit(base)
        self.origin = _origin(base) if parts.scheme else None
        self.base_path = parts.path.rstrip("/")
        self._environment: dict[tuple[str, str, int | None], tuple[dict[str, str], Any]] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """What ``requests`` merges for a request, with the environment's proxies (for this
        origin) and CA bundle looked up once: a run sends thousands of requests to one
        origin, and reading the environment for each cost about 5 % of a run's time."""
        if not self.trust_env or (proxies is not None and proxies.get("no_proxy") is not None):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        key = _origin(url)
        if key not in self._environment:
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            self._environment[key] = (get_environ_proxies(url), bundle)
        env_proxies, bundle = self._environment[key]
        if proxies is not None:
            for name, value in env_proxies.items():
                proxies.setdefault(name, value)
        if verify is True or verify is None:
            verify = bundle or verify
        return {
            "proxies": merge_setting(proxies, self.proxies),
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        method = (request.method or "GET").upper()
        url = urlsplit(request.url or "")
        if self.origin is not None and _origin(request.url or "") != self.origin:
            raise WriteRefused(
                f"{method} {request.url}: not the endpoint under test; nothing is sent elsewhere"
            )
        path = url.path
        if self.base_path and path.startswith(self.base_path):
            path = path[len(self.base_path) :]
        body = _json(request.body)
        query = parse_qsl(url.query, keep_blank_values=True)
        why = self.policy.refusal(method, path, body, query)
        if why is not None:
            raise WriteRefused(why)
        response = super().send(request, **kwargs)
        if method not in READS:
            self.policy.learn(method, path, body, response.status_code, _json(response.content))
        return response


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _json(raw: Any) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
