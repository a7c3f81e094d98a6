"""``serve --store redis://...``: replicas and workers serving one world from a real
``redis-server``, as users run them (``prosper-mock serve`` processes on loopback ports)."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock.serving.runtime import SHARED_TICK_SECONDS
from tests.clirun import Served, one_line_error, run, serve
from tests.redisserver import RedisServer

CAMPAIGN = "53e92788-1132-4a51-99dd-0c2bea0fc377"  # seed 0's first campaign
TARGETS = f"/api/v1/campaigns/{CAMPAIGN}/targets"


def _store_args(server: RedisServer, namespace: str, *more: str) -> list[str]:
    return ["--quiet", "--store", server.url, "--store-namespace", namespace, *more]


@contextlib.contextmanager
def _mocks(server: RedisServer, namespace: str, *more: str) -> Iterator[list[Served]]:
    """Two replicas and a ``--workers 2`` mock on one Redis namespace."""
    args = _store_args(server, namespace, *more)
    with (
        serve(args) as first,
        serve(args) as second,
        serve([*args, "--workers", "2"]) as workers,
    ):
        yield [first, second, workers]


def _read_everywhere(mocks: list[Served], path: str) -> set[bytes]:
    """``path`` read through every process: the workers' mock on 8 new connections, which
    the kernel spreads over its two workers."""
    bodies = set()
    for mock in mocks:
        for _ in range(8 if mock is mocks[-1] else 1):
            bodies.add(requests.get(mock.url(path), timeout=10).content)
    return bodies


@dataclass
class Sent:
    """The API requests a test sent (the journal must list each once)."""

    api: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, method: str, url: str, **kwargs: object) -> requests.Response:
        answer = requests.request(method, url, timeout=30, **kwargs)  # type: ignore[arg-type]
        if "/api/" in url:
            with self.lock:
                self.api += 1
        return answer


def test_writes_through_any_process_leave_every_process_answering_alike(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    send = Sent()
    with _mocks(redis_server, redis_namespace, "--virtual-clock") as mocks:
        first, second, workers = mocks
        added = send(
            "POST",
            first.url(TARGETS),
            json={"targets": [{"phone_number": "+15125550100"}, {"phone_number": "+1512555"}]},
        )
        assert added.status_code == 200, added.text
        target = added.json()["targets"][0]["id"]
        calls = workers.url(f"/api/v1/campaigns/{CAMPAIGN}/calls")
        launched = send("POST", calls, json={"target_ids": [target]})
        assert launched.status_code == 200, launched.text
        started = [
            send("POST", mock.url("/__mock/live-calls"), json={}).json()["call"]["call_log_id"]
            for mock in (workers, second, workers)
        ]
        assert len(set(started)) == 3  # never an id twice, whichever process issued it
        ended = send("POST", second.url(f"/__mock/live-calls/{started[0]}/end"), json={})
        assert ended.ok, ended.text
        moved = send("POST", workers.url("/__mock/clock/advance"), json={"seconds": 900})
        assert moved.ok, moved.text
        rule = {"rules": [{"faults": "status=503", "match": {"user_phone_number": "+1999"}}]}
        assert send("PUT", second.url("/__mock/faults"), json=rule).ok
        reads = [
            f"{TARGETS}?limit=100",
            "/api/v1/call-logs?limit=20",
            f"/api/v1/live-calls?call_log_id={started[1]}",
            f"/api/v1/call-logs/{started[0]}",
            "/__mock/clock",
            "/__mock/faults",
            "/__mock/world",
        ]
        for path in reads:
            send.api += ("/api/" in path and 10) or 0  # each is read through 10 connections
            assert len(_read_everywhere(mocks, path)) == 1, path
        status = requests.get(first.url(f"/api/v1/targets/{target}"), timeout=10).json()["status"]
        send.api += 1
        assert status not in ("Pending", "Scheduled")  # launched, and ended by the clock move
        journals = _read_everywhere(mocks, "/__mock/journal?limit=1000")
        assert len(journals) == 1
        entries = json.loads(journals.pop())["entries"]
        assert [entry["seq"] for entry in entries] == list(range(1, len(entries) + 1))
        assert len(entries) == send.api, [(e["method"], e["path"], e["query"]) for e in entries]


def test_a_late_replica_catches_up_before_it_serves(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    args = _store_args(redis_server, redis_namespace)
    with serve(args) as first:
        for _ in range(3):
            assert requests.post(first.url("/__mock/call-logs"), json={}, timeout=10).ok
        before = requests.get(first.url("/api/v1/call-logs?limit=5"), timeout=10).content
        with serve(args) as late:
            assert requests.get(late.url("/api/v1/call-logs?limit=5"), timeout=10).content == before


def _kill_during_writes(victim_args: list[str], survivor: Served, rounds: int) -> list[list[str]]:
    """Start a replica ``rounds`` times and SIGKILL it while clients write through it; the
    phone numbers of every add-targets request it acknowledged."""
    acknowledged: list[list[str]] = []
    draw = random.Random(7)
    for round_ in range(rounds):
        with serve(victim_args) as victim:
            stop = threading.Event()

            def write(
                client: int, mock: Served = victim, stop: threading.Event = stop, at: int = round_
            ) -> None:
                n = 0
                while not stop.is_set():
                    n += 1
                    phones = [f"+1{at:03d}{client:02d}{n:05d}{k}" for k in "01"]
                    body = {"targets": [{"phone_number": p} for p in phones]}
                    try:
                        answer = requests.post(mock.url(TARGETS), json=body, timeout=10)
                    except requests.RequestException:
                        return  # killed: what was not answered was not acknowledged
                    if answer.status_code == 200:
                        acknowledged.append(phones)

            threads = [threading.Thread(target=write, args=(i,)) for i in range(3)]
            for thread in threads:
                thread.start()
            time.sleep(0.2 + draw.random() * 0.4)
            os.kill(victim.process.pid, signal.SIGKILL)
            stop.set()
            for thread in threads:
                thread.join(15)
    return acknowledged


def _phones(mock: Served) -> list[str]:
    found, page = [], 0
    while True:
        answer = requests.get(mock.url(f"{TARGETS}?limit=100&page={page}"), timeout=10).json()
        found += [target["phone_number"] for target in answer["targets"]]
        if answer["next_page"] is None:
            return found
        page += 1


def test_a_replica_killed_mid_write_loses_nothing_it_acknowledged(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    rounds = int(os.environ.get("PROSPER_MOCK_KILL_ROUNDS", "4"))
    args = _store_args(redis_server, redis_namespace)
    with serve(args) as survivor:
        acknowledged = _kill_during_writes(args, survivor, rounds)
        held = set(_phones(survivor))
    assert len(acknowledged) >= rounds
    lost = [pair for pair in acknowledged if not set(pair) <= held]
    assert lost == []
    # All or nothing: no request's targets are there in part.
    added = {phone[:-1] for phone in held if phone and len(phone) == len(acknowledged[0][0])}
    half = [prefix for prefix in added if len({prefix + "0", prefix + "1"} & held) != 2]
    assert half == []


def _load(mocks: list[Served], seconds: float) -> tuple[dict[int, int], list[int]]:
    """Reads and writes through every process for ``seconds``: statuses seen, and the ids of
    the live calls whose start was acknowledged."""
    statuses: dict[int, int] = {}
    started: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(mock: Served) -> None:
        session, n = requests.Session(), 0
        while time.monotonic() < deadline:
            n += 1
            if n % 3:
                answer = session.get(mock.url("/api/v1/call-logs?limit=3"), timeout=10)
            else:
                answer = session.post(mock.url("/__mock/live-calls"), json={}, timeout=10)
                if answer.status_code == 201:
                    with lock:
                        started.append(answer.json()["call"]["call_log_id"])
            with lock:
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

    threads = [threading.Thread(target=client, args=(mock,)) for mock in mocks for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    return statuses, started


def test_redis_lost_under_load_answers_503_and_recovers_by_itself(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as server:
        args = _store_args(server, "lost")
        with serve(args) as first, serve(args) as second:
            mocks = [first, second]
            outage = threading.Timer(1.0, server.stop)
            back = threading.Timer(2.5, server.start)  # empty: it kept nothing
            outage.start()
            back.start()
            statuses, started = _load(mocks, 5.0)
            back.join()
            time.sleep(2.5)  # beats: the processes give the world back to the empty Redis
            after = requests.post(first.url("/__mock/live-calls"), json={}, timeout=10)
            assert after.status_code == 201, after.text
            assert set(statuses) <= {200, 201, 503}, statuses
            assert statuses.get(503) and statuses.get(201) and statuses.get(200)
            for mock in mocks:
                for call_log_id in [*started, after.json()["call"]["call_log_id"]]:
                    found = requests.get(
                        mock.url(f"/api/v1/live-calls?call_log_id={call_log_id}"), timeout=10
                    )
                    assert found.status_code == 200, (call_log_id, found.text)
            assert len(_read_everywhere(mocks, "/__mock/world")) == 1
            refused = next(
                line for mock in mocks for line in mock.stderr if "cannot be used" in line
            )
            assert "Traceback" not in "".join(first.stderr + second.stderr), refused


def test_a_store_that_cannot_be_reached_is_one_line_and_exit_2() -> None:
    from tests.redisserver import free_port

    line = one_line_error(run(["serve", "--store", f"redis://:s3cret@127.0.0.1:{free_port()}/0"]))
    assert "cannot be used" in line and "***" in line and "s3cret" not in line


def test_a_password_is_never_printed(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis", password="s3cret-pw") as server:
        wrong = server.url.replace("s3cret-pw", "nope")
        line = one_line_error(run(["serve", "--store", wrong]))
        assert "nope" not in line and "***" in line
        env = {"PROSPER_MOCK_STORE": server.url}
        with serve(["--quiet"], env=env) as served:
            assert requests.get(served.url("/api/v1/health"), timeout=10).ok
        banner = "\n".join(served.stderr)
        assert "shared on redis://:***@127.0.0.1" in banner and "s3cret-pw" not in banner


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--store-namespace", "x y"], "--store-namespace"),
        (["--state-file", "no/such/folder/state.json"], "folder no/such/folder does not exist"),
    ],
    ids=["namespace", "state-file-folder"],
)
def test_what_a_shared_store_cannot_take_is_refused(
    redis_server: RedisServer, args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.clirun import main_error

    assert says in main_error(["serve", "--store", redis_server.url, *args], capsys)


def test_workers_without_a_store_name_it_when_they_refuse_a_write() -> None:
    with serve(["--workers", "2", "--quiet"]) as served:
        refused = requests.post(served.url("/__mock/live-calls"), json={}, timeout=10)
        assert refused.status_code == 409 and "--store redis://" in refused.json()["detail"]


def test_the_pytest_plugin_drives_a_shared_mock_through_any_process(
    redis_server: RedisServer, redis_namespace: str, pytester: pytest.Pytester
) -> None:
    from tests.test_plugin import REMOTE_TESTS

    world = ["--seed", "4", "--live-calls", "3", "--call-logs", "5", "--virtual-clock"]
    with serve([*_store_args(redis_server, redis_namespace, *world), "--workers", "2"]) as mock:
        pytester.makepyfile(REMOTE_TESTS)
        result = pytester.runpytest("-p", "no:randomly", "-rs", "--prosper-base-url", mock.base_url)
        result.assert_outcomes(passed=3, skipped=1)
        assert requests.get(mock.url("/__mock/faults"), timeout=10).json() == {"rules": []}


def test_the_contract_suites_snapshot_and_restore_a_shared_mock(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    with serve([*_store_args(redis_server, redis_namespace), "--workers", "2"]) as mock:
        before = requests.get(mock.url("/__mock/world"), timeout=10).content
        done = run(["contract", "--base-url", mock.base_url, "-k", "lifecycle"], timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]
        assert "suite test_workflow_lifecycle: passed" in done.stdout
        assert requests.get(mock.url("/__mock/world"), timeout=10).content == before


@pytest.fixture(scope="module")
def shared_and_single(redis_server: RedisServer) -> Iterator[tuple[list[Served], Served]]:
    """Two replicas and a ``--workers 2`` mock on one namespace, and beside them a single
    in-memory mock of the same world: the reference."""
    world = ["--virtual-clock", "--live-calls", "5", "--call-logs", "8"]
    with (
        _mocks(redis_server, "property", *world) as mocks,
        serve(["--quiet", *world]) as single,
    ):
        yield mocks, single


WRITES: list[tuple[str, Callable[[int], str], Callable[[int], object]]] = [
    ("POST", lambda n: "/__mock/live-calls", lambda n: {"user_phone_number": f"+1555{n:07d}"}),
    ("PATCH", lambda n: f"/__mock/live-calls/{1000 + n % 40}/variables", lambda n: {"v": n}),
    ("POST", lambda n: f"/__mock/live-calls/{1000 + n % 40}/end", lambda n: {}),
    ("POST", lambda n: "/__mock/call-logs", lambda n: {}),
    ("DELETE", lambda n: f"/__mock/call-logs/{1000 + n % 40}", lambda n: None),
    ("POST", lambda n: TARGETS, lambda n: {"targets": [{"phone_number": f"+1666{n:07d}"}]}),
    ("POST", lambda n: f"/api/v1/campaigns/{CAMPAIGN}/calls", lambda n: {"count": 1 + n % 3}),
    ("POST", lambda n: "/__mock/clock/advance", lambda n: {"seconds": 60 * (1 + n % 30)}),
    ("PUT", lambda n: "/__mock/faults", lambda n: {"rules": [{"faults": f"latency={n % 5}"}]}),
    ("POST", lambda n: "/__mock/reset", lambda n: None),
]


def _unversioned(answer: requests.Response) -> object:
    """An answer's JSON without the world's version (a reset answers its counts with it):
    a shared store counts the log's changes, a single mock its own."""
    found = answer.json() if answer.content else None
    if isinstance(found, dict):
        found.pop("version", None)
    return found


