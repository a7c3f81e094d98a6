"""The control API over real sockets: every change, its errors, its document, its guard."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig

from prosper_mock import MockServer, VirtualClock, World, WorldRecipe
from prosper_mock.control.client import ControlClient, ControlError
from prosper_mock.control.paging import JOURNAL_PAGE_BYTES
from prosper_mock.control.routes import control_spec_bytes
from tests.control.routing import control_routes

CONTROL = OpenAPI.from_dict(json.loads(control_spec_bytes()))
JSON_TYPE = {"Content-Type": "application/json"}


def call(mock: MockServer, method: str, path: str, body: object = None) -> requests.Response:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body))
    r = requests.request(
        method, mock.url("/__mock" + path), data=data, headers=JSON_TYPE, timeout=5
    )
    if r.status_code not in (401, 403):
        CONTROL.validate_response(RequestsOpenAPIRequest(r.request), RequestsOpenAPIResponse(r))
    return r


def lookup(mock: MockServer, call_log_id: int) -> dict:
    return requests.get(mock.url(f"/api/v1/live-calls?call_log_id={call_log_id}"), timeout=5).json()


def test_one_call_from_start_to_end_on_the_virtual_clock(mock: MockServer) -> None:
    c = ControlClient(mock.base_url)
    started = c.start_call(user_phone_number="+15550004444")
    cid = started["call"]["call_log_id"]
    assert lookup(mock, cid)["source"] == "live_calls"
    c.advance_clock(45)
    mapped = c.map_variables(cid, identity_verified=True, appointment_confirmed=False)
    assert mapped["snapshot"]["variables.identity_verified"] is True
    assert lookup(mock, cid)["updated_at"] == "2026-01-15T15:00:45.000+00:00"
    c.advance_clock(75)
    assert lookup(mock, cid)["source"] == "live_calls"  # t0 + 120 s: still live
    ended = c.end_call(cid)
    after = lookup(mock, cid)
    assert (after["source"], after["call_length"]) == ("call_logs", "0:02:00")
    assert after == ended["snapshot"]
    assert after["variables.appointment_confirmed"] is False


def test_every_endpoint_answers_as_documented(mock: MockServer) -> None:
    assert call(mock, "GET", "/health").json()["service"] == "prosper-voice-mock"
    assert call(mock, "GET", "/openapi.json").content == control_spec_bytes()
    cid = call(mock, "POST", "/live-calls", {}).json()["call"]["call_log_id"]
    assert call(mock, "PATCH", f"/live-calls/{cid}/variables", {"variables": {"a": 1}}).ok
    r = call(mock, "POST", f"/live-calls/{cid}/end", {"keep_live": True, "fields": {"qa": None}})
    assert r.json()["call_log"]["qa"] is None
    assert lookup(mock, cid)["source"] == "live_calls"  # kept live: the live row wins
    assert call(mock, "DELETE", f"/live-calls/{cid}").status_code == 204
    assert call(mock, "DELETE", f"/call-logs/{cid}").status_code == 204
    log = call(mock, "POST", "/call-logs", {"call_ended_reason": "voicemail"}).json()["call_log"]
    assert log["call_ended_reason"] == "voicemail"
    world = call(mock, "GET", "/world").json()
    assert any(r["id"] == log["id"] for r in world["call_logs"])
    assert call(mock, "POST", "/reset").json()["live_calls"] == 4
    snapshot = call(mock, "POST", "/snapshots").json()["snapshot"]
    assert call(mock, "PUT", "/world", {"live_calls": [], "call_logs": []}).json()["call_logs"] == 0
    assert call(mock, "POST", f"/snapshots/{snapshot}/restore").json()["live_calls"] == 4
    assert call(mock, "POST", f"/snapshots/{snapshot}/restore").status_code == 404  # used up
    assert call(mock, "PUT", "/world", {"live_calls": [], "call_logs": []}).ok
    assert call(mock, "GET", "/clock").json()["mode"] == "virtual"
    assert call(mock, "PUT", "/clock", {"now": "2026-02-01T00:00:00+00:00"}).ok
    assert call(mock, "PUT", "/faults", {"rules": [{"faults": "latency=1"}]}).ok
    assert call(mock, "GET", "/faults").json()["rules"][0]["faults"] == ["latency=1"]
    assert call(mock, "DELETE", "/faults").status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("POST", "/live-calls", b"{nope", 422, "not valid JSON"),
        ("POST", "/live-calls", [1], 422, "JSON object"),
        ("POST", "/live-calls", {"no_such_field": 1}, 422, "no_such_field"),
        ("POST", "/live-calls", {"call_log_id": 1012}, 409, "already live"),
        ("PATCH", "/live-calls/1/variables", {"variables": {}}, 404, "no live call 1"),
        ("PATCH", "/live-calls/x/variables", {"variables": {}}, 422, "integer"),
        (
            "PATCH",
            "/live-calls/1012/variables",
            {"vars": {}},
            422,
            "body.variables: Field required",
        ),
        ("POST", "/live-calls/1012/end", {"keep": True}, 422, "body.keep: unknown key"),
        ("DELETE", "/call-logs/77", None, 404, "no call log 77"),
        ("PUT", "/world", {"format": "x"}, 422, "body.format: Input should be"),
        (
            "POST",
            "/clock/advance",
            {"seconds": -1},
            422,
            "body.seconds: Input should be greater than or equal to 0",
        ),
        ("POST", "/clock/advance", {"seconds": "1"}, 422, "seconds"),
        ("PUT", "/faults", {"rules": [{"faults": "explode"}]}, 422, "unknown kind"),
        ("PUT", "/faults", {"rules": [{"faults": "drop", "probability": 2}]}, 422, "probability"),
        (
            "PUT",
            "/world",
            {"recipe": {"seed": "a"}},
            422,
            "body.recipe.seed: Input should be a valid integer",
        ),
        ("POST", "/clock/advance", b'{"seconds": NaN}', 422, "seconds: NaN is not a finite number"),
        ("POST", "/clock/advance", {"seconds": 1e300}, 422, "year 9000"),
        ("PUT", "/clock", {"now": "2026-02-01T00:00:00"}, 422, "UTC offset"),
        ("PUT", "/world", {"recipe": {"anchor": "9999-12-30T00:00:00+00:00"}}, 422, "from 1970"),
        ("PUT", "/world", {"recipe": {"anchor": "0001-01-02T00:00:00+00:00"}}, 422, "from 1970"),
        ("PUT", "/world", {"recipe": {"anchor": "1970-01-31T23:59:59+00:00"}}, 422, "from 1970"),
        ("GET", "/journal?stauts=200", None, 422, "unknown journal filters ['stauts']"),
        ("POST", "/snapshots/nope/restore", None, 404, "no snapshot 'nope'"),
    ],
)
def test_bad_input_gets_a_clear_4xx(
    mock: MockServer, method: str, path: str, body: object, status: int, says: str
) -> None:
    r = call(mock, method, path, body)
    assert r.status_code == status
    assert says in r.json()["detail"]


def test_system_clock_cannot_be_moved() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    with MockServer(world) as server, pytest.raises(ControlError) as info:
        ControlClient(server.base_url).advance_clock(5)
    assert info.value.status == 409 and "--virtual-clock" in info.value.detail


def test_journal_filters(mock: MockServer) -> None:
    for q in ("call_log_id=1012", "call_log_id=abc", "user_phone_number=%2B1"):
        requests.get(mock.url(f"/api/v1/live-calls?{q}"), timeout=5)
    c = ControlClient(mock.base_url)
    assert [e["status"] for e in c.journal()] == [200, 422, 404]
    assert len(c.journal(status=422)) == 1
    assert len(c.journal(**{"param.user_phone_number": "+1"})) == 1
    assert len(c.journal(since=c.journal()[0]["seq"])) == 2
    c.clear_journal()
    assert c.journal() == []


def page_through(mock: MockServer, query: str) -> tuple[list[int], int]:
    """Follow the journal's cursor from the start; return the seqs seen and the pages read."""
    seqs: list[int] = []
    since, pages = 0, 0
    while True:
        page = call(mock, "GET", f"/journal?{query}&since={since}").json()
        pages += 1
        seqs += [e["seq"] for e in page["entries"]]
        assert page["next_since"] >= since
        since = page["next_since"]
        if not page["more"]:
            return seqs, pages


