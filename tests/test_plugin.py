"""The pytest plugin, exercised the way users run it (pytester runs real pytest sessions)."""

from __future__ import annotations

import re

import pytest

from prosper_mock import MockServer, VirtualClock, World, WorldRecipe

pytestmark = pytest.mark.usefixtures("quiet_pytester")


def test_each_test_starts_from_the_seeded_world(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import requests

        def lookup(prosper, phone):
            return requests.get(prosper.url(), params={"user_phone_number": phone}, timeout=5)

        def test_a_changes_the_world(prosper):
            prosper.start_call(user_phone_number="+15550009999")
            first = next(iter(prosper.world.call_logs)).call_log_id
            prosper.world.delete_call_log(first)
            assert lookup(prosper, "+15550009999").status_code == 200
            prosper.control.set_faults([{"faults": "status=503", "probability": 1.0}])
            assert lookup(prosper, "+15550009999").status_code == 503

        def test_b_sees_none_of_it(prosper):
            assert lookup(prosper, "+15550009999").status_code == 404
            assert len(prosper.journal) == 1  # only this test's request
            assert next(iter(prosper.world.call_logs)).call_log_id == 1000
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_faults_set_through_prosper_control_end_with_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import requests

        def test_a_sets_a_fault(prosper):
            prosper.control.set_faults([{"faults": "status=503", "probability": 1.0}])
            assert requests.get(prosper.url(), timeout=5).status_code == 503

        def test_b_does_not_use_prosper(prosper_base_url, prosper_server):
            answer = requests.get(prosper_base_url + "/api/v1/live-calls", timeout=5)
            assert answer.status_code == 400  # no parameters: the mock's answer, not the fault
            assert prosper_server.state.faults.rules == []
    """)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_helpers_return_what_a_client_sees(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import requests

        def test_lifecycle(prosper):
            call = prosper.start_call(variables={"external_id": "PAT-9"})
            got = requests.get(prosper.url(), params={"call_log_id": call["call_log_id"]}).json()
            assert got == call
            mapped = prosper.map_variables(call["call_log_id"], identity_verified=True)
            assert mapped["variables.identity_verified"] is True
            ended = prosper.end_call(call["call_log_id"], call_ended_reason="voicemail")
            assert ended["source"] == "call_logs" and ended["call_ended_reason"] == "voicemail"
            got = requests.get(prosper.url(), params={"key": "external_id", "value": "PAT-9"})
            assert got.json() == ended
            old = prosper.add_call_log(user_phone_number="+15550000001")
            assert old["source"] == "call_logs"
            assert [e.status for e in prosper.journal] == [200, 200]
            assert len(prosper.requests_for(key="external_id")) == 1
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_options_and_marker_choose_the_world(pytester: pytest.Pytester) -> None:
    pytester.makeini("""
        [pytest]
        asyncio_default_fixture_loop_scope = function
        prosper_seed = 5
        prosper_live_calls = 3
        prosper_call_logs = 7
    """)
    pytester.makepyfile("""
        import pytest

        def sizes(prosper):
            return len(list(prosper.world.live_calls)), len(list(prosper.world.call_logs))

        def test_ini(prosper):
            assert sizes(prosper) == (3, 7)
            assert prosper.world.origin["recipe"]["seed"] == 5

        @pytest.mark.prosper_world(seed=2, live_calls=1, call_logs=2)
        def test_marker(prosper):
            assert sizes(prosper) == (1, 2)
            prosper.start_call()

        @pytest.mark.prosper_world(seed=2, live_calls=1, call_logs=2)
        def test_marker_world_is_reset_too(prosper):
            assert sizes(prosper) == (1, 2)

        def test_back_to_the_session_world(prosper):
            assert sizes(prosper) == (3, 7)

        @pytest.mark.prosper_world(file="world.json")
        def test_world_file(prosper):
            assert sizes(prosper) == (0, 1)
    """)
    pytester.makefile(
        ".json",
        world='{"call_logs": [{"id": 5, "user_phone_number": "+1",'
        ' "created_at": "2026-01-01T00:00:00+00:00"}]}',
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=5)
    result = pytester.runpytest("-p", "no:randomly", "--prosper-live-calls", "2", "-k", "ini")
    result.assert_outcomes(failed=1)  # the command line wins over the ini file


def test_bad_marker_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.prosper_world(7)
        def test_x(prosper):
            pass
    """)
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*prosper_world takes keyword arguments*"])


