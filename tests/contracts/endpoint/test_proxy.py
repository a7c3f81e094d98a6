"""The validating proxy, over real sockets: stand-in upstreams that break the spec and the rules."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from aiohttp import web

from prosper_contracts.endpoint.proxy import PROXY, ProxyOptions, ViolationLog, create_proxy_app
from prosper_mock import MockServer
from tests.clirun import serve
from tests.serving.test_parity import brotli_stored

KEY = "test-key-Zq8v1"  # what must never show in a log, a summary or a recording
LIVE = "/api/v1/live-calls"
SEEN_KEYS = web.AppKey("seen_keys", list)


def snapshot(call_log_id: object, **extra: object) -> dict[str, object]:
    return {
        "source": "live_calls",
        "call_log_id": call_log_id,
        "user_phone_number": "+1555",
        **extra,
    }


def broken_upstream() -> web.Application:
    """One broken behaviour per ``call_log_id``; records the API key it was sent."""
    seen_keys: list[str | None] = []

    async def handle(request: web.Request) -> web.Response:
        seen_keys.append(request.headers.get("X-Api-Key"))
        cid = request.query.get("call_log_id")
        answers: dict[str | None, web.Response] = {
            "1": web.json_response(snapshot(1, agent_data={"voice": "x"})),
            "2": web.json_response({**snapshot("2"), "source": "elsewhere"}),
            "3": web.json_response([1, 2]),
            "4": web.Response(text="<html>4</html>", content_type="text/html"),
            "5": web.Response(status=500, text="oops"),
            "6": web.json_response(snapshot(7)),
            "8": web.json_response({"detail": [{"msg": "not found"}]}, status=404),
            "abc": web.json_response(snapshot(9)),
            # Shaped like FastAPI's 422, but not what FastAPI answers for call_log_id=xyz.
            "xyz": web.json_response(
                {"detail": [{"type": "missing", "loc": ["query", "key"], "msg": "Field required"}]},
                status=422,
            ),
        }
        if cid in answers:
            return answers[cid]
        if request.query.get("user_phone_number") == "+15550000000":
            body = {"detail": [{"type": "x", "loc": ["query", "user_phone_number"], "msg": "bad"}]}
            return web.json_response(body, status=422)
        return web.json_response(snapshot(int(cid or 0)))

    app = web.Application()
    app[SEEN_KEYS] = seen_keys
    app.router.add_get(LIVE, handle)
    return app


@contextmanager
def proxied(
    upstream_app: web.Application, timeout: float = 5.0
) -> Iterator[tuple[str, str, ViolationLog]]:
    """(proxy URL, upstream URL, the proxy's violations), both served on loopback."""
    with MockServer(app_factory=lambda _w, **_: upstream_app) as upstream:
        options = ProxyOptions(upstream=upstream.base_url, timeout=timeout, api_key=KEY)
        app = create_proxy_app(options)
        with MockServer(app_factory=lambda _w, **_: app) as proxy:
            yield proxy.base_url, upstream.base_url, app[PROXY].violations


CASES = [
    ("call_log_id=1", 200, {"flat-snapshot"}),
    ("call_log_id=2", 200, {"source-valid", "call-log-id-integer", "matches-call-log-id"}),
    ("call_log_id=3", 200, {"response-schema", "flat-snapshot"}),
    ("call_log_id=4", 200, {"response-content-type", "json-content-type", "json-body"}),
    ("call_log_id=5", 500, {"response-status"}),
    ("call_log_id=6", 200, {"matches-call-log-id"}),
    ("call_log_id=8", 404, {"response-schema", "detail-shape"}),
    ("call_log_id=abc", 200, {"fastapi-validation"}),
    ("call_log_id=xyz", 422, {"fastapi-validation"}),
    ("user_phone_number=%2B15550000000", 422, {"fastapi-validation"}),
    ("call_log_id=10", 200, set()),
]


def test_proxy_flags_every_broken_rule_and_passes_answers_unchanged() -> None:
    upstream_app = broken_upstream()
    with proxied(upstream_app) as (base, upstream, violations):
        for query, status, rules in CASES:
            before = len(violations.items)
            answer = requests.get(f"{base}{LIVE}?{query}", timeout=10)
            direct = requests.get(
                f"{upstream}{LIVE}?{query}", headers={"X-Api-Key": KEY}, timeout=10
            )
            assert answer.status_code == status == direct.status_code, query
            assert answer.content == direct.content, query
            assert answer.headers["Content-Type"] == direct.headers["Content-Type"], query
            new = violations.items[before:]
            assert {v.rule for v in new} == rules, (query, [str(v) for v in new])
            for v in new:  # the request that caused it, as curl, against upstream, key hidden
                assert query in v.curl and "$PROSPER_API_KEY" in v.curl and KEY not in v.curl
    assert set(upstream_app[SEEN_KEYS]) == {KEY}  # the key reached upstream every time
    # The client's own invalid requests are notes about the client, not upstream's violations.
    assert [(n.rule, n.curl.split("?")[1][:14]) for n in violations.notes] == [
        ("request-invalid", "call_log_id=ab"),
        ("request-invalid", "call_log_id=xy"),
    ]
    summary = violations.summary()
    assert f"{len(CASES)} request(s), {len(violations.items)} violation(s)" in summary
    assert "[flat-snapshot]" in summary and "[fastapi-validation]" in summary
    assert KEY not in summary


def test_proxy_in_front_of_the_mock_sees_nothing_wrong() -> None:
    with MockServer() as mock:
        app = create_proxy_app(ProxyOptions(upstream=mock.base_url))
        with MockServer(app_factory=lambda _w, **_: app) as proxy:
            live, log = mock.world.live_calls.base.ids[0], mock.world.call_logs.base.ids[0]
            phone = mock.world.call_logs.get(log).user_phone_number
            for params in (
                {"call_log_id": live},
                {"call_log_id": log},
                {"user_phone_number": phone},
                {"call_log_id": "x"},
                {},
                {"call_log_id": 1},
            ):
                via = requests.get(proxy.url(LIVE), params=params, timeout=10)
                direct = requests.get(mock.url(LIVE), params=params, timeout=10)
                assert (via.status_code, via.content) == (direct.status_code, direct.content)
        violations = app[PROXY].violations
    # The client's own invalid request is a note; upstream (the mock) broke nothing.
    assert violations.items == []
    assert [n.rule for n in violations.notes] == ["request-invalid"]


def test_upstream_timeout_is_a_504_not_a_hang() -> None:
    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(1)  # past the proxy's 0.2 s, short enough to stop fast
        return web.json_response({})

    app = web.Application()
    app.router.add_get(LIVE, slow)
    with proxied(app, timeout=0.2) as (base, _, violations):
        answer = requests.get(f"{base}{LIVE}?call_log_id=1", timeout=3)
    assert answer.status_code == 504
    assert answer.json() == {"detail": "upstream did not answer within 0.2 s"}
    assert [v.rule for v in violations.items] == ["upstream-timeout"]


@contextmanager
def raw_upstream(answer: bytes) -> Iterator[str]:
    """A loopback 'upstream' that reads a request and sends ``answer`` as it is, then closes."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # closing it from another thread would not wake accept()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(5)


JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", "Bad status line"),
        (JSON_HEAD + b'Content-Length: 100\r\n\r\n{"a":', "received 5 of 100 bytes"),
        (
            JSON_HEAD + b"Content-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello",
            "decode content-encoding",
        ),
    ],
    ids=["bad status line", "body cut short", "undecodable body"],
)
def test_an_upstream_answering_broken_http_is_a_502_that_says_so(answer: bytes, named: str) -> None:
    with raw_upstream(answer) as upstream:
        app = create_proxy_app(ProxyOptions(upstream=upstream, timeout=3))
        with MockServer(app_factory=lambda _w, **_: app) as proxy:
            first = requests.get(proxy.url(f"{LIVE}?call_log_id=1"), timeout=5)
            again = requests.get(proxy.url(f"{LIVE}?call_log_id=1"), timeout=5)  # still serving
    assert first.status_code == again.status_code == 502
    detail = first.json()["detail"]
    assert detail.startswith("upstream sent an invalid answer: ") and named in detail
    assert "400, message" not in detail  # aiohttp's internal code is not upstream's status
    assert [v.rule for v in app[PROXY].violations.items] == ["upstream-bad-answer"] * 2


def test_unreachable_upstream_is_a_502() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_proxy_app(ProxyOptions(upstream=f"http://127.0.0.1:{port}", timeout=3))
    with MockServer(app_factory=lambda _w, **_: app) as proxy:
        answer = requests.get(proxy.url(f"{LIVE}?call_log_id=1"), timeout=5)
    assert answer.status_code == 502
    assert answer.json()["detail"].startswith("upstream unreachable: ")
    assert [v.rule for v in app[PROXY].violations.items] == ["upstream-unreachable"]


def test_cli_proxy_logs_violations_summarises_at_exit_and_never_shows_the_key(tmp_path) -> None:
    record = tmp_path / "rec.json"
    with MockServer(app_factory=lambda _w, **_: broken_upstream()) as upstream:
        with serve(
            ["--upstream", upstream.base_url, "--record", str(record)],
            env={"PROSPER_API_KEY": KEY},
            command="proxy",
        ) as proxy:
            assert requests.get(proxy.url(f"{LIVE}?call_log_id=1"), timeout=10).status_code == 200
            assert requests.get(proxy.url(f"{LIVE}?call_log_id=10"), timeout=10).status_code == 200
        assert proxy.process.returncode == 1  # violations seen
    text = "\n".join(proxy.stderr)
    assert "[flat-snapshot] object values under ['agent_data']" in text
    assert "2 request(s), 1 violation(s):" in text  # the summary printed at exit
    assert "recorded 2 call(s), pseudonymised" in text
    assert KEY not in text and KEY not in record.read_text()
    assert json.loads(record.read_text())["format"] == "prosper-voice-mock/world@1"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--upstream", "ftp://x"], {}, "--upstream must be an http(s) URL"),
        (["--upstream", "http://example.com"], {"PROSPER_API_KEY": KEY}, "refusing to send"),
        (
            ["--upstream", "http://127.0.0.1:9", "--host", "0.0.0.0"],
            {"PROSPER_API_KEY": KEY},
            "refusing to bind 0.0.0.0",
        ),
        (["--upstream", "http://127.0.0.1:9", "--record-raw"], {}, "--record-raw needs --record"),
        (
            ["--upstream", "http://127.0.0.1:9", "--timeout", "0"],
            {},
            "--timeout: must be a number > 0",
        ),
        (
            ["--upstream", "http://127.0.0.1:9", "--record", "/dev/null/recorded.json"],
            {},
            "--record: cannot write /dev/null/recorded.json",
        ),
    ],
)
def test_cli_proxy_refuses_bad_or_unsafe_options(args, env, message, monkeypatch, capsys) -> None:
    from prosper_mock.cli import main

    monkeypatch.delenv("PROSPER_API_KEY", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main(["proxy", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and KEY not in err


def test_record_raw_warns(tmp_path) -> None:
    with MockServer() as upstream:
        call = upstream.world.live_calls.base.ids[0]
        with serve(
            [
                "--upstream",
                upstream.base_url,
                "--record",
                str(tmp_path / "raw.json"),
                "--record-raw",
            ],
            command="proxy",
        ) as proxy:
            requests.get(proxy.url(f"{LIVE}?call_log_id={call}"), timeout=10)
    text = "\n".join(proxy.stderr)
    assert "WARNING: recording REAL personal data" in text
    assert "recorded 1 call(s), RAW" in text


def test_a_recording_its_file_refuses_at_the_end_is_saved_elsewhere(tmp_path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    with MockServer() as upstream:
        call = upstream.world.live_calls.base.ids[0]
        args = ["--upstream", upstream.base_url, "--record", str(folder / "rec.json")]
        with serve(args, command="proxy") as proxy:
            for leftover in folder.iterdir():
                leftover.unlink()
            folder.rmdir()
            folder.write_text("now a file: the recording cannot go under it")
            answer = requests.get(proxy.url(f"{LIVE}?call_log_id={call}"), timeout=10)
            assert answer.status_code == 200
    assert proxy.process.returncode == 2
    text = "\n".join(proxy.stderr)
    assert "Traceback" not in text
    line = next(t for t in proxy.stderr if "could not be written" in t)
    rescued = Path(line.rsplit("it was saved to ", 1)[1].split(" instead")[0])
    try:
        world = json.loads(rescued.read_text())
        assert [r["call_log_id"] for r in world["live_calls"]] == [call]  # nothing lost
        assert rescued.stat().st_mode & 0o077 == 0  # private, like the file it replaces
    finally:
        rescued.unlink()


def test_an_absolute_form_target_is_a_400_and_never_reaches_the_host_it_names() -> None:
    # uvicorn on h11 (tests/upstream.py) does not route such a target by its path: it answers
    # FastAPI's 404; on httptools it would. The proxy cannot know which upstream runs, so it
    # refuses, in FastAPI's error shape, and connects to neither upstream nor the named host.
    from tests import rawhttp

    victim = socket.create_server(("127.0.0.1", 0))
    victim.setblocking(False)
    named = f"127.0.0.1:{victim.getsockname()[1]}"
    with victim, MockServer() as upstream:
        with serve(["--upstream", upstream.base_url], command="proxy") as proxy:
            host, port = proxy.base_url.removeprefix("http://").split(":")
            for target in (f"http://{named}/steal", f"http://{named}{LIVE}?call_log_id=1"):
                answer = rawhttp.request(host, int(port), target.encode())
                assert answer.status == 400, target
                assert answer.headers["content-type"].startswith("application/json")
                detail = json.loads(answer.body)["detail"]
                assert isinstance(detail, str) and "absolute-form" in detail
                with pytest.raises(BlockingIOError):  # the answer came: any connect came first
                    victim.accept()
            junk = rawhttp.request(host, int(port), b"/x HTTP/1.1 junk")  # a bad request line
            assert junk.status == 400
            assert requests.get(proxy.url(f"{LIVE}?call_log_id=1"), timeout=10).status_code == 404
        assert [e.path for e in upstream.state.journal.entries()] == [LIVE]  # only the last one
    text = "\n".join(proxy.stderr)
    assert "Traceback" not in text
    assert sum("absolute-form" in line for line in proxy.stderr) == 2  # one line each
    assert sum("malformed request" in line for line in proxy.stderr) == 1


def test_a_suite_testing_its_422_handling_through_the_proxy_exits_0() -> None:
    # Upstream is FastAPI itself: its 422 for the client's invalid request is right, so the
    # proxy reports the request as a note and exits 0 (a record-and-replay job must pass).
    from tests.upstream import serve_upstream

    with serve_upstream() as port:
        args = ["--upstream", f"http://127.0.0.1:{port}"]
        with serve(args, command="proxy") as proxy:
            answer = requests.get(proxy.url(f"{LIVE}?call_log_id=abc"), timeout=10)
            assert answer.status_code == 422
    assert proxy.process.returncode == 0, proxy.stderr
    text = "\n".join(proxy.stderr)
    assert "1 request(s), 0 violation(s), 1 note(s)" in text
    assert "[request-invalid] query.call_log_id: Input should be a valid integer" in text


def test_cli_proxy_without_an_api_key_warns_that_upstream_calls_go_without_one() -> None:
    with MockServer() as upstream:
        args = ["--upstream", upstream.base_url, "--api-key-env", "PROSPER_TEST_NO_SUCH_KEY"]
        with serve(args, command="proxy") as proxy:
            started = list(proxy.stderr)
        with serve(
            ["--upstream", upstream.base_url], env={"PROSPER_API_KEY": KEY}, command="proxy"
        ) as keyed:
            keyed_started = list(keyed.stderr)
    warning = (
        "prosper-mock proxy: WARNING: $PROSPER_TEST_NO_SUCH_KEY is not set: "
        "requests go upstream without an API key"
    )
    assert warning in started
    assert not [line for line in keyed_started if "WARNING" in line]
    assert KEY not in "\n".join(keyed.stderr)


TARGETS = "/api/v1/campaigns/c-1/targets"
GOOD_BODY = {"targets": [{"phone_number": "+15550001111"}]}
# (body bytes, FastAPI's status for it): a wrong field type, JSON that does not parse (422
# json_invalid), bytes that do not decode (400).
BODIES = [
    (json.dumps(GOOD_BODY).encode(), 200),
    (json.dumps({"targets": "not a list"}).encode(), 422),
    (b'{"targets": [', 422),
    (b"\x80{}", 400),
]


def test_request_bodies_are_judged_as_the_mock_judges_them() -> None:
    with MockServer() as mock:
        app = create_proxy_app(ProxyOptions(upstream=mock.base_url))
        path = f"/api/v1/campaigns/{mock.world.campaigns()[0].id}/targets"
        with MockServer(app_factory=lambda _w, **_: app) as proxy:
            for body, status in BODIES:
                headers = {"Content-Type": "application/json"}
                via = requests.post(proxy.url(path), data=body, headers=headers, timeout=10)
                direct = requests.post(mock.url(path), data=body, headers=headers, timeout=10)
                assert via.status_code == direct.status_code == status
                if status != 200:  # an accepted body adds targets: the second answer names others
                    assert via.content == direct.content
        violations = app[PROXY].violations
    # The mock answers FastAPI's refusal exactly when the spec rejects the body: no
    # fastapi-validation, and the contract document has the kit's 400 for every operation.
    assert [(v.rule, v.message) for v in violations.items] == []
    assert [n.rule for n in violations.notes] == ["request-invalid"] * 3
    assert "body" in violations.notes[0].message


def test_an_upstream_that_ignores_bodies_is_flagged() -> None:
    async def lenient(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})  # accepts every body, never a 422

    async def strict(_request: web.Request) -> web.Response:
        detail = [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
        return web.json_response({"detail": detail}, status=422)  # refuses every body

    for handler, flagged in ((lenient, [False, True, True, True]), (strict, [True] * 4)):
        app = web.Application()
        app.router.add_post(TARGETS, handler)
        with proxied(app) as (base, _, violations):
            for (body, _rejected), expect in zip(BODIES, flagged, strict=True):
                before = len(violations.items)
                requests.post(
                    f"{base}{TARGETS}",
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=10,
                )
                rules = [v.rule for v in violations.items[before:]]
                assert rules == (["fastapi-validation"] if expect else []), (handler, body)


SURROGATE_KEY = rb'{"count":{"\ud800":1}}'  # the escape of a lone surrogate, as a key


def test_a_lone_surrogate_is_forwarded_and_judged_as_fastapi_answers_it() -> None:
    """FastAPI cannot render the 422 echoing it (its answer is a 500); the mock answers the
    422 meant (kit decision 10). The proxy forwards the request either way, and takes
    either answer for FastAPI's."""
    from tests.serving.upstream_api import upstream_api
    from tests.upstream import serve_upstream

    headers = {"Content-Type": "application/json"}
    with MockServer() as mock, serve_upstream(upstream_api()) as port:
        path = f"/api/v1/campaigns/{mock.world.campaigns()[0].id}/calls"
        for upstream, status in ((mock.base_url, 422), (f"http://127.0.0.1:{port}", 500)):
            app = create_proxy_app(ProxyOptions(upstream=upstream))
            with MockServer(app_factory=lambda _w, app=app, **_: app) as proxy:
                via = requests.post(proxy.url(path), data=SURROGATE_KEY, headers=headers)
                direct = requests.post(upstream + path, data=SURROGATE_KEY, headers=headers)
            assert via.status_code == direct.status_code == status, via.text
            assert via.content == direct.content
            violations = app[PROXY].violations
            assert [(v.rule, v.message) for v in violations.items] == []
            assert [n.rule for n in violations.notes] == ["request-invalid"]


@contextmanager
def serving_proxy(upstream: str) -> Iterator[tuple[str, ViolationLog]]:
    """The proxy as the CLI serves it (``serve_proxy``), on a loopback port of its own loop."""
    from prosper_contracts.endpoint.proxy import serve_proxy

    app = create_proxy_app(ProxyOptions(upstream=upstream))
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started: list[str] = []
    ready = threading.Event()

    def on_started(url: str) -> None:
        started.append(url)
        ready.set()

    async def main() -> None:
        await serve_proxy(app, "127.0.0.1", 0, on_started=on_started, stop=stop)

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    try:
        assert ready.wait(10), "the proxy did not start"
        yield started[0], app[PROXY].violations
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


ENCODED = [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("br", brotli_stored),
    ("x-unknown", lambda body: body),
]


@pytest.mark.parametrize(("coding", "encode"), ENCODED, ids=[c for c, _ in ENCODED])
def test_an_encoded_body_is_forwarded_as_sent_and_judged_as_the_mock_judges_it(
    coding: str, encode: Callable[[bytes], bytes]
) -> None:
    """Starlette never decompresses a request body, so neither does the proxy: upstream gets
    the bytes and Content-Encoding the client sent, and the request is judged as sent."""
    body = encode(json.dumps(GOOD_BODY).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": coding}
    seen: list[tuple[bytes, str | None]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((await request.read(), request.headers.get("Content-Encoding")))
        return web.json_response({"ok": True})

    recorder = web.Application()
    recorder.router.add_post(TARGETS, record)
    with (
        MockServer(app_factory=lambda _w, **_: recorder) as upstream,
        serving_proxy(upstream.base_url) as (base, _),
    ):
        requests.post(f"{base}{TARGETS}", data=body, headers=headers, timeout=10)
    assert seen == [(body, coding)]

    with MockServer() as mock, serving_proxy(mock.base_url) as (base, violations):
        path = f"/api/v1/campaigns/{mock.world.campaigns()[0].id}/targets"
        via = requests.post(f"{base}{path}", data=body, headers=headers, timeout=10)
        direct = requests.post(mock.url(path), data=body, headers=headers, timeout=10)
    # A compressed body is not JSON as sent: the client's doing, judged as the mock judges it.
    refused = coding != "x-unknown"
    assert via.status_code == direct.status_code == (400 if refused else 200)
    if refused:  # an accepted body adds targets: the second answer names others
        assert via.content == direct.content
    assert [(v.rule, v.message) for v in violations.items] == []
    assert [n.rule for n in violations.notes] == ["request-invalid"] * refused