@settings(max_examples=6, deadline=None)
@given(
    plan=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, len(WRITES) - 1), st.integers(0, 10**6)),
        min_size=1,
        max_size=12,
    )
)
def test_random_writes_through_any_process_equal_one_in_memory_mock(
    shared_and_single: tuple[list[Served], Served], plan: list[tuple[int, int, int]]
) -> None:
    mocks, single = shared_and_single
    processes = [*mocks, mocks[-1]]  # the workers' mock twice: its connections spread
    for mock in (mocks[0], single):
        assert requests.post(mock.url("/__mock/reset"), timeout=10).ok
    for which, kind, n in plan:
        method, path, body = WRITES[kind]
        answers = [
            requests.request(method, mock.url(path(n)), json=body(n), timeout=30)
            for mock in (processes[which], single)
        ]
        assert answers[0].status_code == answers[1].status_code, (path(n), answers[0].text)
        assert _unversioned(answers[0]) == _unversioned(answers[1])
    # What a write made due at once (a call placed at its target's opening) is played by the
    # single mock's next read, and on a shared store by the lead process's tick within 0.1 s
    # (kit decision 44): compare once a tick has passed.
    time.sleep(2 * SHARED_TICK_SECONDS)
    for path in ("/__mock/world", "/__mock/clock", "/__mock/faults", f"{TARGETS}?limit=100"):
        answers = _read_everywhere(mocks, path) | _read_everywhere([single], path)
        assert len(answers) == 1, path