def test_journal_pages_return_every_entry_exactly_once(mock: MockServer) -> None:
    with requests.Session() as http:
        for i in range(23):
            http.get(mock.url(f"/api/v1/live-calls?call_log_id={1000 + i % 3}"), timeout=5)
    everything = [e.seq for e in mock.state.journal]
    assert page_through(mock, "limit=5") == (everything, 5)
    found = [e.seq for e in mock.state.journal if e.params["call_log_id"] == "1001"]
    assert page_through(mock, "limit=2&param.call_log_id=1001") == (found, 4)
    assert [e["seq"] for e in ControlClient(mock.base_url).journal()] == everything
    last = call(mock, "GET", "/journal").json()
    assert (last["more"], last["next_since"], len(last["entries"])) == (False, everything[-1], 23)
    # The cursor left at the end picks up what comes later, and only that.
    requests.get(mock.url("/api/v1/live-calls?call_log_id=1002"), timeout=5)
    later = call(mock, "GET", f"/journal?since={last['next_since']}").json()
    assert [e["seq"] for e in later["entries"]] == [everything[-1] + 1]


def test_journal_pages_stay_small_however_big_the_entries(mock: MockServer) -> None:
    query = "call_log_id=1250" + "&a" * 8000  # each entry lists 8 000 parameters
    with requests.Session() as http:
        for _ in range(20):  # 20 such entries are more than a page
            http.get(mock.url(f"/api/v1/live-calls?{query}"), timeout=5)
    first = call(mock, "GET", "/journal")
    assert len(first.content) <= JOURNAL_PAGE_BYTES and first.json()["more"] is True
    seqs, pages = page_through(mock, "limit=10000")
    assert seqs == list(range(1, 21)) and pages > 1
    assert len(ControlClient(mock.base_url).journal()) == 20


