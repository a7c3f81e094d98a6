"""The contract suite is itself tested: it passes on the mock and fails, naming the broken
rule, on each deliberately broken server."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from prosper_contracts.answers import operation_for
from prosper_mock import MockServer, World, WorldRecipe, create_app
from prosper_mock.control.client import ControlClient
from prosper_mock.serving.operations import OPERATIONS
from tests.broken_servers import BROKEN, OP
from tests.broken_workflow import BROKEN_WORKFLOW
from tests.redisserver import RedisServer

pytestmark = pytest.mark.usefixtures("quiet_pytester")
ARGS = ["--pyargs", "prosper_contracts", "-p", "no:randomly", "--prosper-examples", "25"]


def contract_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``prosper-mock contract ARGS`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "prosper_mock", "contract", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )


def replacing(operation: str, implementation: Any) -> Any:
    """An app factory: the mock with one operation's implementation replaced."""

    def factory(world: World, **kw: Any) -> web.Application:
        return create_app(world, operations={**OPERATIONS, operation: implementation}, **kw)

    return factory


def small_world() -> World:
    return World.generate(WorldRecipe(seed=2, live_calls=6, call_logs=30))


# Passing runs need fewer examples than the runs that must find a broken rule: the mock's
# own answers are fuzzed at length by tests/test_fuzz.py and the benchmarks' fuzz run.
PASSING = ["--prosper-examples", "4"]