def test_a_stub_answers_its_times_across_all_processes(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    stub = {
        "id": "once", "method": "GET", "path": "/api/v1/targets/{target_id}", "times": 2,
        "status": 503, "body": {"detail": "Service Unavailable"},
    }  # fmt: skip
    with _mocks(redis_server, redis_namespace) as mocks:
        assert requests.post(mocks[0].url("/__mock/stubs"), json=stub, timeout=10).ok
        statuses = [
            requests.get(mock.url("/api/v1/targets/nope"), timeout=10).status_code
            for mock in [*mocks, *mocks]
        ]
        assert statuses.count(503) == 2 and statuses[:2] == [503, 503]
        assert set(statuses[2:]) == {404}  # the world answers once the stub is used up
        assert _read_everywhere(mocks, "/__mock/stubs") == {b'{"stubs":[]}'}


def test_replicas_find_a_sentinel_managed_redis_through_its_sentinel(tmp_path: Path) -> None:
    from tests.redisserver import RedisSentinel

    with (
        RedisServer(tmp_path / "master", password="pw-9") as master,
        RedisSentinel(tmp_path / "sentinel", master) as sentinel,
    ):
        args = ["--quiet", "--store", sentinel.url]
        with serve(args) as first, serve(args) as second:
            added = requests.post(first.url("/__mock/call-logs"), json={}, timeout=10)
            call_log_id = added.json()["call_log"]["id"]
            found = requests.get(second.url(f"/api/v1/call-logs/{call_log_id}"), timeout=10)
            assert found.status_code == 200
        banner = "\n".join(first.stderr)
        assert "shared on redis+sentinel://:***@127.0.0.1:" in banner and "pw-9" not in banner


def _simulated_calls(mock: Served) -> dict[str, bytes]:
    """What a simulation changes, read through ``mock``."""
    paths = ("/api/v1/call-logs?limit=100", "/__mock/world", "/__mock/clock")
    return {path: requests.get(mock.url(path), timeout=10).content for path in paths}


def test_a_simulation_moved_through_any_process_plays_once_as_one_process_would(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    """``--simulate --virtual-clock``: each clock move, through whichever process, plays the
    schedule once, where the last move left it: every process then answers as one in-memory
    mock given the same moves."""
    world = [
        "--virtual-clock",
        "--simulate",
        "--rate",
        "30",
        "--live-calls",
        "4",
        "--call-logs",
        "8",
    ]
    with (
        _mocks(redis_server, redis_namespace, *world) as mocks,
        serve(["--quiet", *world]) as single,
    ):
        movers = [*mocks, mocks[0], mocks[2]]
        for mover in [*movers, *[single] * len(movers)]:
            moved = requests.post(
                mover.url("/__mock/clock/advance"), json={"seconds": 45}, timeout=30
            )
            assert moved.ok, moved.text
        expected = _simulated_calls(single)
        logs = json.loads(expected["/api/v1/call-logs?limit=100"])["call_logs"]
        assert len(logs) > 8 + 10  # the simulation started and ended calls
        for mock in mocks:
            for _ in range(4 if mock is mocks[-1] else 1):
                assert _simulated_calls(mock) == expected


def _start_times(mock: Served) -> list[float]:
    """When each call of ``mock``'s world started (a simulated world: every call is one)."""
    world = requests.get(mock.url("/__mock/world"), timeout=10).json()
    return sorted(
        datetime.fromisoformat(row["started_at"]).timestamp() for row in world["live_calls"]
    )


def test_a_simulation_on_the_system_clock_goes_on_where_a_killed_lead_left_it(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    """The lead plays the simulation; SIGKILLed, the process that takes the lease over goes
    on with the same schedule: each call starts once, on time, whoever played it."""
    rate = 600  # a call every 0.1 s, started at k * 0.1 s plus a seeded jitter below 0.05 s
    interval = 60 / rate
    world = ["--simulate", "--rate", str(rate), "--live-calls", "0", "--call-logs", "0"]
    args = _store_args(redis_server, redis_namespace, *world)
    with serve(args) as lead:
        _until(lambda: len(_start_times(lead)) >= 10)
        with serve(args) as other:
            time.sleep(0.5)
            os.kill(lead.process.pid, signal.SIGKILL)
            at_kill = len(_start_times(other))
            # The lease runs out, the other process leads and plays what fell due meanwhile.
            _until(lambda: len(_start_times(other)) >= at_kill + 50, timeout=20)
            starts = _start_times(other)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # One schedule: no call started twice (two schedules would interleave), none skipped.
    assert min(gaps) > interval * 0.5 - 0.002, gaps
    assert max(gaps) < interval * 1.5 + 0.002, gaps


def _until(done: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_state_file_beside_a_shared_store_outlives_a_store_that_lost_the_world(
    tmp_path: Path,
) -> None:
    """``--state-file`` with ``--store``: the first worker of a ``serve`` keeps the file a copy
    of the shared world, whichever process wrote; everything stopped and Redis restarted
    empty, the next ``serve`` seeds the store from the file; a store that holds a world keeps
    it."""
    state = tmp_path / "state.json"
    reads = [f"{TARGETS}?limit=100", "/__mock/clock", "/__mock/faults", "/__mock/stubs"]
    reads += ["/__mock/world"]
    with RedisServer(tmp_path / "redis") as redis:
        args = _store_args(redis, "kept", "--virtual-clock")
        with (
            serve([*args, "--workers", "2", "--state-file", str(state)]) as kept,
            serve(args) as other,
        ):
            phones = {"targets": [{"phone_number": "+15125550111"}]}
            assert requests.post(other.url(TARGETS), json=phones, timeout=10).ok
            assert requests.post(kept.url("/__mock/live-calls"), json={}, timeout=10).ok
            moved = requests.post(other.url("/__mock/clock/advance"), json={"seconds": 90})
            assert moved.ok
            rule = {"rules": [{"faults": "status=503", "match": {"user_phone_number": "+19"}}]}
            assert requests.put(other.url("/__mock/faults"), json=rule, timeout=10).ok
            seen = {path: requests.get(kept.url(path), timeout=10).content for path in reads}
        assert json.loads(seen["/__mock/faults"])["rules"]  # the fault rule is there to keep
        redis.stop()
        redis.start()  # empty: no persistence
        with serve([*args, "--state-file", str(state)]) as back:
            assert "the store seeded from" in "\n".join(back.stderr)
            for path in reads:
                assert requests.get(back.url(path), timeout=10).content == seen[path], path
            assert requests.post(back.url("/__mock/call-logs"), json={}, timeout=10).ok
            later = requests.get(back.url("/__mock/world"), timeout=10).content
        with serve([*args, "--state-file", str(tmp_path / "other.json")]) as again:
            assert "the store's world kept (version" in "\n".join(again.stderr)
            assert requests.get(again.url("/__mock/world"), timeout=10).content == later
        assert (tmp_path / "other.json").exists()  # a copy of the store's world now


def test_a_state_file_beside_a_shared_store_that_cannot_be_written_refuses_no_write(
    tmp_path: Path, redis_server: RedisServer, redis_namespace: str
) -> None:
    """The store holds a write first: a copy that cannot be written says so once, the write
    stands, and the file is written whole again at the next change it can take."""
    folder = tmp_path / "kept"
    folder.mkdir()
    state = folder / "state.json"
    args = _store_args(redis_server, redis_namespace, "--state-file", str(state))
    with serve(args) as mock:
        state.unlink()
        folder.rmdir()  # the file cannot be written now
        added = requests.post(mock.url("/__mock/live-calls"), json={}, timeout=10)
        assert added.status_code == 201, added.text
        folder.mkdir()
        assert requests.post(mock.url("/__mock/live-calls"), json={}, timeout=10).ok
        world = requests.get(mock.url("/__mock/world"), timeout=10).json()
    errors = [line for line in mock.stderr if "could not be written" in line]
    assert len(errors) == 1 and "written whole at the next change" in errors[0]
    assert any("is written again" in line for line in mock.stderr)
    from prosper_mock.world.persistence import read_state

    stored = read_state(state)["changes"]["live_calls"]
    assert {row["call_log_id"] for row in world["live_calls"]} >= {int(i) for i in stored}
    assert len([i for i, row in stored.items() if row is not None]) >= 2


def test_a_replayed_recording_and_a_loaded_world_are_served_alike_by_every_process(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    """What the proxy records (a world file, ``fixtures/world.json``'s format) replays on a
    shared store as on one process: each process builds it as its base, writes through
    ``ControlClient`` reach all; a world loaded through one process is served by all."""
    from prosper_mock.control.client import ControlClient
    from tests.conftest import FIXTURE_WORLD

    args = _store_args(redis_server, redis_namespace, "--world", str(FIXTURE_WORLD))
    with serve(args) as first, serve([*args, "--workers", "2"]) as workers:
        mocks = [first, workers]
        one, other = ControlClient(first.base_url), ControlClient(workers.base_url)
        started = one.start_call(user_phone_number="+15550009999")["call"]["call_log_id"]
        other.end_call(started)
        assert len(_read_everywhere(mocks, f"/api/v1/call-logs/{started}")) == 1
        recorded = json.loads(FIXTURE_WORLD.read_text())
        assert len(_read_everywhere(mocks, "/__mock/world")) == 1
        recorded["live_calls"] = recorded["live_calls"][:1]
        other.load(recorded)
        worlds = _read_everywhere(mocks, "/__mock/world")
        assert len(worlds) == 1
        assert len(json.loads(worlds.pop())["live_calls"]) == 1
        one.start_call()
        one.reset()  # back to the loaded world (as on one process), everywhere
        worlds = _read_everywhere(mocks, "/__mock/world")
        assert len(worlds) == 1
        assert len(json.loads(worlds.pop())["live_calls"]) == 1
