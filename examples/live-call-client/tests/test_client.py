"""The client's tests: nothing but the prosper-voice-mock plugin's fixtures."""

from __future__ import annotations

import pytest
from live_call_client import LiveCallClient, LiveCallError


@pytest.fixture
def client(prosper) -> LiveCallClient:
    return LiveCallClient(prosper.base_url)


def test_get_a_live_call_by_id(prosper, client: LiveCallClient) -> None:
    call = prosper.start_call(user_phone_number="+15550001111")
    snapshot = client.get(call_log_id=call["call_log_id"])
    assert snapshot["source"] == "live_calls"
    assert snapshot["user_phone_number"] == "+15550001111"
    assert prosper.requests_for(call_log_id=str(call["call_log_id"]))


def test_live_call_wins_over_finished_ones_for_a_phone(prosper, client: LiveCallClient) -> None:
    prosper.add_call_log(user_phone_number="+15550002222")
    live = prosper.start_call(user_phone_number="+15550002222")
    assert client.get(phone="+15550002222")["call_log_id"] == live["call_log_id"]


def test_find_by_flow_variable(prosper, client: LiveCallClient) -> None:
    call = prosper.start_call(variables={"external_id": "PAT-777"})
    assert client.get(key="external_id", value="PAT-777")["call_log_id"] == call["call_log_id"]


def test_unknown_call_is_none_and_bad_input_raises(client: LiveCallClient) -> None:
    assert client.get(call_log_id=987654321) is None
    with pytest.raises(LiveCallError) as info:
        client.get(key="external_id")  # no value
    assert info.value.status == 400


def test_wait_until_finished_sees_the_call_move_to_the_logs(prosper, client) -> None:
    call = prosper.start_call()
    call_id = call["call_log_id"]
    prosper.map_variables(call_id, identity_verified=True)

    def end_on_first_poll(_interval: float) -> None:
        prosper.end_call(call_id)

    finished = client.wait_until_finished(call_id, sleep=end_on_first_poll)
    assert finished["source"] == "call_logs"
    assert finished["variables.identity_verified"] is True
    assert [e.params["call_log_id"] for e in prosper.journal] == [str(call_id)] * 2


@pytest.mark.prosper_world(seed=11, live_calls=2, call_logs=5)
def test_a_world_of_its_own(prosper, client: LiveCallClient) -> None:
    assert len(list(prosper.world.live_calls)) == 2
    first = next(iter(prosper.world.live_calls))
    assert client.get(call_log_id=first.call_log_id)["source"] == "live_calls"
