"""The faults grammar of webhook deliveries."""

from __future__ import annotations

import pytest

from prosper_mock import InvalidChange
from prosper_mock.world.hookfaults import DeliveryFaults, parse_delivery_faults


def test_each_kind_reads_and_shows_back_in_one_order() -> None:
    found = parse_delivery_faults(" drop ,latency=100-300, duplicate=2,reorder")
    assert found == DeliveryFaults((100, 300), 2, True, True)
    assert found.text == "latency=100-300,duplicate=2,reorder,drop"
    assert parse_delivery_faults("duplicate").duplicates == 1
    assert parse_delivery_faults("latency=50").text == "latency=50"
    assert parse_delivery_faults("") == DeliveryFaults() and DeliveryFaults().text == ""


def test_a_latency_is_drawn_from_the_event_and_stays_in_its_range() -> None:
    faults = parse_delivery_faults("latency=100-300")
    delays = [faults.delay(event_id) for event_id in range(1, 50)]
    assert all(0.1 <= d <= 0.3 for d in delays) and len(set(delays)) > 1
    assert faults.delay(7) == faults.delay(7)
    assert DeliveryFaults().delay(7) == 0.0


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("latency=60001", "0 <= min <= max <= 60000"),
        ("latency=300-100", "0 <= min <= max"),
        ("latency=-5", "not a whole number"),
        ("latency=\uff15", "not a whole number"),
        ("duplicate=6", "duplicates must be 1 to 5"),
        ("duplicate=0", "duplicates must be 1 to 5"),
        ("drop=1", "one of latency"),
        ("status=500", "one of latency"),
        ("drop,,reorder", "an empty fault"),
    ],
)
def test_a_bad_fault_is_refused_naming_it(text: str, said: str) -> None:
    with pytest.raises(InvalidChange, match="faults") as refused:
        parse_delivery_faults(text)
    assert said in str(refused.value)
    with pytest.raises(InvalidChange):
        parse_delivery_faults(7)  # type: ignore[arg-type]
