"""The webhooks' table: what a setting accepts, an event's forms, a send recorded once."""

from __future__ import annotations

import pytest

from prosper_mock import InvalidChange
from prosper_mock.world.webhooks import (
    DELIVERED,
    FAILED,
    HookSetting,
    Send,
    WebhookTable,
    checked_headers,
    checked_url,
    event_from_dict,
    setting_from_dict,
    shown_url,
)


def _event(table: WebhookTable) -> int:
    return table.new_event(
        campaign_id="c",
        target_id="t",
        call_log_id=7,
        attempt=1,
        max_attempts=3,
        next_attempt_scheduled=None,
        created_at="2026-01-15T15:00:00.000+00:00",
    ).id


@pytest.mark.parametrize(
    "url", ["", "ftp://host/x", "http://", "http://h:port/x", "http://h/a b", 7, "x" * 3000]
)
def test_a_url_must_be_http_or_https_with_a_host(url: object) -> None:
    with pytest.raises(InvalidChange, match="url"):
        checked_url(url)


def test_a_good_url_is_kept_as_given() -> None:
    assert checked_url("https://example.test:8443/hook?x=1") == "https://example.test:8443/hook?x=1"


@pytest.mark.parametrize(
    "headers",
    [[], {"bad name": "x"}, {"Host": "x"}, {"content-length": "1"}, {"X": 1}, {"X": "a\r\nb"}],
)
def test_headers_are_tokens_with_one_line_values_the_mock_does_not_set(headers: object) -> None:
    with pytest.raises(InvalidChange, match="headers"):
        checked_headers(headers)


def test_a_send_is_recorded_only_against_the_sends_it_followed() -> None:
    table = WebhookTable()
    event_id = _event(table)
    ok = Send("2026-01-15T15:00:00.000+00:00", "http://h/x", True, 204)
    assert table.record(event_id, 1, ok) is False  # it had no send yet
    assert table.record(event_id, 0, ok) is True
    assert table.events[event_id].state == DELIVERED
    assert table.record(event_id, 0, ok) is False  # delivered: not pending any more
    assert table.record(99, 0, ok) is False


def test_an_event_reads_back_from_its_dict_and_bad_ones_are_refused() -> None:
    table = WebhookTable()
    event_id = _event(table)
    table.record(event_id, 0, Send("2026-01-15T15:00:00.000+00:00", None, False, None, "down"))
    event = table.events[event_id]
    assert event.state == FAILED
    assert event_from_dict(event.to_dict(), "e") == event
    bad = event.to_dict()
    payload = {**bad["payload"], "attempt": "1"}
    for broken in ({**bad, "state": "lost"}, {**bad, "id": 0}, {**bad, "payload": None},
                   {**bad, "sends": {}}, {**bad, "payload": payload}):  # fmt: skip
        with pytest.raises(InvalidChange):
            event_from_dict(broken, "e")


def test_a_setting_reads_back_from_its_dict() -> None:
    setting = HookSetting("http://h/x", {"X-A": "1"}, 2)
    assert setting_from_dict(setting.to_dict(), "s") == setting
    with pytest.raises(InvalidChange):
        setting_from_dict({"url": "http://h/x", "extra": 1}, "s")
    with pytest.raises(InvalidChange):
        setting_from_dict({"url": "http://h/x", "max_attempts": 11}, "s")


def test_the_earliest_retry_comes_first_and_a_copy_is_independent() -> None:
    table = WebhookTable("http://default/x")
    table.schedule("b", 20.0)
    table.schedule("a", 10.0)
    assert table.next_retry() == (10.0, "a")
    twin = table.copy()
    twin.schedule("a", None)
    assert table.next_retry() == (10.0, "a") and twin.next_retry() == (20.0, "b")
    assert twin.default_url == "http://default/x"


def test_the_indexes_follow_reschedules_drops_and_roll_backs() -> None:
    table = WebhookTable()
    saved = table.savepoint()
    table.schedule("a", 10.0)
    table.schedule("a", 30.0)  # rescheduled: its earlier time no longer counts
    table.schedule("b", 20.0)
    assert table.next_retry() == (20.0, "b")
    table.schedule("b", None)
    assert table.next_retry() == (30.0, "a")
    first, second = _event(table), _event(table)
    table.record(first, 0, Send("2026-01-15T15:00:00.000+00:00", None, True, 200))
    assert [e.id for e in table.pending()] == [second]
    table.drop_event(second)
    assert table.pending() == []
    table.roll_back(saved)
    assert table.next_retry() is None and table.pending() == [] and table.events == {}


def test_a_shown_url_masks_its_password_only() -> None:
    assert shown_url("http://u:secret@h:8080/x?q=1") == "http://u:***@h:8080/x?q=1"
    assert shown_url("http://h/x") == "http://h/x"
