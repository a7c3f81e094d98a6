"""The plugin's ``prosper_webhooks`` fixture, in real pytest sessions (pytester)."""

from __future__ import annotations

import pytest

from prosper_mock import MockServer, VirtualClock, World, WorldRecipe

pytestmark = pytest.mark.usefixtures("quiet_pytester")


def test_a_test_gets_the_webhook_of_its_target_and_the_call_log_it_names(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("""
        import time

        import requests

        def test_target_finished(prosper, prosper_webhooks):
            campaign = prosper.campaigns()[0]["id"]
            added = prosper.add_targets(campaign, {"phone_number": "+15550001111"}, launch=True)
            target_id = added["targets"][0]["id"]
            prosper.advance_clock(15 * 60)  # a launched call lasts 1 to 10 minutes
            [webhook] = prosper_webhooks.wait_for(target_id, attempt=1)
            assert set(webhook) == {"campaign_id", "call_log_id", "target_id", "attempt",
                                    "max_attempts", "next_attempt_scheduled"}
            log = requests.get(prosper.url(f"/api/v1/call-logs/{webhook['call_log_id']}")).json()
            assert log["campaign_target_id"] == target_id
            [event] = prosper_webhooks.events(target_id=target_id)
            assert event["payload"] == webhook

        def test_a_receiver_that_errs_then_recovers(prosper, prosper_webhooks):
            prosper_webhooks.answer(503, times=1)
            campaign = prosper.campaigns()[0]["id"]
            added = prosper.add_targets(campaign, {"phone_number": "+15550002222"}, launch=True)
            target_id = added["targets"][0]["id"]
            prosper.advance_clock(15 * 60)
            deadline = time.monotonic() + 10
            while prosper_webhooks.events(state="failed") == [] and time.monotonic() < deadline:
                time.sleep(0.05)
            [failed] = prosper_webhooks.events(state="failed")
            answer = requests.post(
                prosper.url(f"/api/v1/campaigns/{campaign}/webhooks/rerun-failed"),
                json={"from_date": failed["created_at"], "to_date": failed["created_at"]},
            )
            assert answer.json()["rerun"] == 1
            assert prosper_webhooks.wait_for(target_id)[0]["attempt"] == 1
            assert [r.status for r in prosper_webhooks.received] == [503, 200]

        def test_the_next_test_starts_with_an_empty_receiver(prosper, prosper_webhooks):
            assert prosper_webhooks.payloads == []
            assert prosper_webhooks.events() == []
    """)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


REMOTE = """
    def test_through_a_running_mocks_control_api(prosper, prosper_webhooks):
        campaign = prosper.campaigns()[0]["id"]
        assert prosper.control.webhook(campaign)["url"] == prosper_webhooks.url
        added = prosper.add_targets(campaign, {"phone_number": "+15550004444"}, launch=True)
        target_id = added["targets"][0]["id"]
        prosper.advance_clock(15 * 60)
        [webhook] = prosper_webhooks.wait_for(target_id)
        assert prosper_webhooks.events(target_id=target_id)[0]["payload"] == webhook
"""


def test_against_a_running_mock_the_campaigns_are_wired_through_its_control_api(
    pytester: pytest.Pytester,
) -> None:
    world = World.generate(WorldRecipe(seed=4, live_calls=3, call_logs=5))
    world.clock = VirtualClock(world.clock.now())
    with MockServer(world) as remote:
        pytester.makepyfile(REMOTE)
        result = pytester.runpytest("-p", "no:randomly", "--prosper-base-url", remote.base_url)
        result.assert_outcomes(passed=1)


def test_wait_for_fails_saying_what_came(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_nothing_comes(prosper, prosper_webhooks):
            prosper_webhooks.wait_for("no-such-target", timeout=0.2)
    """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*expected 1 webhook(s) for target no-such-target within 0.2 s*"])