def test_suite_passes_on_the_mock(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(*ARGS, *PASSING)
    result.assert_outcomes(passed=9)
    result.stdout.fnmatch_lines(["*prosper-voice-mock*", "every rule held"])


def test_suite_passes_on_a_running_mock_recognised_by_its_control_api(
    pytester: pytest.Pytester,
) -> None:
    with MockServer(small_world()) as server:
        before = server.world.dump()
        result = pytester.runpytest(*ARGS, *PASSING, "--prosper-base-url", server.base_url)
        result.assert_outcomes(passed=9)  # the model-based tests included
        result.stdout.fnmatch_lines([f"target: {server.base_url} (prosper-voice-mock)"])
        assert server.world.dump() == before  # the suite restored the world it changed


def test_read_only_checks_of_a_running_mock_look_up_calls_its_world_has(
    pytester: pytest.Pytester,
) -> None:
    # Ids far from the default layout's 1000: the known calls come from the mock's health answer.
    world = World.generate(WorldRecipe(seed=2, live_calls=3, call_logs=5, first_id=70_000))
    with MockServer(world) as server:
        result = pytester.runpytest(
            *ARGS, "--prosper-base-url", server.base_url, "-k", "lookups_from_an_answer"
        )
        result.assert_outcomes(passed=1)
        asked = {e.params.get("call_log_id") for e in server.state.journal.entries()}
        found = {
            e.params.get("call_log_id") for e in server.state.journal.entries() if e.status == 200
        }
        assert {"70000", "70001", "70002"} <= asked & found


@pytest.mark.parametrize(
    ("name", "implementation", "rule", "catcher"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_suite_fails_on_each_broken_server(
    pytester: pytest.Pytester, name: str, implementation: object, rule: str, catcher: str
) -> None:
    with MockServer(small_world(), app_factory=replacing(OP, implementation)) as server:
        # The test that catches this break, and only the broken operation against the spec.
        result = pytester.runpytest(
            *ARGS, "--prosper-base-url", server.base_url, "--prosper-operation", OP, "-k", catcher
        )
    assert result.ret == 1, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines([f"*[[]{rule}]*", "*reproduce: curl -sS -i *"])


@pytest.mark.parametrize(
    ("name", "operation", "implementation", "rule"),
    BROKEN_WORKFLOW,
    ids=[b[0] for b in BROKEN_WORKFLOW],
)
def test_suite_fails_on_each_broken_operation_naming_the_rule_across_operations(
    pytester: pytest.Pytester, name: str, operation: str, implementation: object, rule: str
) -> None:
    with MockServer(small_world(), app_factory=replacing(operation, implementation)) as server:
        result = pytester.runpytest(*ARGS, "--prosper-base-url", server.base_url, "-k", "workflow")
    assert result.ret == 1, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines([f"*[[]{rule}]*", "*reproduce: curl -sS -i *"])


def test_cli_against_a_server_that_is_not_the_mock(tmp_path: Path) -> None:
    """Any other server: read-only checks, a JUnit file and the discovery report; exit 1 here
    because this stand-in answers 422 where the mock's decisions say 400."""

    async def stand_in(request: web.Request) -> web.Response:
        if "call_log_id" in request.query and request.query["call_log_id"].isdigit():
            return web.json_response({"detail": "Live call not found"}, status=404)
        return web.json_response(
            {
                "detail": [
                    {"type": "missing", "loc": ["query"], "msg": "Field required", "input": None}
                ]
            },
            status=422,
        )

    app = web.Application()
    app.router.add_get("/api/v1/live-calls", stand_in)
    with MockServer(app_factory=lambda _world, **_: app) as server:
        junit, report = tmp_path / "out.xml", tmp_path / "discovery.md"
        done = contract_cli(
            "--base-url",
            server.base_url,
            "--junit-xml",
            str(junit),
            "--discovery-report",
            str(report),
            "--examples",
            "20",
            # as with the contracts extra alone: no pytest-asyncio to know its ini options
            env={**os.environ, "PYTEST_ADDOPTS": "-p no:asyncio"},
        )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    assert "PytestConfigWarning" not in done.stdout + done.stderr  # its own ini is all known
    assert "not a prosper-voice-mock (read-only)" in done.stdout
    assert "needs a prosper-voice-mock" in done.stdout  # the model-based test says why it skipped
    # Not a mock, though on loopback (it could be a proxy to the real API): valid requests only.
    assert "only with --negative" in done.stdout
    suites = {s.get("name"): s for s in ET.parse(junit).getroot()}
    operations = suites["prosper-contract.operations"].findall("testcase")
    assert {c.get("name") for c in operations} >= {"GET /api/v1/live-calls", "GET /api/v1/health"}
    ran = [c.get("name") for c in suites["prosper-contract.suites"].findall("testcase")]
    assert len(ran) == 10 and ran[-1] == "verdict"  # the nine suites, and why the run failed
    text = report.read_text()
    assert "| no parameters | nothing to look up | `422" in text
    assert "prosper-mock serve --missing-lookup-status 422" in text
    assert "--not-found-detail 'Live call not found'" in text


def test_api_key_is_never_shown_and_never_sent_in_clear_to_remote_hosts(tmp_path: Path) -> None:
    secret = "sk-test-0123456789abcdef"
    env = {"PATH": "/usr/bin:/bin", "PROSPER_API_KEY": secret, "HOME": str(tmp_path)}
    refused = contract_cli("--base-url", "http://192.0.2.1:9", env=env)
    assert refused.returncode == 2
    assert "refusing to send the API key over plain http" in refused.stdout + refused.stderr
    _name, implementation, _rule, catcher = BROKEN[0]
    with MockServer(small_world(), app_factory=replacing(OP, implementation)) as server:
        junit = tmp_path / "out.xml"
        done = contract_cli(
            "--base-url", server.base_url, "--junit-xml", str(junit), "--examples", "10",
            "--operation", OP, "-k", catcher, env=env,
        )  # fmt: skip
        keyed = [e for e in server.state.journal.entries()]
    assert done.returncode == 1
    assert keyed, "requests reached the server"
    everything = done.stdout + done.stderr + junit.read_text()
    assert secret not in everything
    assert '-H "X-Api-Key: $PROSPER_API_KEY"' in done.stdout


def _spec_queries(pytester: pytest.Pytester, server: MockServer, *extra: str) -> list[tuple]:
    server.state.clear_journal()
    result = pytester.runpytest(
        *ARGS,
        "--prosper-examples",
        "8",
        "--prosper-base-url",
        server.base_url,
        "-k",
        "test_spec_conformance",
        "--prosper-operation",
        OP,
        *extra,
    )
    result.assert_outcomes(passed=2)
    return [e.query for e in server.state.journal.entries()]


def test_seed_chooses_the_generated_requests(pytester: pytest.Pytester) -> None:
    """Derandomised by default (every run sends the same requests); --prosper-hypothesis-seed N
    sends the same requests for the same N and others for another N."""
    with MockServer(small_world()) as server:
        default = _spec_queries(pytester, server)
        assert default == _spec_queries(pytester, server)
        seeded = _spec_queries(pytester, server, "--prosper-hypothesis-seed", "7")
        assert seeded == _spec_queries(pytester, server, "--prosper-hypothesis-seed", "7")
        assert seeded != _spec_queries(pytester, server, "--prosper-hypothesis-seed", "8")
        assert seeded != default
    assert default and seeded


def test_operation_chooses_what_the_spec_suite_sends(pytester: pytest.Pytester) -> None:
    with MockServer(small_world()) as server:
        for name in ("GET /api/v1/health", "health_check_api_v1_health_get"):
            server.state.clear_journal()
            result = pytester.runpytest(
                *ARGS, "--prosper-base-url", server.base_url, "-k", "test_spec_conformance",
                "--prosper-operation", name, "--prosper-examples", "3",
            )  # fmt: skip
            result.assert_outcomes(passed=2)
            assert {e.path for e in server.state.journal.entries()} == {"/api/v1/health"}


@pytest.mark.parametrize("where", ["pytest", "command"])
def test_an_unknown_operation_is_a_usage_error_listing_the_operations(
    pytester: pytest.Pytester, where: str
) -> None:
    if where == "pytest":
        result = pytester.runpytest(*ARGS, "--prosper-operation", "GET /api/v1/nope")
        ret, text = result.ret, result.stdout.str() + result.stderr.str()
    else:
        done = contract_cli("--operation", "get_nothing")
        ret, text = done.returncode, done.stdout + done.stderr
    assert ret == 2, text[-2000:]
    assert "is not an operation of the spec" in text
    assert "GET /api/v1/live-calls" in text and "Traceback" not in text


def test_invalid_requests_reach_a_non_mock_target_only_when_asked(
    pytester: pytest.Pytester,
) -> None:
    """A target without the control API gets positive mode only, unless --prosper-negative."""
    with MockServer(small_world(), control=False) as server:
        args = [*ARGS, "--prosper-base-url", server.base_url, "-k", "test_spec_conformance",
                "--prosper-operation", OP]  # fmt: skip
        result = pytester.runpytest(*args, "-rs")
        result.assert_outcomes(passed=1, skipped=1)
        result.stdout.fnmatch_lines(["*not a prosper-voice-mock (read-only)*"])
        result = pytester.runpytest(*args, "--prosper-negative")
        result.assert_outcomes(passed=2)


def test_a_contract_run_leaves_a_running_mock_exactly_as_it_was() -> None:
    from prosper_mock import VirtualClock
    from prosper_mock.control.client import ControlClient

    clock = VirtualClock("2026-01-15T15:00:00+00:00")
    world = World.generate(WorldRecipe(seed=2, live_calls=6, call_logs=30), clock=clock)
    seeded = small_world().dump()
    with MockServer(world) as server:
        control = ControlClient(server.base_url)
        added = control.start_call(user_phone_number="+15550009999")["call"]["call_log_id"]
        control.set_faults([{"faults": "latency=1", "match": {"user_phone_number": "+19990000"}}])
        before = (
            control.dump(),
            server.state.faults.to_dict(),
            control.clock(),
            world.loaded,
            world.origin,
        )
        result = contract_cli("--base-url", server.base_url, "--examples", "1")
        assert result.returncode == 0, result.stdout[-3000:]
        after = (
            control.dump(),
            server.state.faults.to_dict(),
            control.clock(),
            world.loaded,
            world.origin,
        )
        assert after == before
        control.reset()  # the reset baseline is the seeded world still, not the run's
        assert control.dump() == seeded
        assert added not in {r["call_log_id"] for r in control.dump()["live_calls"]}


def _closed_port() -> int:
    """A loopback port nobody listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (None, "connection refused"),
        ("http://", "bad URL: no host"),
        ("127.0.0.1:9", "bad URL: it must start with http:// or https://"),
        ("ftp://127.0.0.1:9", "bad URL: it must start with http:// or https://"),
        ("http://127.0.0.1:99999", "bad URL: Port out of range"),
    ],
)
def test_a_base_url_that_cannot_be_reached_is_one_line_and_exit_2(
    url: str | None, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from prosper_mock import cli

    url = url or f"http://127.0.0.1:{_closed_port()}"

    def ran(*_args: object) -> None:
        raise AssertionError("the suites ran against an endpoint that cannot be reached")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pytest, "main", ran)
        assert cli.main(["contract", "--base-url", url]) == 2
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and out == "", err
    assert err.startswith(f"prosper-mock: error: cannot reach {url}: {why}")


def test_a_mock_that_wants_a_control_token_is_said_to_have_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROSPER_MOCK_CONTROL_TOKEN"}
    with MockServer(small_world(), control_token="s3cret-token") as server:
        done = contract_cli("--base-url", server.base_url, "-k", "fallback", env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    refused = (
        "the mock's control API refused (401): put its control token in "
        "$PROSPER_MOCK_CONTROL_TOKEN to run the model-based checks"
    )
    assert f"read-only: {refused}" in done.stdout
    assert "s3cret-token" not in done.stdout + done.stderr


def _reproductions(output: str) -> dict[str, str]:
    """Each finding's first line -> its reproduce command, from a run's summary."""
    found: dict[str, str] = {}
    lines = output.rsplit(" prosper contract run ", 1)[-1].splitlines()
    for before, line in pairwise(lines):
        if line.startswith("    reproduce: "):
            found[before.strip()] = line.removeprefix("    reproduce: ")
    return found


def test_a_mock_injecting_drops_and_server_errors_fails_with_findings_that_reproduce(
    tmp_path: Path,
) -> None:
    """Every fault a finding naming its operation, whose curl gets the same fault again; no
    traceback; no word that every rule held; a JUnit test case per operation."""
    with MockServer(small_world()) as server:
        ControlClient(server.base_url).set_faults(
            [
                # two of the discovery suite's probes, which every run sends
                {"faults": "drop", "match": {"call_log_id": "2147483000"}},
                {"faults": "status=500", "match": {"user_phone_number": "+10000000000"}},
                {"faults": "drop", "probability": 0.03},
                {"faults": "status=503", "probability": 0.05},
            ]
        )
        junit = tmp_path / "out.xml"
        done = contract_cli(
            "--base-url", server.base_url, "--examples", "1", "--junit-xml", str(junit),
            # the model-based suites stop at their first fault (tests/contracts/test_runner.py)
            "-k", "not fallback and not lifecycle",
        )  # fmt: skip
        faulted = {  # each request a fault hit, and how: once however often it was sent
            (e.method, e.path, e.raw_query, e.body, e.status)
            for e in server.state.journal.entries()
            if e.producer == "fault"
        }
        out = done.stdout + done.stderr
        assert done.returncode == 1, out[-3000:]
        assert "Traceback" not in out and "every rule held" not in out
        assert "faults: the mock injects faults by 4 fault rules: drop at 100% when" in out
        assert "verdict: FAILED" in out
        shown = _reproductions(done.stdout)
        drop = next(c for c in shown.values() if "call_log_id=2147483000" in c)
        error = next(c for c in shown.values() if "user_phone_number=%2B10000000000" in c)
        resent = subprocess.run(drop, shell=True, capture_output=True, text=True, timeout=30)
        assert resent.returncode == 52, resent  # curl: (52) Empty reply from server
        resent = subprocess.run(error, shell=True, capture_output=True, text=True, timeout=30)
        assert resent.stdout.startswith("HTTP/1.1 500"), resent.stdout[:300]
    assert all(f.startswith(("GET ", "POST ", "PATCH ", "DELETE ")) for f in shown)
    # every request a fault hit is a finding (not one per operation and message): the
    # summary, the verdict and the table's findings column say as many
    summary = done.stdout.rsplit(" prosper contract run ", 1)[-1]
    by_rule = [int(n) for n in re.findall(r"^\[\S+\] (\d+) findings? on ", summary, re.M)]
    made = re.search(r"^verdict: FAILED: (\d+) findings? of ", summary, re.M)
    rows = [TABLE_ROW.match(line) for line in summary.splitlines()]
    column = [int(r["findings"]) for r in rows if r is not None]
    assert made is not None and int(made[1]) == sum(by_rule) == sum(column), summary[-4000:]
    assert sum(column) == len(faulted), summary[-4000:]
    suites = {s.get("name"): s for s in ET.parse(junit).getroot()}
    cases = suites["prosper-contract.operations"].findall("testcase")
    assert len(cases) == 16
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert "GET /api/v1/live-calls" in failed


def test_a_mock_with_several_workers_is_checked_read_only_and_fails_as_incomplete() -> None:
    from tests.clirun import serve

    with serve(["--workers", "2", "--quiet", "--call-logs", "40"]) as served:
        done = contract_cli("--base-url", served.base_url, "--examples", "1")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]
    assert "verdict: FAILED: incomplete: the mock refuses changes" in out
    assert "every rule held" not in out
    assert "Traceback" not in out and "ControlError" not in out
    assert f"target: {served.base_url} (prosper-voice-mock, read-only)" in out
    assert "read-only: the mock refuses changes (409: it runs several worker processes" in out
    assert "suite test_fallback_semantics: skipped" in out
    assert "or its workers with --store (one shared world), to check it fully" in out


def test_a_mock_whose_workers_share_a_store_is_checked_fully(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    """Several workers serving one world from a store accept changes: every suite runs
    against them, the model-based ones included, and the run passes as a full check."""
    from tests.clirun import serve

    store = ["--store", redis_server.url, "--store-namespace", redis_namespace]
    with serve(["--workers", "2", "--quiet", "--call-logs", "40", *store]) as served:
        done = contract_cli("--base-url", served.base_url, "--examples", "1")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert f"target: {served.base_url} (prosper-voice-mock)" in out
    assert "read-only" not in out and "Traceback" not in out
    assert "suite test_fallback_semantics: passed" in out
    assert "verdict: passed" in out


def test_a_coverage_below_the_minimum_fails_the_run(pytester: pytest.Pytester) -> None:
    args = [*ARGS, "-k", "spec_conformance", "--prosper-operation", "GET /api/v1/health"]
    result = pytester.runpytest(*args, "--prosper-examples", "2", "--prosper-min-coverage", "50")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "coverage: 33.3% of documented statuses answered (1 of 3, *",
            "verdict: FAILED: coverage 33.3% is below --min-coverage 50",
            "GET /api/v1/health * 200:* 0",
        ]
    )
    assert pytester.runpytest(*args, "--prosper-min-coverage", "33").ret == 0


def test_a_mocks_stubs_are_said_up_front(pytester: pytest.Pytester) -> None:
    with MockServer(small_world()) as server:
        control = ControlClient(server.base_url)
        control.add_stub(method="GET", path="/api/v1/health", status=200, body={"status": "ok"})
        args = [*ARGS, "--prosper-base-url", server.base_url, "-k", "lookups_from_an_answer"]
        result = pytester.runpytest(*args)
        assert len(control.stubs()) == 1  # said, not removed
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "prosper contract stubs: the mock answers by 1 stub before its world: "
            "GET /api/v1/health -> 200; their answers are judged like any other *",
        ]
    )


def test_clear_faults_runs_without_the_mocks_rules_and_puts_them_back(
    pytester: pytest.Pytester,
) -> None:
    with MockServer(small_world()) as server:
        control = ControlClient(server.base_url)
        rules = [{"faults": "drop", "probability": 1.0, "match": {}}]
        control.set_faults(rules)
        args = [*ARGS, "--prosper-base-url", server.base_url, "-k", "lookups_from_an_answer"]
        result = pytester.runpytest(*args, "--prosper-clear-faults")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["*the mock's 1 fault rule cleared for the run*"])
        assert control.faults()["rules"][0]["faults"] == ["drop"]
        result = pytester.runpytest(*args)
        assert result.ret == 1
        # each lookup dropped is a finding of its own, all on the one operation
        result.stdout.fnmatch_lines(["[[]complete-answer] * findings on 1 operation*"])


TABLE_ROW = re.compile(
    r"^(?P<op>[A-Z]+ /\S*)\s+(?P<sent>\d+)\s+(?P<answers>.*?)\s+(?P<findings>\d+)$"
)


def _tables(output: str) -> tuple[dict[str, Counter[str]], dict[str, Counter[str]]]:
    """The run's tables, operation -> status -> requests: the endpoint under test's, and the
    suites' own mocks'."""
    tables: dict[str, dict[str, Counter[str]]] = {"endpoint": {}, "own": {}}
    current = None
    for line in output.rsplit(" prosper contract run ", 1)[-1].splitlines():
        if line.startswith("requests to the endpoint under test"):
            current = tables["endpoint"]
        elif line.startswith("requests to the mocks the suites started for themselves"):
            current = tables["own"]
        elif current is not None and (row := TABLE_ROW.match(line)):
            answers = Counter(
                {s: int(n) for s, n in re.findall(r"(no answer|\d+):(\d+)", row["answers"])}
            )
            assert sum(answers.values()) == int(row["sent"]), line
            if answers:
                current[row["op"]] = answers
    return tables["endpoint"], tables["own"]


def _journalled(*servers: MockServer, cleared: Any = None) -> dict[str, Counter[str]]:
    """What the servers' journals list, operation -> status -> requests (and what ``cleared``,
    journal id -> entries, kept of what a reset cleared)."""
    found: dict[str, Counter[str]] = {}
    for server in servers:
        journal = server.state.journal
        for entry in [*(cleared or {}).get(id(journal), []), *journal.entries()]:
            spec = operation_for(entry.method, entry.path)
            label = spec.label if spec is not None else f"{entry.method} {entry.path}"
            found.setdefault(label, Counter())[str(entry.status)] += 1
    return found


def _total(counts: Iterable[Counter[str]]) -> int:
    return sum(sum(c.values()) for c in counts)


def test_the_table_counts_what_the_mocks_journal_lists_and_the_suites_own_mocks_apart(
    tmp_path: Path,
) -> None:
    """Against a mock the test started: each operation's requests and answers in the table
    are what the mock's journal lists for the run, and the JUnit file says the same; the
    requests the lifecycle suite sent to the mock it starts for itself are a table apart."""
    junit = tmp_path / "out.xml"
    with MockServer(small_world()) as server:
        done = contract_cli(
            "--base-url", server.base_url, "--examples", "2", "--junit-xml", str(junit)
        )
        journalled = _journalled(server)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    endpoint, own = _tables(done.stdout)
    assert endpoint == journalled
    sent = _total(journalled.values())
    assert f"{sent} requests sent to the endpoint under test" in done.stdout
    elsewhere = _total(own.values())
    assert re.search(
        rf"\n{elsewhere} requests sent to the suites' own mocks \(.*test_workflow_lifecycle: "
        rf"[1-9]\d*.*\); {sent + elsewhere} in all\n",
        done.stdout,
    ), done.stdout[-2000:]
    suites = {s.get("name"): s for s in ET.parse(junit).getroot()}
    operations = suites["prosper-contract.operations"]
    values = {p.get("name"): p.get("value") for p in operations.iter("property")}
    assert (values["requests"], values["requests_to_own_mocks"]) == (str(sent), str(elsewhere))
    for case in operations.findall("testcase"):
        counted = sum(journalled.get(str(case.get("name")), Counter()).values())
        assert case.findtext("system-out", "").startswith(f"{counted} request"), case.get("name")


def test_a_default_run_counts_every_request_each_mock_answered(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The in-process run: the session's mock is the endpoint under test, and its table is
    that mock's journal; the fallback and lifecycle suites' own mocks are counted apart, as
    their journals list them, so the run's total is every request sent."""
    from prosper_mock.serving.journal import Journal

    started: list[MockServer] = []
    start, clear = MockServer.start, Journal.clear
    cleared: dict[int, list[Any]] = {}  # a suite's reset clears its mock's journal: kept here

    def recorded(server: MockServer) -> MockServer:
        started.append(server)
        return start(server)

    def keeping(journal: Journal, through: int | None = None) -> None:
        kept = [e for e in journal.entries() if through is None or e.seq <= through]
        cleared.setdefault(id(journal), []).extend(kept)
        clear(journal, through)

    monkeypatch.setattr(MockServer, "start", recorded)
    monkeypatch.setattr(Journal, "clear", keeping)
    result = pytester.runpytest(*ARGS, *PASSING)
    output = result.stdout.str()
    assert result.ret == 0, output[-3000:]
    endpoint, *own_mocks = started  # the session's mock starts before any suite
    assert len(own_mocks) >= 3  # the discovery, fallback and lifecycle suites', at least
    assert f"target: {endpoint.base_url} (prosper-voice-mock)" in output
    counted, own = _tables(output)
    assert counted == _journalled(endpoint, cleared=cleared)
    # a suite that sends a request to its own mock outside the run's session (Target.get,
    # Target.request) leaves it uncounted and unjudged: it fails here
    assert own == _journalled(*own_mocks, cleared=cleared)
    assert own["GET /api/v1/live-calls"].total() > counted["GET /api/v1/live-calls"].total()
    everything = _total(_journalled(*started, cleared=cleared).values())
    assert re.search(rf"requests sent to the suites' own mocks \(.*\); {everything} in all", output)
