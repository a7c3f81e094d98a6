"""The control guard's pieces that need no socket (the rest: test_control.py, over sockets)."""

from __future__ import annotations

import json

import pytest

from prosper_mock.control.guard import BodyError, size_text, split_host


@pytest.mark.parametrize(
    ("host", "parts"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("localhost", ("localhost", None)),
        ("[::1]:9000", ("[::1]", 9000)),
        ("::1", ("::1", None)),  # a bare IPv6 address has no port
        ("example.test:http", ("example.test:http", None)),
    ],
)
def test_split_host(host: str, parts: tuple[str, int | None]) -> None:
    assert split_host(host) == parts


def test_size_text() -> None:
    assert [size_text(n) for n in (1 << 20, 256 * 1024, 3 << 30, 1000, 1536)] == [
        "1 MiB",
        "256 KiB",
        "3 GiB",
        "1000 bytes",
        "1536 bytes",
    ]


def test_a_body_refused_midway_closes_the_connection() -> None:
    refused = BodyError(413, "too big", close=True).response()
    assert refused.status == 413 and refused.keep_alive is False
    kept = BodyError(422, "bad").response()
    assert kept.status == 422 and kept.keep_alive is not False


def test_a_large_body_is_parsed_and_checked_beside_the_loop_as_a_small_one_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio
    import json
    import threading
    from unittest import mock

    from aiohttp import StreamReader
    from aiohttp.test_utils import make_mocked_request
    from pydantic import TypeAdapter

    from prosper_mock.control import guard
    from prosper_mock.serving.bodies import OFF_LOOP_BYTES

    threads: list[str] = []
    checked = guard._checked

    def recorded(raw: bytes, rule: guard.BodyRule, in_slices: bool = False) -> dict[str, object]:
        threads.append(threading.current_thread().name)
        return checked(raw, rule, in_slices)

    monkeypatch.setattr(guard, "_checked", recorded)
    rule = guard.BodyRule(TypeAdapter(dict[str, list[int]]), True, 10 * OFF_LOOP_BYTES)

    async def read(body: bytes) -> dict[str, object] | str:
        protocol = mock.Mock(_reading_paused=False)
        stream = StreamReader(protocol, 2**16, loop=asyncio.get_running_loop())
        stream.feed_data(body)
        stream.feed_eof()
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        request = make_mocked_request("PUT", "/__mock/world", headers=headers, payload=stream)
        try:
            return await guard.read_body(request, rule)
        except BodyError as exc:
            return str(exc)

    large = {"rows": list(range(OFF_LOOP_BYTES // 4))}
    assert asyncio.run(read(json.dumps(large).encode())) == large
    assert threads[-1] != threading.current_thread().name  # beside the loop
    bad = {"rows": ["x", *range(OFF_LOOP_BYTES // 4)]}
    small_bad = asyncio.run(read(json.dumps({"rows": ["x"]}).encode()))
    assert threads[-1] == threading.current_thread().name  # small: at once
    assert asyncio.run(read(json.dumps(bad).encode())) == small_bad  # the same refusal


def test_a_large_world_is_checked_a_slice_of_rows_at_a_time_to_the_same_verdict() -> None:
    from pydantic import TypeAdapter

    from prosper_mock.control import guard
    from prosper_mock.control.bodies import WorldBody
    from prosper_mock.serving.bodies import SLICE_ITEMS
    from prosper_mock.world.generate import WorldRecipe
    from prosper_mock.world.model import World

    rule = guard.BodyRule(TypeAdapter(WorldBody), True, 2**30, guard.list_fields(WorldBody))
    assert {"live_calls", "call_logs", "campaigns", "targets"} <= set(rule.lists)
    world = World.generate(WorldRecipe(seed=1, live_calls=5, call_logs=SLICE_ITEMS + 200))
    document = world.dump()
    assert len(document["call_logs"]) > SLICE_ITEMS
    assert guard._valid_in_slices(document, rule)
    broken = {**document, "call_logs": [*document["call_logs"]]}
    broken["call_logs"][SLICE_ITEMS + 5] = {**broken["call_logs"][SLICE_ITEMS + 5], "id": "x"}
    assert not guard._valid_in_slices(broken, rule)
    raw = json.dumps(broken).encode()
    with pytest.raises(BodyError) as sliced:
        guard._checked(raw, rule, in_slices=True)
    with pytest.raises(BodyError) as whole:
        guard._checked(raw, rule)
    assert str(sliced.value) == str(whole.value)
