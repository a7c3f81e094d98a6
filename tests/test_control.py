"""The control API over real sockets: every change, its errors, its document, its guard."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from prosper_mock import MockServer, VirtualClock, World, WorldRecipe
from prosper_mock.control import ControlClient, ControlError, control_spec_bytes

CONTROL = OpenAPI.from_dict(json.loads(control_spec_bytes()))
JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture
def mock() -> Iterator[MockServer]:
    clock = VirtualClock("2026-01-15T15:00:00+00:00")
    world = World.generate(WorldRecipe(seed=6, live_calls=4, call_logs=12), clock=clock)
    with MockServer(world) as server:
        yield server


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
    assert call(mock, "PUT", "/world", {"live_calls": [], "call_logs": []}).json()["call_logs"] == 0
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
        ("PATCH", "/live-calls/1012/variables", {"vars": {}}, 422, "variables"),
        ("POST", "/live-calls/1012/end", {"keep": True}, 422, "unknown keys"),
        ("DELETE", "/call-logs/77", None, 404, "no call log 77"),
        ("PUT", "/world", {"format": "x"}, 422, "unknown world format"),
        ("POST", "/clock/advance", {"seconds": -1}, 422, "does not go back"),
        ("POST", "/clock/advance", {"seconds": "1"}, 422, "seconds"),
        ("PUT", "/faults", {"rules": [{"faults": "explode"}]}, 422, "unknown kind"),
        ("PUT", "/faults", {"rules": [{"faults": "drop", "probability": 2}]}, 422, "probability"),
        ("PUT", "/world", {"recipe": {"seed": "a"}}, 422, "seed must be int"),
        ("POST", "/clock/advance", b'{"seconds": NaN}', 422, "NaN is not a JSON number"),
        ("POST", "/clock/advance", {"seconds": 1e300}, 422, "year 9000"),
        ("PUT", "/clock", {"now": "2026-02-01T00:00:00"}, 422, "UTC offset"),
        ("GET", "/journal?stauts=200", None, 422, "unknown journal filters ['stauts']"),
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
    from prosper_mock.control import _is_loopback

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


@pytest.fixture(scope="module")
def shared_mock() -> Iterator[MockServer]:
    """One server for all of hypothesis' examples (one per example would be slow)."""
    world = World.generate(
        WorldRecipe(seed=6, live_calls=4, call_logs=12),
        clock=VirtualClock("2026-01-15T15:00:00+00:00"),
    )
    with MockServer(world) as server:
        yield server


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
    from .clirun import serve

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
    from .clirun import serve

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