@pytest.mark.parametrize("limit", ["0", "10001", "x", "-3"])
def test_journal_limit_is_checked(mock: MockServer, limit: str) -> None:
    r = call(mock, "GET", f"/journal?limit={limit}")
    assert r.status_code == 422 and "limit must be an integer from 1 to 10000" in r.json()["detail"]


def test_a_token_guards_the_control_api() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    with MockServer(world, control_token="s3cret-token") as server:
        r = requests.get(server.url("/__mock/health"), timeout=5)
        assert r.status_code == 401 and "s3cret" not in r.text
        wrong = requests.get(
            server.url("/__mock/health"), timeout=5, headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
        assert ControlClient(server.base_url, token="s3cret-token").is_mock()
        # The vendored API itself needs no token.
        assert requests.get(server.url("/api/v1/live-calls?call_log_id=1000"), timeout=5).ok


def test_loopback_rule() -> None:
    from prosper_mock.base.net import is_loopback as _is_loopback

    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("127.8.9.1")
    assert not _is_loopback("10.0.0.5") and not _is_loopback(None) and not _is_loopback("x")


def test_control_can_be_left_out() -> None:
    with MockServer(World.generate(WorldRecipe(live_calls=1, call_logs=1)), control=False) as s:
        assert requests.get(s.url("/__mock/health"), timeout=5).status_code == 404


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = st.sampled_from(
    [
        "call_log_id",
        "id",
        "variables",
        "seconds",
        "now",
        "rules",
        "faults",
        "fields",
        "keep_live",
        "user_phone_number",
        "started_at",
        "call_length",
        "live_calls",
        "recipe",
        "probability",
    ]
)
BODIES = (
    JSON.map(lambda v: json.dumps(v).encode())
    | st.dictionaries(FIELDS, JSON, max_size=3).map(lambda v: json.dumps(v).encode())
    | st.sampled_from([b"NaN", b'{"seconds": NaN}', b'{"seconds": Infinity}', b"\xff", b"{"])
)
ROUTES = st.sampled_from(
    [
        ("POST", "/live-calls"),
        ("PATCH", "/live-calls/{id}/variables"),
        ("POST", "/live-calls/{id}/end"),
        ("DELETE", "/live-calls/{id}"),
        ("POST", "/call-logs"),
        ("DELETE", "/call-logs/{id}"),
        ("PUT", "/world"),
        ("POST", "/clock/advance"),
        ("PUT", "/clock"),
        ("PUT", "/faults"),
        ("GET", "/journal?status={id}&since={id}"),
    ]
)


def _virtual_mock(recipe: WorldRecipe) -> Iterator[MockServer]:
    """A server of that world on a virtual clock, for a module's tests to share."""
    world = World.generate(recipe, clock=VirtualClock("2026-01-15T15:00:00+00:00"))
    with MockServer(world) as server:
        yield server


@pytest.fixture(scope="module")
def shared_mock() -> Iterator[MockServer]:
    """One server for all of hypothesis' examples (one per example would be slow)."""
    yield from _virtual_mock(WorldRecipe(seed=6, live_calls=4, call_logs=12))


@settings(max_examples=150, deadline=None)
@given(
    route=ROUTES, body=BODIES, call_log_id=st.sampled_from(["1012", "1000", "x", "-1", "9" * 30])
)
def test_no_body_makes_the_control_api_fail_with_a_5xx(
    shared_mock: MockServer, route: tuple[str, str], body: bytes, call_log_id: str
) -> None:
    method, path = route
    url = shared_mock.url("/__mock" + path.format(id=call_log_id))
    r = requests.request(method, url, data=body, headers=JSON_TYPE, timeout=5)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert isinstance(r.json()["detail"], str)
    # The mock still answers afterwards, whatever the body did to its world.
    assert requests.get(shared_mock.url("/__mock/clock"), timeout=5).ok
    lookup = requests.get(shared_mock.url("/api/v1/live-calls?call_log_id=1012"), timeout=5)
    assert lookup.status_code in (200, 404)


def test_serve_takes_the_token_and_the_clock_start_as_options() -> None:
    from tests.clirun import serve

    token = "tok-from-the-command-line"
    args = ["--live-calls", "1", "--call-logs", "1", "--control-token", token]
    with serve([*args, "--virtual-clock", "--start", "2030-05-01T08:00:00+02:00"]) as s:
        assert requests.get(s.url("/__mock/health"), timeout=5).status_code == 401
        clock = ControlClient(s.base_url, token=token).clock()
    assert clock == {"mode": "virtual", "now": "2030-05-01T06:00:00.000+00:00"}
    assert token not in "\n".join(s.stderr)


def test_health_names_known_calls_of_any_world() -> None:
    # A world whose ids do not start where the default layout's do: clients that need a known
    # call (the contract suite's read-only checks) take them from the health answer.
    world = World.generate(WorldRecipe(seed=2, live_calls=4, call_logs=6, first_id=70_000))
    with MockServer(world) as server:
        sample_ids = call(server, "GET", "/health").json()["sample_ids"]
        for store in ("live_calls", "call_logs"):
            ids = sample_ids[store]
            assert ids == [c.call_log_id for c in getattr(world, store)][:3]
            for i in ids:
                assert lookup(server, i)["call_log_id"] == i
        assert min(sample_ids["call_logs"]) == 70_000


def test_a_web_page_cannot_drive_the_control_api(mock: MockServer) -> None:
    started = ControlClient(mock.base_url).start_call()["call"]["call_log_id"]
    url = mock.url("/__mock/reset")
    # What a page on another site can send without a preflight: a "simple" cross-origin POST.
    evil = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    r = requests.post(url, data="{}", headers=evil, timeout=5)
    assert r.status_code == 403 and "http://evil.example" in r.json()["detail"]
    fetched = requests.post(url, headers={"Sec-Fetch-Site": "cross-site"}, timeout=5)
    assert fetched.status_code == 403 and "cross-site" in fetched.json()["detail"]
    # DNS rebinding: the page's own name now points at 127.0.0.1, so Host names it.
    rebound = requests.post(url, headers={"Host": f"evil.example:{mock.port}"}, timeout=5)
    assert rebound.status_code == 403 and "evil.example" in rebound.json()["detail"]
    assert lookup(mock, started)["source"] == "live_calls"  # nothing was reset
    own = {"Origin": mock.base_url, "Content-Type": "application/json"}
    assert requests.post(url, data="{}", headers=own, timeout=5).ok
    assert requests.post(url, headers={"Host": f"localhost:{mock.port}"}, timeout=5).ok


def test_control_bodies_must_be_json() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    with MockServer(world) as server:
        url = server.url("/__mock/live-calls")
        form = requests.post(url, data={"user_phone_number": "+1"}, timeout=5)
        assert form.status_code == 415 and "application/json" in form.json()["detail"]
        plain = requests.post(url, data="{}", headers={"Content-Type": "text/plain"}, timeout=5)
        assert plain.status_code == 415
        vendor = {"Content-Type": "application/vnd.example+json; charset=utf-8"}
        assert requests.post(url, data="{}", headers=vendor, timeout=5).status_code == 201
        assert requests.post(url, timeout=5).status_code == 201  # optional body: none is fine
        assert server.world.stats()["live_calls"] == 3


def test_allowed_origins_and_hosts_are_options() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    options = {
        "control_allow_origins": ["http://dashboard.test:3000"],
        "control_allow_hosts": ["mock.internal"],
    }
    with MockServer(world, **options) as server:
        url = server.url("/__mock/health")
        ok = {"Origin": "http://dashboard.test:3000", "Sec-Fetch-Site": "cross-site"}
        assert requests.get(url, headers=ok, timeout=5).ok
        other = {"Origin": "http://dashboard.test:3001"}
        assert requests.get(url, headers=other, timeout=5).status_code == 403
        host = {"Host": f"mock.internal:{server.port}"}
        assert requests.get(url, headers=host, timeout=5).ok
        assert requests.get(url, headers={"Host": "other.internal"}, timeout=5).status_code == 403
    with MockServer(world, control_token="t0ken") as server:  # a token stands for any Host
        headers = {"Host": "mock.example.com", "Authorization": "Bearer t0ken"}
        assert requests.get(server.url("/__mock/health"), headers=headers, timeout=5).ok
        headers["Origin"] = "http://evil.example"  # but never for a web page
        assert (
            requests.get(server.url("/__mock/health"), headers=headers, timeout=5).status_code
            == 403
        )


def test_serve_takes_allowed_origins_and_hosts() -> None:
    from tests.clirun import serve

    args = ["--live-calls", "1", "--call-logs", "1", "--control-allow-host", "mock.internal"]
    args += ["--control-allow-origin", "http://a.test", "--control-allow-origin", "http://b.test"]
    with serve(args) as s:
        port = s.base_url.rsplit(":", 1)[1]
        for origin in ("http://a.test", "http://b.test"):
            assert requests.get(s.url("/__mock/health"), headers={"Origin": origin}, timeout=5).ok
        evil = requests.get(s.url("/__mock/health"), headers={"Origin": "http://c.test"}, timeout=5)
        assert evil.status_code == 403
        host = {"Host": f"mock.internal:{port}"}
        assert requests.get(s.url("/__mock/health"), headers=host, timeout=5).ok


def test_undeclared_methods_answer_405_with_allow(mock: MockServer) -> None:
    for method, path, allow in [
        ("PUT", "/health", "GET"),
        ("DELETE", "/world", "GET, PUT"),
        ("POST", "/live-calls/1012", "GET, DELETE"),
        ("GET", "/reset", "POST"),
    ]:
        r = requests.request(method, mock.url("/__mock" + path), timeout=5)
        assert (r.status_code, r.json()) == (405, {"detail": "Method Not Allowed"}), path
        assert r.headers["Allow"] == allow


def test_every_route_is_in_the_spec_and_every_operation_is_routed(mock: MockServer) -> None:
    routed = control_routes(mock.app)
    spec = json.loads(control_spec_bytes())
    declared = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert routed == declared


def test_the_spec_states_the_bodies_the_routes_take() -> None:
    # The routes validate with these pydantic types; the document must show their schemas.
    from prosper_mock.control.bodies import BODIES, body_schemas

    spec = json.loads(control_spec_bytes())
    schemas, components = body_schemas()
    bodies = {
        op["operationId"]: op["requestBody"]
        for item in spec["paths"].values()
        for op in item.values()
        if "requestBody" in op
    }
    assert set(bodies) == set(BODIES)
    for op, body in bodies.items():
        assert body["content"]["application/json"]["schema"] == schemas[op], op
        assert body["required"] is BODIES[op][1], op
    assert spec["components"]["schemas"] == components


def test_the_spec_declares_every_error_status(mock: MockServer) -> None:
    spec = json.loads(control_spec_bytes())
    for path, item in spec["paths"].items():
        for method, op in item.items():
            statuses = set(op["responses"])
            assert {"401", "403"} <= statuses, (method, path)
            if "requestBody" in op:
                assert {"413", "415", "422"} <= statuses, (method, path)
            if method != "get":
                assert "409" in statuses, (method, path)  # --workers: read-only


def test_a_large_world_loads_and_body_limits_name_their_size(mock: MockServer) -> None:
    big = World.generate(WorldRecipe(seed=1, live_calls=40, call_logs=1100)).dump()
    data = json.dumps(big).encode()
    assert len(data) > 2_000_000
    loaded = call(mock, "PUT", "/world", data)
    assert loaded.json()["call_logs"] == 1100
    fat = call(mock, "POST", "/live-calls", {"variables": {"x": "a" * (1 << 20)}})
    assert fat.status_code == 413 and "1 MiB" in fat.json()["detail"]
    small = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    with MockServer(small, control_max_world_bytes=64 * 1024) as server:

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
            for i in range(0, len(data), 16_384):
                yield data[i : i + 16_384]

        url = server.url("/__mock/world")
        r = requests.put(url, data=chunks(), headers=JSON_TYPE, timeout=10)
        assert r.status_code == 413 and "64 KiB" in r.json()["detail"]
        assert server.world.stats()["call_logs"] == 1  # nothing half-loaded
        assert requests.get(server.url("/__mock/health"), timeout=5).ok


def test_serve_takes_the_world_size_limit() -> None:
    from tests.clirun import serve

    with serve(["--live-calls", "1", "--call-logs", "1", "--max-world-bytes", "100"]) as s:
        body = json.dumps({"live_calls": [], "call_logs": [], "recipe": {"seed": 123456789}})
        r = requests.put(
            s.url("/__mock/world"), data=body + " " * 100, headers=JSON_TYPE, timeout=5
        )
        assert r.status_code == 413 and "100 bytes" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"seconds": 1, "seconds": 2}', 'duplicate key "seconds"'),
        (b'{"seconds": Infinity}', "seconds: Infinity is not a finite number"),
        (b'{"seconds": 1e400}', "seconds: 1e400 is not a finite number"),
        (b'{"seconds": 1, "x": "\\ud800"}', "lone surrogate"),
    ],
)
def test_bodies_json_cannot_hold_are_refused(mock: MockServer, body: bytes, says: str) -> None:
    for path in ("/clock/advance", "/live-calls", "/faults"):
        r = requests.post(mock.url("/__mock" + path), data=body, headers=JSON_TYPE, timeout=5)
        if r.status_code == 405:  # PUT /faults
            r = requests.put(mock.url("/__mock" + path), data=body, headers=JSON_TYPE, timeout=5)
        assert r.status_code == 422, (path, r.text)
        assert says in r.json()["detail"]
    assert mock.world.clock.now() == VirtualClock("2026-01-15T15:00:00+00:00").now()