def test_async_tests_share_the_server_without_its_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import aiohttp
        import pytest

        @pytest.mark.asyncio
        async def test_async_client(prosper):
            call = prosper.start_call()
            async with aiohttp.ClientSession() as session:
                params = {"call_log_id": call["call_log_id"]}
                async with session.get(prosper.url(), params=params) as r:
                    assert r.status == 200
                    assert (await r.json())["source"] == "live_calls"
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_real_endpoint_switch_skips_world_changes(pytester: pytest.Pytester) -> None:
    # A stand-in "real" endpoint: the API on loopback, no control API to recognise it by.
    world = World.generate(WorldRecipe(live_calls=2, call_logs=2))
    with MockServer(world, control=False) as real:
        pytester.makepyfile("""
            import pytest
            import requests

            def test_reads_work(prosper, prosper_base_url):
                assert prosper.base_url == prosper_base_url
                r = requests.get(prosper.url(), params={"call_log_id": 1000}, timeout=5)
                assert r.status_code == 200

            def test_changes_skip(prosper):
                prosper.start_call()

            def test_world_skips(prosper):
                prosper.world

            def test_journal_skips(prosper):
                prosper.journal

            @pytest.mark.prosper_world(seed=3)
            def test_marker_world_skips(prosper):
                pass

            def test_no_local_server(prosper_server):
                pass
        """)
        result = pytester.runpytest("-rs", "--prosper-base-url", real.base_url + "/")
        result.assert_outcomes(passed=1, skipped=5)
        result.stdout.fnmatch_lines_random(
            [
                "*changes the world*a real endpoint*/__mock/health*does not allow*",
                "*request journal needs a mock*",
                "*prosper_world gives this test its own world*local mock*",
                "*no local mock is started*",
            ]
        )
        assert not real.world.stats()["version"]  # nothing was written to it


def _remote_mock() -> MockServer:
    world = World.generate(WorldRecipe(seed=4, live_calls=3, call_logs=5))
    world.clock = VirtualClock(world.clock.now())
    return MockServer(world)


REMOTE_TESTS = """
    import pytest
    import requests
    from prosper_mock import UnknownCall, WorldError

    PHONE = "+15550007777"

    def lookup(prosper, **params):
        return requests.get(prosper.url(), params=params, timeout=5)

    def test_a_drives_the_remote_world(prosper):
        call = prosper.start_call(user_phone_number=PHONE, variables={"external_id": "R-1"})
        assert lookup(prosper, user_phone_number=PHONE).json() == call
        mapped = prosper.map_variables(call["call_log_id"], identity_verified=True)
        assert mapped["variables.identity_verified"] is True
        prosper.advance_clock(90)
        ended = prosper.end_call(call["call_log_id"], call_ended_reason="voicemail")
        assert ended["source"] == "call_logs" and ended["call_length"] == "0:01:30"
        assert lookup(prosper, key="external_id", value="R-1").json() == ended
        assert prosper.add_call_log(user_phone_number="+15550000002")["source"] == "call_logs"
        assert [e.params for e in prosper.journal] == [
            {"user_phone_number": PHONE}, {"key": "external_id", "value": "R-1"}
        ]
        assert len(prosper.requests_for(key="external_id")) == 1
        prosper.control.set_faults([{"faults": "status=503", "probability": 1.0}])
        assert lookup(prosper, call_log_id=1000).status_code == 503

    def test_b_starts_from_the_seeded_world(prosper):
        assert lookup(prosper, user_phone_number=PHONE).status_code == 404  # reset; no fault
        assert len(prosper.journal) == 1

    def test_refusals_are_world_errors(prosper):
        with pytest.raises(WorldError) as info:
            prosper.map_variables(987654321, x=1)
        assert isinstance(info.value, UnknownCall)

    def test_world_object_is_local_only(prosper):
        prosper.world
"""


def test_base_url_of_a_running_mock_uses_its_control_api(pytester: pytest.Pytester) -> None:
    with _remote_mock() as remote:
        start = remote.state.world.clock.now()
        pytester.makepyfile(REMOTE_TESTS)
        result = pytester.runpytest(
            "-p", "no:randomly", "-rs", "--prosper-base-url", remote.base_url
        )
        result.assert_outcomes(passed=3, skipped=1)
        result.stdout.fnmatch_lines(["*prosper.world is the local mock's World*"])
        assert remote.state.world.clock.now() == start + 90  # a clock never goes back
        assert remote.state.faults.rules == []


def test_a_running_mock_shared_by_xdist_workers_is_read_only(pytester: pytest.Pytester) -> None:
    with _remote_mock() as remote:
        pytester.makepyfile("""
            def test_changes_skip(prosper):
                prosper.start_call()

            def test_journal_skips(prosper):
                prosper.journal
        """)
        result = pytester.runpytest("-n", "2", "-rs", "--prosper-base-url", remote.base_url)
        result.assert_outcomes(skipped=2)
        result.stdout.fnmatch_lines_random(
            [
                "*changes the world*2 xdist workers share*-n 0*",
                "*journal*2 xdist workers share*-n 0*",
            ]
        )
        assert "not a real endpoint" not in result.stdout.str()  # the target is a mock
        assert not remote.world.stats()["version"]


