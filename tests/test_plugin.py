"""The pytest plugin, exercised the way users run it (pytester runs real pytest sessions)."""

from __future__ import annotations

import pytest

from prosper_mock import MockServer, World, WorldRecipe

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

        def test_b_sees_none_of_it(prosper):
            assert lookup(prosper, "+15550009999").status_code == 404
            assert len(prosper.journal) == 1  # only this test's request
            assert next(iter(prosper.world.call_logs)).call_log_id == 1000
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)


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
    # A stand-in "real" endpoint: no control, just the API.
    with MockServer(World.generate(WorldRecipe(live_calls=2, call_logs=2))) as real:
        pytester.makepyfile("""
            import requests

            def test_reads_work(prosper, prosper_base_url):
                assert prosper.base_url == prosper_base_url
                r = requests.get(prosper.url(), params={"call_log_id": 1000}, timeout=5)
                assert r.status_code == 200

            def test_changes_skip(prosper):
                prosper.start_call()

            def test_journal_skips(prosper):
                prosper.journal

            def test_no_local_server(prosper_server):
                pass
        """)
        result = pytester.runpytest("-rs", "--prosper-base-url", real.base_url + "/")
        result.assert_outcomes(passed=1, skipped=3)
        result.stdout.fnmatch_lines(["*changes the world*real*endpoint*"])
        assert not real.world.stats()["version"]  # nothing was written to it


def test_virtual_clock_helper_is_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_a_call_ends_two_minutes_later(prosper):
            call = prosper.start_call()
            prosper.advance_clock(120)
            ended = prosper.end_call(call["call_log_id"])
            assert ended["call_length"] == "0:02:00"

        def test_the_next_test_has_the_real_clock_again(prosper):
            from prosper_mock import SystemClock
            assert isinstance(prosper.world.clock, SystemClock)
    """)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)
