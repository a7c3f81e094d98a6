"""Mock versus real: a stand-in upstream that differs from the mock, and the differences found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aiohttp import web

from prosper_mock import MockServer

SNAPSHOT = {
    "source": "live_calls",
    "call_log_id": "1011",
    "user_phone_number": "+15550001111",
    "status": "in_progress",
    "provider": "twilio",
}


def stand_in() -> web.Application:
    """Answers 422 (not 400) for nothing to look up, 404 with a list detail, string ids."""

    async def handle(request: web.Request) -> web.Response:
        q = request.query
        if "call_log_id" not in q and "user_phone_number" not in q and "key" not in q:
            return web.json_response(
                {
                    "detail": [
                        {
                            "type": "missing",
                            "loc": ["query"],
                            "msg": "Field required",
                            "input": None,
                        }
                    ]
                },
                status=422,
            )
        if q.get("call_log_id") == "1011":
            return web.json_response(SNAPSHOT)
        return web.json_response({"detail": [{"msg": "not found"}]}, status=404)

    app = web.Application()
    app.router.add_get("/api/v1/live-calls", handle)
    return app


def test_compare_mock_lists_every_kind_of_difference(tmp_path: Path) -> None:
    report = tmp_path / "compare.md"
    with MockServer(app_factory=lambda _world, **_: stand_in()) as upstream:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "prosper_mock",
                "contract",
                "--base-url",
                upstream.base_url,
                "--compare-mock",
                "--compare-report",
                str(report),
                "--sample",
                "call_log_id=1011",
                "--examples",
                "5",
                "-k",
                "discovery",
            ],
            capture_output=True,
            text=True,
            timeout=240,
        )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    text = report.read_text()
    assert text in done.stdout
    assert "[status] (no parameters): target 422 | mock 400" in text
    assert (
        "[error shape] ?call_log_id=2147483000: target {detail: [{msg}]} | mock {detail: string}"
        in text
    )
    assert "[keys] source=live_calls: target only here: ['provider']" in text
    assert "[types] source=live_calls call_log_id: target string | mock integer" in text


def test_compare_with_itself_finds_nothing() -> None:
    import requests

    from prosper_contracts.endpoint.compare import compare, default_requests

    with MockServer() as a, MockServer() as b:

        def get(server: MockServer):
            return lambda params: requests.get(
                server.url("/api/v1/live-calls"), params=params, timeout=10
            )

        known = [{"call_log_id": "1250"}, {"call_log_id": "1003"}]
        found = compare(get(a), get(b), default_requests(None), known, known)
    assert found == []


def test_generated_lookups_are_valid_reproducible_and_seedable() -> None:
    from prosper_contracts.endpoint.compare import generated_lookups
    from prosper_mock.serving.spec import load_spec
    from prosper_mock.serving.validation import ParameterValidator

    first = generated_lookups(25)
    assert first == generated_lookups(25)  # derandomised: the same requests every run
    assert generated_lookups(25, seed=7) != first
    validator = ParameterValidator(
        next(o for o in load_spec().operations() if o.path == "/api/v1/live-calls")
    )
    for params in first:
        assert validator.validate(params)[1] == [], params
    kinds = {params[0][0] for params in first}
    assert kinds == {"call_log_id", "user_phone_number", "key"}


def test_compare_lists_a_mock_with_altered_semantics_on_generated_lookups() -> None:
    """A stand-in that is the mock itself, answering not-found with 410 and ``detail`` lists."""
    import requests

    from prosper_contracts.endpoint.compare import compare, generated_lookups
    from prosper_mock.serving.semantics import Semantics

    altered = Semantics(missing_lookup=422, not_found_status=410)
    with MockServer(semantics=altered) as target, MockServer() as mock:

        def get(server: MockServer):
            return lambda params: requests.get(
                server.url("/api/v1/live-calls"), params=params, timeout=10
            )

        sent = [*generated_lookups(15), [("key", "external_id")]]
        found = compare(get(target), get(mock), sent)
    statuses = {(d.target, d.mock) for d in found if d.aspect == "status"}
    assert statuses == {("410", "404"), ("422", "400")}
    assert any(d.where == "?key=external_id" for d in found)
