"""The suites' options, declared once, as the command and pytest build them."""

from __future__ import annotations

import argparse

import pytest

from prosper_contracts.options import (
    SUITE_OPTIONS,
    add_to_command,
    defaults,
    pytest_argv,
)
from prosper_mock.cli.options import Parser

GIVEN = [
    "--api-key-env",
    "KEY_VAR",
    "--api-key-header",
    "X-Other",
    "--control-token-env",
    "TOKEN_VAR",
    "--examples",
    "7",
    "--seed",
    "12",
    "--sample",
    "call_log_id=1",
    "--sample",
    "user_phone_number=%2B1",
    "--operation",
    "GET /api/v1/health",
    "--operation",
    "get_live_call_api_v1_live_calls_get",
    "--discovery-report",
    "d.md",
    "--negative",
    "--allow-writes",
    "--sandbox-campaign",
    "camp-1",
    "--allow-insecure-key",
    "--junit-xml",
    "out.xml",
    "--min-coverage",
    "62.5",
    "--clear-faults",
]


def command_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="contract")
    add_to_command(parser)
    return parser


def test_every_option_is_given_in_the_example() -> None:
    assert {o.flag for o in SUITE_OPTIONS} == {a for a in GIVEN if a.startswith("--")}


def test_what_the_command_is_given_reaches_pytest_as_the_same_values(
    pytester: pytest.Pytester,
) -> None:
    args = command_parser().parse_args(GIVEN)
    config = pytester.parseconfig(*pytest_argv(args))
    option = config.option
    assert option.prosper_api_key_env == "KEY_VAR"
    assert option.prosper_api_key_header == "X-Other"
    assert option.prosper_control_token_env == "TOKEN_VAR"
    assert option.prosper_examples == 7
    assert option.prosper_hypothesis_seed == 12
    assert option.prosper_sample == ["call_log_id=1", "user_phone_number=%2B1"]
    assert option.prosper_operation == ["GET /api/v1/health", "get_live_call_api_v1_live_calls_get"]
    assert option.prosper_discovery_report == str(pytester.path / "d.md")  # made absolute
    assert option.prosper_negative is True and option.allow_insecure_key is True
    assert option.prosper_allow_writes is True and option.prosper_sandbox_campaign == "camp-1"
    assert option.prosper_junit_xml == str(pytester.path / "out.xml")
    assert option.prosper_min_coverage == 62.5 and option.prosper_clear_faults is True


def test_both_have_the_same_defaults(pytestconfig: pytest.Config) -> None:
    args = command_parser().parse_args([])
    for name, value in defaults().items():  # taking a value: None until filled, so refusals
        assert getattr(args, name) is None  # can tell whether it was given
        setattr(args, name, value)
    assert pytest_argv(args) == [
        "--prosper-api-key-env",
        "PROSPER_API_KEY",
        "--prosper-api-key-header",
        "X-Api-Key",
        "--prosper-control-token-env",
        "PROSPER_MOCK_CONTROL_TOKEN",
        "--prosper-examples",
        "50",
    ]
    for option in SUITE_OPTIONS:
        under_pytest = getattr(pytestconfig.option, option.pytest_attribute)
        expected = {"flag": False, "many": []}.get(option.kind, option.default)
        assert under_pytest == expected, option.name
        assert getattr(args, option.dest) == expected, option.name


def test_each_help_names_the_target_option_of_its_own_interface(
    pytestconfig: pytest.Config, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        command_parser().parse_args(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for option in SUITE_OPTIONS:
        assert option.help_for("--base-url") in shown, option.name
    negative = next(o for o in SUITE_OPTIONS if o.name == "negative")
    assert "--base-url that is not" in negative.help_for("--base-url")
    assert "--prosper-base-url that is not" in negative.help_for("--prosper-base-url")


def test_a_command_value_out_of_range_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        command_parser().parse_args(["--examples", "0"])
    assert "--examples: must be a whole number >= 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize(("given", "why"), [("101", "between 0 and 100"), ("x", "a number")])
def test_a_min_coverage_that_is_no_percentage_is_refused(
    given: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        command_parser().parse_args(["--min-coverage", given])
    assert f"--min-coverage: {given!r} is not {why}" in capsys.readouterr().err
