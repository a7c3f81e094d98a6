"""``serve --webhook-url`` and ``--webhook-timeout``: the issue's scenario, as a user runs it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from prosper_mock import ControlClient
from prosper_mock.receiver import WebhookReceiver
from tests.clirun import serve

KEYS = {"campaign_id", "call_log_id", "target_id", "attempt", "max_attempts"}
KEYS |= {"next_attempt_scheduled"}


def test_serve_posts_one_webhook_per_attempt_that_agrees_with_the_api() -> None:
    with (
        WebhookReceiver() as receiver,
        serve(["--quiet", "--virtual-clock", "--webhook-url", receiver.url]) as served,
    ):
        assert f"webhooks: POSTed to {receiver.url} (a campaign's own URL wins)" in served.stderr
        control = ControlClient(served.base_url)
        campaign = control.campaigns()[0]["id"]
        added = requests.post(
            served.url(f"/api/v1/campaigns/{campaign}/targets"),
            json={
                "targets": [{"phone_number": "+15550001111"}, {"phone_number": "+15550002222"}],
                "launch": True,
            },
            timeout=5,
        ).json()
        ids = {t["id"] for t in added["targets"]}
        for _ in range(4):  # a day a step: every attempt, retries included, plays out
            control.advance_clock(86_400)
        control.api("GET", f"/api/v1/campaigns/{campaign}/targets")  # reads catch up too
        events = control.webhook_events(campaign_id=campaign)
        payloads = receiver.wait_for(count=len(events), timeout=10)
        assert len(events) >= 2 and {p["target_id"] for p in payloads} == ids
        for payload in payloads:
            assert set(payload) == KEYS
            target = control.api("GET", f"/api/v1/targets/{payload['target_id']}")
            log = control.api("GET", f"/api/v1/call-logs/{payload['call_log_id']}")
            assert log["campaign_target_id"] == payload["target_id"]
            assert target["call_log_ids"][payload["attempt"] - 1] == payload["call_log_id"]
        for target_id in ids:
            mine = sorted(p["attempt"] for p in payloads if p["target_id"] == target_id)
            assert mine == list(range(1, len(mine) + 1))  # one POST per attempt
            target = control.api("GET", f"/api/v1/targets/{target_id}")
            assert target["retries"] == len(mine) - 1 and target["status"] != "Scheduled"


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [
        ("--webhook-url", "ftp://example.test/x", "is not an http:// or https:// URL"),
        ("--webhook-timeout", "0", "seconds over 0 and at most 600"),
        ("--webhook-timeout", "later", "seconds over 0 and at most 600"),
    ],
)
def test_serve_refuses_a_bad_webhook_flag_in_one_line(
    flag: str, value: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from prosper_mock.cli import main

    assert main(["serve", flag, value]) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and said in err and "Traceback" not in err


def test_the_state_file_keeps_events_and_their_sends_for_a_rerun_after_a_restart(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.json"
    with WebhookReceiver() as receiver:
        receiver.answer(503)
        args = ["--quiet", "--virtual-clock", "--state-file", str(state)]
        with serve([*args, "--webhook-url", receiver.url]) as first:
            control = ControlClient(first.base_url)
            campaign = control.campaigns()[0]["id"]
            control.api(
                "POST",
                f"/api/v1/campaigns/{campaign}/targets",
                {"targets": [{"phone_number": "+15550003333"}], "launch": True},
            )
            control.advance_clock(900)
            receiver.wait_for(delivered=False)
            deadline = time.monotonic() + 10
            while not control.webhook_events(state="failed") and time.monotonic() < deadline:
                time.sleep(0.05)
            [failed] = control.webhook_events()
            assert failed["state"] == "failed" and failed["sends"][0]["status"] == 503
        receiver.answer(200)
        with serve([*args, "--webhook-url", receiver.url]) as second:
            control = ControlClient(second.base_url)
            assert control.webhook_events() == [failed]  # restored as it was
            window = {"from_date": failed["created_at"], "to_date": failed["created_at"]}
            answer = control.api(
                "POST", f"/api/v1/campaigns/{campaign}/webhooks/rerun-failed", window
            )
            assert answer["rerun"] == 1
            receiver.wait_for()
        assert [r.status for r in receiver.received] == [503, 200]
