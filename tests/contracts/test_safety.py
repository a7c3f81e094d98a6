"""Write safety (``contracts/safety.py``): a target that is not the mock gets reads only,
unless the run allows writes to a sandbox campaign, and then writes reach that campaign only."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import requests
from aiohttp import web

from prosper_contracts.safety import (
    GuardedSession,
    WritePolicy,
    WriteRefused,
    created_targets,
)
from prosper_mock import MockServer
from prosper_mock.control.bodies import SERVICE

SANDBOX = "sandbox-7"
FOREIGN = "REAL-PATIENT-TARGET-1"  # a target the run did not create, named by the endpoint
FOREIGN_EXTERNAL = "REAL-PAT-1"
OWN = {"t1": "RUN-1"}  # the run's own target and its external id
EHR = f"/api/v1/campaigns/{SANDBOX}/ehr-event/f1"
ADD = f"/api/v1/campaigns/{SANDBOX}/targets"


def policy(**kw: Any) -> WritePolicy:
    return WritePolicy(everything=False, **kw)


def test_reads_always_pass_and_a_mock_gets_everything() -> None:
    assert policy().refusal("GET", "/api/v1/targets/x") is None
    assert WritePolicy(everything=True).refusal("DELETE", "/api/v1/api-keys/1") is None


def test_an_object_among_target_ids_is_refused_as_no_target_of_the_run() -> None:
    """Every item of a ``target_ids`` list must be the run's own, whatever it is: an object
    or a list there is refused, not skipped (it was sent, an invalid request's body)."""
    allowed = policy(sandbox=SANDBOX, created={"t1": None})
    path = f"/api/v1/campaigns/{SANDBOX}/targets"
    assert allowed.refusal("DELETE", path, {"target_ids": ["t1"]}) is None
    for item in ({"": ["x"]}, ["t1"], None):
        why = allowed.refusal("DELETE", path, {"target_ids": ["t1", item]})
        assert why is not None and "not created" in why, item


def test_without_a_sandbox_no_write_passes() -> None:
    why = policy().refusal("POST", f"/api/v1/campaigns/{SANDBOX}/targets", {"targets": []})
    assert why is not None and "--allow-writes and --sandbox-campaign" in why


@pytest.mark.parametrize(
    ("method", "path", "body", "problem"),
    [
        ("POST", "/api/v1/campaigns/other/targets", {}, "is not the sandbox"),
        ("POST", "/api/v1/campaigns/other/calls", {"target_ids": ["t1"]}, "is not the sandbox"),
        ("DELETE", "/api/v1/api-keys/3", None, "names no campaign"),
        ("PATCH", "/api/v1/targets/t9", {"input_data": {}}, "not created"),
        ("POST", f"/api/v1/campaigns/{SANDBOX}/calls", {"target_ids": ["t9"]}, "not created"),
        ("POST", f"/api/v1/campaigns/{SANDBOX}/calls", {"count": 3}, "by count"),
        ("DELETE", f"/api/v1/campaigns/{SANDBOX}/targets", {"target_ids": ["t9"]}, "not created"),
        ("POST", f"/api/v1/campaigns/{SANDBOX}/targets/t9/step/f", {}, "not created"),
        ("POST", "/api/v1/nowhere", {}, "not a write operation"),
        ("POST", EHR, {"event_type": "appointment_cancelled", "target_id": FOREIGN}, FOREIGN),
        (
            "POST",
            EHR,
            {"event_type": "appointment_cancelled", "external_id": FOREIGN_EXTERNAL},
            FOREIGN_EXTERNAL,
        ),
        (
            "POST",
            EHR,
            {"event_type": "appointment_cancelled", "target_id": "t1", "external_id": "RUN-2"},
            "RUN-2",
        ),
        (
            "POST",
            EHR,
            {"event_type": "appointment_created", "event_data": {"a": [{"target_id": FOREIGN}]}},
            FOREIGN,
        ),
        ("POST", EHR, {"event_type": "appointment_cancelled"}, "must name a target"),
        (
            "POST",
            f"/api/v1/campaigns/{SANDBOX}/targets/t1/step/f",
            {"deep": {"campaign_target_id": FOREIGN}},
            FOREIGN,
        ),
        ("POST", ADD, {"targets": [{"id": FOREIGN, "phone_number": "+15550100"}]}, FOREIGN),
        ("POST", f"/api/v1/campaigns/{SANDBOX}/calls", {"target_ids": 5}, "'5'"),
    ],
)
def test_a_sandboxed_run_refuses_writes_outside_its_campaign_and_targets(
    method: str, path: str, body: Any, problem: str
) -> None:
    why = policy(sandbox=SANDBOX, created=dict(OWN)).refusal(method, path, body)
    assert why is not None and problem in why


def test_a_target_named_in_a_write_s_query_is_checked_too() -> None:
    p = policy(sandbox=SANDBOX, created=dict(OWN))
    path = f"/api/v1/campaigns/{SANDBOX}/calls"
    why = p.refusal("POST", path, {"target_ids": ["t1"]}, [("target_id", FOREIGN)])
    assert why is not None and FOREIGN in why
    assert p.refusal("POST", path, {"target_ids": ["t1"]}, [("target_id", "t1")]) is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", f"/api/v1/campaigns/{SANDBOX}/targets", {"targets": []}),
        ("POST", f"/api/v1/campaigns/{SANDBOX}/calls", {"target_ids": ["t1"]}),
        ("POST", f"/api/v1/campaigns/{SANDBOX}/calls", {}),  # the discovery probe
        ("DELETE", f"/api/v1/campaigns/{SANDBOX}/targets", {"target_ids": ["t1"]}),
        ("POST", f"/api/v1/campaigns/{SANDBOX}/targets/t1/step/f", {}),
        ("PATCH", "/api/v1/targets/t1", {"input_data": {}}),  # the run's own target
        ("POST", "/api/v1/campaigns/sandbox%2D7/webhooks/rerun-failed", {}),  # percent-encoded
        ("POST", EHR, {"event_type": "appointment_cancelled", "target_id": "t1"}),
        ("POST", EHR, {"event_type": "appointment_cancelled", "external_id": "RUN-1"}),
        # New targets' external ids (the targets' own and their patients') are being created.
        ("POST", ADD, {"targets": [{"external_id": "NEW", "patient": {"external_id": "NEW"}}]}),
    ],
)
def test_a_sandboxed_run_sends_writes_to_its_campaign_and_targets(
    method: str, path: str, body: Any
) -> None:
    assert policy(sandbox=SANDBOX, created=dict(OWN)).refusal(method, path, body) is None