def test_loading_the_plugin_starts_and_imports_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import sys
        import threading

        def test_no_fixture_used():
            assert "prosper_mock.plugin" in sys.modules  # loaded through its entry point
            loaded = [m for m in ("prosper_mock.server", "prosper_mock.world") if m in sys.modules]
            assert loaded == []
            assert threading.active_count() == 1
    """)
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=1)


def test_help_states_the_recipe_defaults(pytester: pytest.Pytester) -> None:
    defaults = WorldRecipe()
    text = " ".join(pytester.runpytest("--help").stdout.str().split())
    for flag, value in [
        ("seed", defaults.seed),
        ("live-calls", defaults.live_calls),
        ("call-logs", defaults.call_logs),
    ]:
        assert re.search(rf"--prosper-{flag}=\S+ [^;]*\(default {value}\)", text), flag


KEEP_LIVE_TEST = """
    import requests

    def test_end_call_can_keep_the_live_row(prosper):
        call = prosper.start_call()
        ended = prosper.end_call(call["call_log_id"], keep_live=True, call_ended_reason="voicemail")
        assert ended["source"] == "call_logs" and ended["call_ended_reason"] == "voicemail"
        got = requests.get(prosper.url(), params={"call_log_id": call["call_log_id"]}, timeout=5)
        assert got.json()["source"] == "live_calls"  # kept live: the live row still wins
"""


def test_end_call_keeps_the_live_row_when_asked_locally(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(KEEP_LIVE_TEST)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)


def test_end_call_keeps_the_live_row_when_asked_remotely(pytester: pytest.Pytester) -> None:
    with _remote_mock() as remote:
        pytester.makepyfile(KEEP_LIVE_TEST)
        result = pytester.runpytest("-p", "no:randomly", "--prosper-base-url", remote.base_url)
        result.assert_outcomes(passed=1)


TARGETS_TEST = """
    import requests

    def test_a_launched_target_is_called_and_finishes(prosper):
        campaign = next(c for c in prosper.campaigns() if c["kind"] == "patient")
        added = prosper.add_targets(
            campaign["id"],
            {"phone_number": "+15550101010", "patient": {"external_id": "PAT-PLUG"}},
            launch=True,
        )
        target_id, call_log_id = added["targets"][0]["id"], added["call_log_ids"][0]
        got = requests.get(
            prosper.url(), params={"key": "external_id", "value": "PAT-PLUG"}, timeout=5
        ).json()
        assert (got["source"], got["call_log_id"]) == ("live_calls", call_log_id)
        assert prosper.target(target_id)["status"] == "In Progress"
        prosper.advance_clock(900)
        assert prosper.target(target_id)["status"] not in ("Pending", "In Progress")
        launched = prosper.launch(campaign["id"], count=1)
        assert len(launched["launched"]) == 1
"""


def test_target_helpers_drive_a_local_world(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TARGETS_TEST)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)


def test_target_helpers_drive_a_running_mock(pytester: pytest.Pytester) -> None:
    with _remote_mock() as remote:
        pytester.makepyfile(TARGETS_TEST)
        result = pytester.runpytest("-p", "no:randomly", "--prosper-base-url", remote.base_url)
        result.assert_outcomes(passed=1)


def test_stubs_last_a_block_or_the_test_and_verify_says_what_differed(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("""
        import pytest
        import requests

        PATH = "/api/v1/targets/{target_id}"

        def get(prosper, target):
            return requests.get(prosper.url(f"/api/v1/targets/{target}"), timeout=5)

        def test_a_stubs(prosper):
            with prosper.stub(method="GET", path=PATH, status=503) as stub:
                assert get(prosper, "t-1").status_code == 503
            assert stub.id not in [s["id"] for s in prosper.control.stubs()]
            assert get(prosper, "t-1").status_code == 404  # the world's answer again
            prosper.stub(method="GET", path=PATH, status=502)  # for the rest of the test
            assert get(prosper, "t-2").status_code == 502
            prosper.verify(method="GET", path=PATH, count=3)

        def test_b_finds_no_stub_and_fails_verify_clearly(prosper):
            assert get(prosper, "t-2").status_code == 404
            with pytest.raises(AssertionError) as failed:
                prosper.verify(method="GET", path="/api/v1/targets/t-3")
            message = str(failed.value)
            assert "expected at least 1 request(s) matching GET /api/v1/targets/t-3" in message
            assert "the journal has 0" in message
            wanted = '"/api/v1/targets/t-3", got "/api/v1/targets/t-2"'
            assert '-> 404: path: expected ' + wanted in message

        def test_c_a_stub_the_spec_refuses_says_why(prosper):
            from prosper_mock.control.client import ControlError

            with pytest.raises(ControlError, match="schema rule: type"):
                prosper.stub(method="GET", path="/api/v1/call-logs", body={"call_logs": 1})
    """)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)
