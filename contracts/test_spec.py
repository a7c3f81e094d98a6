"""Spec conformance: schemathesis-generated requests, built-in checks plus the semantic rules."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from prosper_contracts.checks import (
    failure_rules,
    fastapi_validation,
    finding_text,
    semantic_rules,
)
from prosper_contracts.findings import Finding
from prosper_contracts.generation import run_settings, with_seed
from prosper_contracts.kit import (
    POSITIVE_EXPECTED_STATUSES,
    contract_document,
    selected_operations,
)
from prosper_contracts.runner import EndpointFault
from prosper_contracts.safety import WriteRefused
from prosper_contracts.target import Target

CONFIG = {"checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_EXPECTED_STATUSES}}}
# Judged on every answer of every suite by the run's session (prosper_contracts.answers), as
# no-server-error, documented-status and response-schema: once, not twice for these.
JUDGED_BY_THE_SESSION = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_spec_conformance(
    contract_target: Target,
    contract_examples: int,
    contract_seed: int | None,
    mode: Any,
    request: pytest.FixtureRequest,
) -> None:
    """Generated requests for every operation: no 5xx, documented statuses and schemas,
    content types, positive data accepted, invalid data rejected exactly as FastAPI does.

    A target that is not a mock gets reads only, unless the run allows writes to a sandbox
    campaign: then the writes' campaign is the sandbox and their targets the run's own
    (``pin``); anything else is refused before it is sent (``prosper_contracts.safety``)."""
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
    operations = []
    chosen = selected_operations(request.config.option.prosper_operation)
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the vendored spec is broken: say so, do not skip it
        operation = result.ok()
        if chosen is None or f"{operation.method.upper()} {operation.path}" in chosen:
            operations.append(operation)
    sandboxed = not contract_target.is_mock and contract_target.writes
    with restored(contract_target):
        _exercise(
            contract_target,
            operations,
            mode,
            negative,
            sandboxed,
            found,
            contract_examples,
            contract_seed,
        )
    assert not found, "\n".join(str(f) for f in found)


@contextlib.contextmanager
def restored(target: Target) -> Iterator[None]:
    """A mock's world as it was before the generated writes changed it: a running one by its
    control API's snapshot, one in this process by its world's. A mock that refuses changes
    is sent no write, so there is nothing to restore."""
    if target.read_only:
        yield
    elif target.control is not None:
        saved = target.control.snapshot()
        try:
            yield
        finally:
            target.control.restore(saved)
    elif target.world is not None:
        kept = target.world.snapshot()
        try:
            yield
        finally:
            target.world.restore(kept)
    else:
        yield


def _exercise(
    contract_target: Target,
    operations: list[Any],
    mode: Any,
    negative: bool,
    sandboxed: bool,
    found: list[Finding],
    contract_examples: int,
    contract_seed: int | None,
) -> None:
    for operation in sorted(operations, key=creates_first):
        if operation.method.upper() != "GET" and not contract_target.writes:
            continue  # reads only: writes to the real service place real phone calls

        @run_settings(contract_examples, contract_seed)
        @given(case=operation.as_strategy(generation_mode=mode))
        def exercise(case: Any) -> None:
            if sandboxed:
                pin(case, contract_target, negative)
            try:
                response = case.call(
                    base_url=contract_target.base_url,
                    session=contract_target.session,
                    headers=contract_target.headers(),
                )
            except (WriteRefused, EndpointFault):
                # not sent (outside the sandbox...), or no answer: the session's finding
                return
            last = contract_target.record.last
            if last is not None and last.fault is not None:
                return  # a 5xx, an undocumented status, a body that is not JSON: a finding
                # already, nothing to judge
            try:
                case.validate_response(
                    response,
                    additional_checks=[semantic_rules, fastapi_validation],
                    excluded_checks=[negative_data_rejection, *JUDGED_BY_THE_SESSION],
                )
            except BaseExceptionGroup as group:
                for failure in group.exceptions:
                    _record(contract_target, found, failure, case)
            except AssertionError as failure:
                _record(contract_target, found, failure, case)

        try:
            with_seed(exercise, contract_seed)()
        except Unsatisfiable:
            if not negative:
                raise
            # nothing of this operation can be made invalid (no parameters, no body)


def creates_first(operation: Any) -> tuple[int, str]:
    """Adding targets runs first, so that writes naming a target have the run's own."""
    adds = operation.method.upper() == "POST" and operation.path.endswith("/targets")
    return (0 if adds else 1, operation.path)


def pin(case: Any, target: Target, negative: bool) -> None:
    """Keep a write to the sandbox: its ``campaign_id`` is the sandbox, the targets it names
    the run's own (a path's ``target_id``; a body's ``target_ids``, and an EHR event's
    ``target_id`` and ``external_id``), no launch by ``count``, no target input naming an
    ``id``. Invalid bodies (negative mode) are left as generated: the guard refuses any that
    names another target."""
    if case.method.upper() == "GET":
        return
    params = case.path_parameters
    if params is not None and "campaign_id" in params:
        params["campaign_id"] = target.sandbox
    created = target.policy.created
    own = sorted(created)
    if params is not None and "target_id" in params and own:
        params["target_id"] = own[len(str(params["target_id"])) % len(own)]
    body = case.body
    if negative or not isinstance(body, dict):
        return
    if isinstance(body.get("target_ids"), list):
        body["target_ids"] = own[: len(body["target_ids"])]
    if body.get("count") is not None:
        body["count"] = None
    if "/ehr-event/" in case.path and own:
        chosen = own[len(str(body.get("target_id"))) % len(own)]
        body["target_id"], body["external_id"] = chosen, created[chosen]
    targets = body.get("targets") if case.path.endswith("/targets") else None
    for item in targets if isinstance(targets, list) else ():
        if isinstance(item, dict):
            item.pop("id", None)  # an input naming an id would name a target of someone else


def _record(target: Target, found: list[Finding], failure: Any, case: Any) -> None:
    """One schemathesis failure as findings: each rule it names once, on the operation, with
    the request that was sent (its body and Content-Type included)."""
    text = finding_text(failure)
    label = f"{case.method.upper()} {case.operation.path}"
    curl = target.last_curl() or target.curl(None, case.formatted_path, case.method)
    for rule in failure_rules(failure):
        finding = Finding(rule, text[:300], curl, label)
        target.findings.add(finding)
        if finding not in found:
            found.append(finding)
