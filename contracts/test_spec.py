"""Spec conformance: schemathesis-generated requests, built-in checks plus the semantic rules."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import negative_data_rejection

from prosper_contracts.checks import (
    failure_rules,
    failure_text,
    fastapi_validation,
    semantic_rules,
)
from prosper_contracts.findings import Finding
from prosper_contracts.generation import run_settings, with_seed
from prosper_contracts.kit import POSITIVE_EXPECTED_STATUSES, contract_document
from prosper_contracts.target import Target

CONFIG = {"checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_EXPECTED_STATUSES}}}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_spec_conformance(
    contract_target: Target,
    contract_examples: int,
    contract_seed: int | None,
    mode: Any,
    request: pytest.FixtureRequest,
) -> None:
    """Generated requests for every GET operation: no 5xx, documented statuses and schemas,
    content types, positive data accepted, invalid data rejected exactly as FastAPI does."""
    negative = mode == GenerationMode.NEGATIVE
    # Anything that is not a mock may be the real API (or a proxy in front of it): it gets
    # valid requests only, unless the user asks for the invalid ones too.
    if negative and not (contract_target.is_mock or request.config.option.prosper_negative):
        pytest.skip(
            "invalid requests go to an endpoint that is not a prosper-voice-mock only with "
            "--negative (pytest: --prosper-negative)"
        )
    schema = schemathesis.openapi.from_dict(
        contract_document(), config=SchemathesisConfig.from_dict(CONFIG)
    )
    found: list[Finding] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the vendored spec is broken: say so, do not skip it
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue  # never send writes to an endpoint under test

        @run_settings(contract_examples, contract_seed)
        @given(case=operation.as_strategy(generation_mode=mode))
        def exercise(case: Any) -> None:
            try:
                case.call_and_validate(
                    base_url=contract_target.base_url,
                    headers=contract_target.headers(),
                    additional_checks=[semantic_rules, fastapi_validation],
                    excluded_checks=[negative_data_rejection],
                )
            except BaseExceptionGroup as group:
                for failure in group.exceptions:
                    _record(contract_target, found, failure, case)
            except AssertionError as failure:
                _record(contract_target, found, failure, case)

        with_seed(exercise, contract_seed)()
    assert not found, "\n".join(str(f) for f in found)


def _record(target: Target, found: list[Finding], failure: Any, case: Any) -> None:
    title, message = failure_text(failure)
    text = f"{title}: {message}" if title else message
    for rule in failure_rules(failure):
        finding = Finding(
            rule, text.splitlines()[0][:300], target.curl(sent_query_of(case) or None)
        )
        target.findings.add(finding)
        if all((f.rule, f.message) != (finding.rule, finding.message) for f in found):
            found.append(finding)


def sent_query_of(case: Any) -> str:
    from urllib.parse import urlencode

    query = case.query or {}
    return urlencode(query, doseq=True) if isinstance(query, dict) else str(query)
