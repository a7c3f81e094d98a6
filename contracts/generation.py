"""How the kit runs hypothesis: the one set of settings every generated run uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed

T = TypeVar("T", bound=Callable[..., Any] | type)


def run_settings(examples: int, seed: int | None, **overrides: Any) -> settings:
    """Settings for ``examples`` generated requests (or steps) against an endpoint.

    No deadline and no health check: the time is the endpoint's, and the strategies are
    schemathesis's, not ours to tune. No example database and, without ``seed``,
    derandomised: a run depends on its seed alone, the same requests every time. Generation
    only, no shrinking: a finding already names the rule and carries a curl that shows it.
    ``overrides``: what one run needs beyond that (e.g. ``stateful_step_count``).
    """
    chosen: dict[str, Any] = {
        "max_examples": examples,
        "deadline": None,
        "database": None,
        "derandomize": seed is None,
        "phases": [Phase.generate],
        "suppress_health_check": list(HealthCheck),
    }
    return settings(**{**chosen, **overrides})


def with_seed(test: T, seed: int | None) -> T:
    """``test`` drawing from ``seed`` (unchanged, hence derandomised, when ``None``)."""
    return test if seed is None else hypothesis_seed(seed)(test)