# The control API against its own document: schemathesis' every check, valid and invalid
# requests. Positive data must be accepted, except where a body obeys a rule a schema cannot
# state: unique ids in a world file, the fault header grammar, a clock that never goes back,
# strict integers (JSON Schema calls a bounded call id's 65197.0 an integer; the kit reads
# it as the float it is).
SCHEMA_RULES = [
    "load",
    "set_faults",
    "set_clock",
    "advance_clock",
    "start_call",
    "end_call",
    "add_call_log",
    "add_stub",  # a schema-valid stub may name no operation's path, or break the spec
    "verify",  # count with at_least or at_most
    "set_webhook",  # an http(s) URL with a host, header names that are HTTP tokens
]
CONTROL_SCHEMA = schemathesis.openapi.from_dict(
    json.loads(control_spec_bytes()),
    config=SchemathesisConfig.from_dict(
        {
            "generation": {"mode": "all", "max-examples": 25},
            "operations": [
                {
                    "include-operation-id": SCHEMA_RULES,
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "404", "409", "422"]
                        }
                    },
                },
                {
                    # Loading a world costs a fifth of a second (its generator's name pools):
                    # the coverage phase's 300-odd world bodies would take a minute.
                    "include-operation-id": "load",
                    "phases": {"coverage": {"enabled": False}},
                },
            ],
        }
    ),
)


@pytest.fixture(scope="module")
def spec_mock() -> Iterator[MockServer]:
    yield from _virtual_mock(WorldRecipe(seed=4, live_calls=3, call_logs=6))


@CONTROL_SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_control_api_keeps_to_its_own_spec(
    case: schemathesis.Case, spec_mock: MockServer
) -> None:
    # Every check schemathesis has, and none another suite registered (the contract kit's
    # semantic rules are about the vendored API, not this one).
    own = [c for c in CHECKS.get_all() if c.__module__.startswith("schemathesis.")]
    case.call_and_validate(base_url=spec_mock.base_url, checks=own)


def test_the_client_wraps_every_operation(mock: MockServer) -> None:
    spec = json.loads(control_spec_bytes())
    operations = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    assert {op for op in operations if not callable(getattr(ControlClient, op, None))} == set()
    c = ControlClient(mock.base_url)
    assert c.control_openapi() == spec
    assert c.set_clock("2026-03-01T00:00:00+00:00")["now"] == "2026-03-01T00:00:00.000+00:00"
    c.set_faults([{"faults": "drop", "match": {"call_log_id": "1"}}])
    assert c.faults()["rules"][0]["faults"] == ["drop"]
    assert c.reset()["live_calls"] == 4
