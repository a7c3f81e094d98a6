"""The one set of hypothesis settings of the kit's generated runs."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st

from prosper_contracts.generation import run_settings, with_seed


def draws(seed: int | None, examples: int = 10) -> list[int]:
    drawn: list[int] = []

    @run_settings(examples, seed)
    @given(st.integers())
    def draw(n: int) -> None:
        drawn.append(n)

    with_seed(draw, seed)()
    return drawn


def test_a_run_depends_on_its_seed_alone() -> None:
    assert draws(None) == draws(None)  # derandomised without a seed
    assert draws(5) == draws(5)
    assert draws(5) != draws(None) and draws(5) != draws(6)
    assert len(draws(None, examples=3)) == 3


def test_the_settings_leave_timing_storage_and_shrinking_out() -> None:
    chosen = run_settings(7, None)
    assert chosen.max_examples == 7 and chosen.deadline is None and chosen.database is None
    assert chosen.derandomize and list(chosen.phases) == [Phase.generate]
    assert set(chosen.suppress_health_check) == set(HealthCheck)
    assert not run_settings(7, 3).derandomize


def test_a_run_may_add_what_it_needs() -> None:
    chosen = run_settings(7, None, stateful_step_count=8, phases=[Phase.explicit, Phase.generate])
    assert chosen.stateful_step_count == 8 and chosen.deadline is None
    assert list(chosen.phases) == [Phase.explicit, Phase.generate]


def test_without_a_seed_the_test_is_left_as_it_is() -> None:
    def test() -> None: ...

    assert with_seed(test, None) is test
