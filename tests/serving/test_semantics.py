"""The configurable undocumented behaviours: defaults as docs/semantics.md says, impossible ones
refused."""

from __future__ import annotations

import pytest

from prosper_mock import Semantics


def test_defaults_are_the_documented_decisions() -> None:
    semantics = Semantics()
    assert (semantics.missing_lookup, semantics.not_found_status) == (400, 404)
    assert semantics.not_found_detail == "Call not found"


@pytest.mark.parametrize("status", [400, 422])
def test_missing_lookup_is_400_or_422(status: int) -> None:
    assert Semantics(missing_lookup=status).missing_lookup == status  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [200, 404, 418, 500])
def test_other_missing_lookup_answers_are_refused(status: int) -> None:
    with pytest.raises(ValueError, match="400 or 422"):
        Semantics(missing_lookup=status)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [200, 302, 399, 500, 503])
def test_not_found_must_stay_a_client_error(status: int) -> None:
    with pytest.raises(ValueError, match="4xx"):
        Semantics(not_found_status=status)


@pytest.mark.parametrize("status", [400, 404, 410, 499])
def test_any_client_error_can_answer_not_found(status: int) -> None:
    assert Semantics(not_found_status=status).not_found_status == status
