"""Write safety (``contracts/safety.py``): a target that is not the mock gets reads only,
unless the run allows writes to a sandbox campaign, and then writes reach that campaign only."""

from __future__ import annotations

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
    target_ids_in,
)
from prosper_mock import MockServer

SANDBOX = "sandbox-7"


def policy(**kw: Any) -> WritePolicy:
    return WritePolicy(everything=False, **kw)


def test_reads_always_pass_and_a_mock_gets_everything() -> None:
    assert policy().refusal("GET", "/api/v1/targets/x") is None
    assert WritePolicy(everything=True).refusal("DELETE", "/api/v1/api-keys/1") is None


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
    ],
)
def test_a_sandboxed_run_refuses_writes_outside_its_campaign_and_targets(
    method: str, path: str, body: Any, problem: str
) -> None:
    why = policy(sandbox=SANDBOX, created={"t1"}).refusal(method, path, body)
    assert why is not None and problem in why


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
    ],
)
def test_a_sandboxed_run_sends_writes_to_its_campaign_and_targets(
    method: str, path: str, body: Any
) -> None:
    assert policy(sandbox=SANDBOX, created={"t1"}).refusal(method, path, body) is None


def test_target_ids_in_an_add_targets_answer() -> None:
    answer = {"targets": [{"id": "a"}, {"target_id": 5}], "target_ids": ["b"], "n": {"id": "c"}}
    assert target_ids_in(answer) == {"a", "5", "b", "c"}
    assert target_ids_in("ok") == set()


def test_learn_adds_the_sandbox_targets_created_and_forgets_the_deleted() -> None:
    p = policy(sandbox=SANDBOX)
    path = f"/api/v1/campaigns/{SANDBOX}/targets"
    p.learn("POST", "/api/v1/campaigns/other/targets", None, 200, {"id": "x"})
    p.learn("POST", path, None, 422, {"id": "y"})
    p.learn("POST", path, None, 200, [{"id": "t1"}, {"id": "t2"}])
    assert p.created == {"t1", "t2"}
    p.learn("DELETE", path, {"target_ids": ["t1"]}, 200, {})
    assert p.created == {"t2"}


# -- against a fake real endpoint: it records what arrives and is no mock ----------------


class FakeReal:
    """An endpoint that is not a prosper-voice-mock: answers anything, records every request."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, Any]] = []
        self.created: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.seen.append((request.method, request.path, body))
        if request.method == "POST" and request.path.endswith("/targets"):
            ids = [f"t{len(self.created) + i}" for i in range(2)]
            self.created += ids
            return web.json_response({"targets": [{"id": i} for i in ids]})
        return web.json_response({})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    def writes(self) -> list[tuple[str, str, Any]]:
        return [s for s in self.seen if s[0] != "GET"]


def run_suites(pytester: pytest.Pytester, fake: FakeReal, *extra: str) -> pytest.RunResult:
    app = fake.app()
    with MockServer(app_factory=lambda _world, **_: app) as server:
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
    fake = FakeReal()
    result = run_suites(pytester, fake, "--prosper-negative")
    assert fake.seen, "the suites sent nothing at all"
    assert fake.writes() == [], fake.writes()[:5]
    result.stdout.fnmatch_lines(["*not a prosper-voice-mock (read-only)*"])


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
        assert path.startswith((f"/api/v1/campaigns/{SANDBOX}/", "/api/v1/targets/")), path
        parts = path.split("/")
        if "targets" in parts[5:6] and len(parts) > 6:  # .../targets/{target_id}/step/...
            assert parts[6] in fake.created, (method, path)
        if path.startswith("/api/v1/targets/"):
            assert path.split("/")[4] in fake.created, (method, path)
        if isinstance(body, dict) and isinstance(body.get("target_ids"), list):
            assert set(map(str, body["target_ids"])) <= set(fake.created), (method, path, body)
            assert body.get("count") is None
    assert {m for m, _, _ in writes} >= {"POST"}
    assert ("POST", f"/api/v1/campaigns/{SANDBOX}/calls", {}) in writes  # the launch probe
    result.stdout.fnmatch_lines([f"*writes only to campaign '{SANDBOX}'*"])


def test_the_guarded_session_refuses_before_sending() -> None:
    session = GuardedSession(policy(), "/base")
    with pytest.raises(WriteRefused, match="only with --allow-writes"):
        session.post("http://192.0.2.1:9/base/api/v1/campaigns/c/targets", json={}, timeout=1)
    with pytest.raises(requests.ConnectionError):  # a read is sent (and finds nothing here)
        session.get("http://127.0.0.1:9/base/api/v1/health", timeout=1)


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
