"""Answers reused per query while the world is unchanged: the same bytes, every step still run."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from prosper_mock import MockServer, World, WorldRecipe
from prosper_mock.serving.answers import MAX_QUERY_BYTES, AnswerCache, Answered
from prosper_mock.serving.operations import calls
from prosper_mock.world.clock import VirtualClock
from prosper_mock.world.lookup import Found, LiveCallQuery, NotFound, NothingToLookUp
from prosper_mock.world.simulation import Simulation

Q = "/api/v1/live-calls"


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[LiveCallQuery]:
    """Every lookup the operation makes (a reused answer makes none)."""
    made: list[LiveCallQuery] = []
    find = calls.find_call

    def counted(world: World, query: LiveCallQuery) -> Found | NotFound | NothingToLookUp:
        made.append(query)
        return find(world, query)

    monkeypatch.setattr(calls, "find_call", counted)
    return made


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(World.generate(WorldRecipe(seed=1, live_calls=2, call_logs=8))) as server:
        yield server


def exchange(mock: MockServer, target: str, fault: str | None = None) -> bytes:
    """Everything the server sends for ``GET target`` (the Date header cut out)."""
    extra = f"X-Mock-Fault: {fault}\r\n" if fault else ""
    with socket.create_connection(("127.0.0.1", mock.port), timeout=5) as sock:
        request = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n"
        sock.sendall(request.encode())
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    lines = b"".join(chunks).split(b"\r\n")
    return b"\r\n".join(line for line in lines if not line.lower().startswith(b"date:"))


@pytest.mark.parametrize(
    "query",
    [
        "call_log_id=1003",
        "user_phone_number=nobody",
        "call_log_id=abc",
        "call_log_id=1&call_log_id=x",
        "key=k",
        "",
    ],
)
def test_a_query_asked_again_gets_the_same_bytes_without_a_second_lookup(
    mock: MockServer, lookups: list[LiveCallQuery], query: str
) -> None:
    first = exchange(mock, f"{Q}?{query}")
    made = len(lookups)
    assert exchange(mock, f"{Q}?{query}") == first == exchange(mock, f"{Q}?{query}")
    assert len(lookups) == made <= 1
    assert len(mock.state.journal) == 3  # every request journalled, reused or not


def test_every_change_to_the_world_is_seen_at_once(mock: MockServer) -> None:
    url = mock.url(f"{Q}?call_log_id=1003")
    assert requests.get(url, timeout=5).status_code == 200
    mock.state.driver.delete_call_log(1003)
    assert requests.get(url, timeout=5).status_code == 404
    mock.state.driver.reset()
    assert requests.get(url, timeout=5).status_code == 200


def test_a_swapped_world_is_served_at_once(mock: MockServer) -> None:
    url = mock.url(f"{Q}?call_log_id=1003")
    assert requests.get(url, timeout=5).status_code == 200
    mock.state.swap_world(World.generate(WorldRecipe(seed=1, live_calls=0, call_logs=1)))
    assert requests.get(url, timeout=5).status_code == 404


def test_calls_the_simulation_starts_as_the_clock_moves_are_found() -> None:
    world = World.generate(
        WorldRecipe(seed=2, live_calls=1, call_logs=3), clock=VirtualClock("2026-01-15T15:00:00Z")
    )
    simulation = Simulation(world, seed=2, rate=60, start=world.clock.now())

    def source(i: int) -> str | None:  # where the world holds call i now
        found = calls.find_call(world, LiveCallQuery(call_log_id=i))
        return found.source if isinstance(found, Found) else None

    with MockServer(world) as mock:
        mock.state.attach_simulation(simulation)
        urls = {i: mock.url(f"{Q}?call_log_id={i}") for i in range(1000, 1200)}

        def served() -> dict[int, str | None]:
            answers = {i: requests.get(url, timeout=5) for i, url in urls.items()}
            return {i: r.json()["source"] if r.ok else None for i, r in answers.items()}

        before = served()
        assert before == {i: source(i) for i in urls}
        mock.state.move_clock(600)  # ten minutes: calls start, move on and end
        after = served()
        assert after == {i: source(i) for i in urls} != before


def test_faults_apply_to_a_reused_answer(mock: MockServer) -> None:
    target = f"{Q}?call_log_id=1003"
    whole = exchange(mock, target)
    truncated = exchange(mock, target, "truncate=20")
    assert truncated.startswith(whole.partition(b"\r\n\r\n")[0])
    assert len(truncated.partition(b"\r\n\r\n")[2]) == 20
    assert exchange(mock, target, "status=503").startswith(b"HTTP/1.1 503")
    assert exchange(mock, target, "slow=1") == whole
    assert exchange(mock, target, "drop") == b""
    # A 422 is the validation's answer: faults that shape an answer leave it whole, as before.
    invalid = f"{Q}?call_log_id=abc"
    assert exchange(mock, invalid, "truncate=5") == exchange(mock, invalid)
    assert [e.status for e in mock.state.journal] == [200, 200, 503, 200, 0, 422, 422]


def test_an_operation_of_the_caller_answers_every_time() -> None:
    ran: list[dict[str, Any]] = []

    async def operation(request: Any, params: dict[str, Any], state: Any) -> NotFound:
        ran.append(params)
        return NotFound()

    op = {"get_live_call_api_v1_live_calls_get": operation}
    with MockServer(World.generate(WorldRecipe(live_calls=1, call_logs=1)), operations=op) as s:
        for _ in range(3):
            assert requests.get(s.url(f"{Q}?call_log_id=5"), timeout=5).status_code == 404
    assert len(ran) == 3


def test_the_cache_keeps_short_queries_for_one_world_version() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    cache = AnswerCache(max_answers=2)
    answered = Answered(200, b"{}", operated=True)
    answers = cache.answers(world)
    cache.keep(answers, b"a=1", answered)
    cache.keep(answers, b"x" * (MAX_QUERY_BYTES + 1), answered)  # a one-off: not kept
    assert cache.answers(world) == {b"a=1": answered}
    cache.keep(answers, b"a=2", answered)
    cache.keep(answers, b"a=3", answered)  # full: started afresh
    assert cache.answers(world) == {b"a=3": answered}
    world.delete_call_log(next(iter(world.call_logs)).call_log_id)
    assert cache.answers(world) == {}
    assert cache.answers(World.generate(WorldRecipe(live_calls=1, call_logs=1))) == {}