SENT = {"targets": [{"phone_number": "+15550100", "external_id": "RUN-1"}, {"phone_number": "1"}]}


@pytest.mark.parametrize(
    ("answer", "created"),
    [
        (
            {
                "targets": [{"id": "a", "external_id": "RUN-1"}, {"id": "b"}],
                "existing": [{"id": FOREIGN, "external_id": FOREIGN_EXTERNAL}],
                "target_ids": [FOREIGN],
                "ignored": {"target_id": FOREIGN},
            },
            {"a": "RUN-1", "b": None},
        ),
        # More targets than the request sent: nothing the run can tell it made.
        ({"targets": [{"id": "a"}, {"id": "b"}, {"id": FOREIGN}]}, {}),
        # A target of another campaign, an external id the run did not send.
        (
            {"targets": [{"id": FOREIGN, "campaign_id": "other"}, {"id": "b", "external_id": "X"}]},
            {"b": None},
        ),
        ({"targets": [{"id": 5}, {"id": ""}, "c"]}, {}),
        ([{"id": FOREIGN}], {}),
        ("ok", {}),
    ],
)
def test_created_targets_are_the_answer_s_targets_only(
    answer: Any, created: dict[str, str | None]
) -> None:
    assert created_targets(SENT, answer, SANDBOX) == created


def test_learn_adds_the_sandbox_targets_created_and_forgets_the_deleted() -> None:
    p = policy(sandbox=SANDBOX)
    p.learn("POST", "/api/v1/campaigns/other/targets", SENT, 200, {"targets": [{"id": "x"}]})
    p.learn("POST", ADD, SENT, 422, {"targets": [{"id": "y"}]})
    p.learn("POST", ADD, SENT, 200, {"targets": [{"id": "t1", "external_id": "RUN-1"}]})
    p.learn("POST", ADD, SENT, 200, {"targets": [{"id": "t2"}], "existing": [{"id": FOREIGN}]})
    assert p.created == {"t1": "RUN-1", "t2": None}
    p.learn("DELETE", ADD, {"target_ids": ["t1"]}, 200, {})
    assert p.created == {"t2": None}


# -- against a malicious endpoint: it is no mock, but its control paths redirect to one, and
# its add-targets answers name targets of someone else -------------------------------------


