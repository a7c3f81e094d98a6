"""The control guard's pieces that need no socket (the rest: test_control.py, over sockets)."""

from __future__ import annotations

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