class Decoy:
    """A server that answers as a mock's control API and records every request it gets."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((request.method, request.path_qs))
        if request.path == "/__mock/snapshots":
            return web.json_response({"snapshot": "s1"})
        return web.json_response({"service": SERVICE, "status": "ok", "campaigns": []})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


class FakeReal:
    """An endpoint that is not a prosper-voice-mock: answers anything, records every request;
    a path under ``redirected`` answers ``302`` to the same path on ``redirect_to``, and an
    add-targets answer names, besides the targets created, one the run never made."""

    def __init__(self, redirect_to: str = "", redirected: str = "/__mock") -> None:
        self.redirect_to = redirect_to
        self.redirected = redirected
        self.seen: list[tuple[str, str, Any]] = []
        self.created: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        if request.path.startswith(self.redirected) and self.redirect_to:
            raise web.HTTPFound(self.redirect_to + request.path_qs)
        body = await request.json() if request.can_read_body else None
        self.seen.append((request.method, request.path_qs, body))
        if request.method == "POST" and request.path.endswith("/targets"):
            ids = [f"t{len(self.created) + i}" for i in range(2)]
            self.created += ids
            return web.json_response(
                {
                    "targets": [{"id": i} for i in ids],
                    "existing": [{"id": FOREIGN, "external_id": FOREIGN_EXTERNAL}],
                    "target_ids": [FOREIGN],
                }
            )
        return web.json_response({})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    def writes(self) -> list[tuple[str, str, Any]]:
        return [s for s in self.seen if s[0] != "GET"]


def serving(app: web.Application) -> MockServer:
    """``app`` on a free loopback port, in a background thread."""
    return MockServer(app_factory=lambda _world, **_: app)


def run_suites(pytester: pytest.Pytester, fake: FakeReal, *extra: str) -> pytest.RunResult:
    with serving(fake.app()) as server:
        return pytester.runpytest(
            "--pyargs",
            "prosper_contracts",
            "-p",
            "no:randomly",
            "--prosper-examples",
            "6",
            "--prosper-base-url",
            server.base_url,
            *extra,
        )


@pytest.mark.usefixtures("quiet_pytester")
def test_no_write_reaches_an_endpoint_that_is_not_the_mock_without_the_options(
    pytester: pytest.Pytester,
) -> None:
    decoy = Decoy()
    with serving(decoy.app()) as mock:
        fake = FakeReal(redirect_to=mock.base_url)
        result = run_suites(pytester, fake, "--prosper-negative")
    assert fake.seen, "the suites sent nothing at all"
    assert fake.writes() == [], fake.writes()[:5]
    assert decoy.seen == [], decoy.seen[:5]  # no redirect was followed
    said = (
        "http://127.0.0.1:*/__mock/health answered a redirect (302 to "
        f"{mock.base_url}/__mock/health): not taken for a mock; no redirect is followed"
    )
    result.stdout.fnmatch_lines(
        [f"prosper contract {said}", "*not a prosper-voice-mock (read-only)*", said]
    )


@pytest.mark.usefixtures("quiet_pytester")
def test_with_the_options_writes_reach_only_the_sandbox_and_the_run_s_own_targets(
    pytester: pytest.Pytester,
) -> None:
    fake = FakeReal()
    result = run_suites(
        pytester,
        fake,
        "--prosper-negative",
        "--prosper-allow-writes",
        "--prosper-sandbox-campaign",
        SANDBOX,
        "-k",
        "spec_conformance or discovery",
    )
    writes = fake.writes()
    assert writes, result.stdout.str()[-2000:]
    for method, path, body in writes:
        # The endpoint named FOREIGN in every add-targets answer: no write names it back.
        assert FOREIGN not in json.dumps([path, body]), (method, path, body)
        assert FOREIGN_EXTERNAL not in json.dumps([path, body]), (method, path, body)
        assert path.startswith((f"/api/v1/campaigns/{SANDBOX}/", "/api/v1/targets/")), path
        parts = path.split("?")[0].split("/")
        if "targets" in parts[5:6] and len(parts) > 6:  # .../targets/{target_id}/step/...
            assert parts[6] in fake.created, (method, path)
        if path.startswith("/api/v1/targets/"):
            assert parts[4] in fake.created, (method, path)
        if isinstance(body, dict) and isinstance(body.get("target_ids"), list):
            assert set(map(str, body["target_ids"])) <= set(fake.created), (method, path, body)
            assert body.get("count") is None
        if "/ehr-event/" in path and isinstance(body, dict):
            assert body.get("target_id") in fake.created, (method, path, body)
    assert {m for m, _, _ in writes} >= {"POST", "DELETE"}
    assert any("/ehr-event/" in path for _, path, _ in writes)
    assert ("POST", f"/api/v1/campaigns/{SANDBOX}/calls", {}) in writes  # the launch probe
    result.stdout.fnmatch_lines([f"*writes only to campaign '{SANDBOX}'*"])


def test_the_guarded_session_refuses_before_sending() -> None:
    session = GuardedSession(policy(), "http://192.0.2.1:9/base")
    with pytest.raises(WriteRefused, match="only with --allow-writes"):
        session.post("http://192.0.2.1:9/base/api/v1/campaigns/c/targets", json={}, timeout=1)
    with pytest.raises(WriteRefused, match="not the endpoint under test"):
        session.get("http://127.0.0.1:9/base/api/v1/health", timeout=1)
    local = GuardedSession(policy(), "http://127.0.0.1:9/base")
    with pytest.raises(requests.ConnectionError):  # a read is sent (and finds nothing here)
        local.get("http://127.0.0.1:9/base/api/v1/health", timeout=1)


def test_the_guarded_session_never_follows_a_redirect() -> None:
    decoy = Decoy()
    with serving(decoy.app()) as elsewhere:
        fake = FakeReal(redirect_to=elsewhere.base_url, redirected="/")
        with serving(fake.app()) as server:
            p = policy(sandbox=SANDBOX, created=dict(OWN))
            session = GuardedSession(p, server.base_url)
            url = server.base_url + "/api/v1/campaigns/" + SANDBOX
            read = session.get(url + "/targets", timeout=5)
            write = session.post(url + "/calls", json={"target_ids": ["t1"]}, timeout=5)
            asked = session.request("GET", url + "/targets", allow_redirects=True, timeout=5)
    assert [r.status_code for r in (read, write, asked)] == [302, 302, 302]
    assert decoy.seen == []


def contract(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prosper_mock", "contract", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--allow-writes"], "--allow-writes needs --sandbox-campaign ID"),
        (["--sandbox-campaign", "c"], "--sandbox-campaign needs --allow-writes"),
    ],
)
def test_the_command_refuses_writes_without_a_sandbox(args: list[str], message: str) -> None:
    done = contract("--base-url", "http://127.0.0.1:9", *args)
    assert done.returncode == 2
    assert message in done.stderr


@pytest.mark.usefixtures("quiet_pytester")
def test_pytest_refuses_writes_without_a_sandbox(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--pyargs", "prosper_contracts", "-p", "no:randomly", "--prosper-allow-writes"
    )
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*--allow-writes needs --sandbox-campaign ID*"])


ENVIRONMENTS = [
    {},
    {"HTTP_PROXY": "http://proxy.test:3128", "HTTPS_PROXY": "http://proxy.test:3129"},
    {"HTTP_PROXY": "http://proxy.test:3128", "NO_PROXY": "192.0.2.1"},
    {"REQUESTS_CA_BUNDLE": "/etc/bundle.pem"},
    {"CURL_CA_BUNDLE": "/etc/curl.pem"},
]


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda e: ",".join(e) or "none")
@pytest.mark.parametrize("verify", [None, True, False, "/own.pem"])
def test_the_guarded_session_applies_the_environment_as_requests_does(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], verify: Any
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    for url in ("http://192.0.2.1:9/base/api/v1/health", "https://192.0.2.1/api/v1/health"):
        session = GuardedSession(policy(), url)
        plain = requests.Session()
        for _ in range(2):  # the first lookup and the kept one
            for given in (None, {}, {"http": "http://given.test:1"}):
                ours = session.merge_environment_settings(url, _copy(given), None, verify, None)
                theirs = plain.merge_environment_settings(url, _copy(given), None, verify, None)
                assert ours == theirs, (url, given)


def _copy(proxies: dict[str, str] | None) -> dict[str, str] | None:
    return None if proxies is None else dict(proxies)


def test_the_guarded_session_reads_the_environment_once_per_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://first.test:1")
    session = GuardedSession(policy(), "http://192.0.2.1:9/base")
    first = session.merge_environment_settings("http://192.0.2.1:9/base/a", {}, None, None, None)
    monkeypatch.setenv("HTTP_PROXY", "http://second.test:2")
    kept = session.merge_environment_settings("http://192.0.2.1:9/base/b", {}, None, None, None)
    other = session.merge_environment_settings("http://192.0.2.2:9/c", {}, None, None, None)
    assert first["proxies"]["http"] == kept["proxies"]["http"] == "http://first.test:1"
    assert other["proxies"]["http"] == "http://second.test:2"


def test_the_guarded_session_sends_through_the_environments_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        seen.append(request.headers["Host"] + request.path)
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    with serving(app) as proxy:
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        session = GuardedSession(policy(), "http://192.0.2.1:9/base")
        answers = [
            session.get("http://192.0.2.1:9/base/api/v1/health", timeout=5) for _ in range(2)
        ]
    assert [a.status_code for a in answers] == [200, 200]
    assert seen == ["192.0.2.1:9/base/api/v1/health"] * 2
