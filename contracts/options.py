"""The contract suites' options, declared once.

``prosper-mock contract --NAME`` (argparse) and ``pytest --prosper-NAME`` (the plugin)
are both built from ``SUITE_OPTIONS``, and the command hands its values to pytest through
the same table. No pytest here: the plugin loads in every pytest run, the command
parses without the contracts extra.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from prosper_mock.base.upstream import API_KEY_ENV

if TYPE_CHECKING:
    import pytest

Kind = Literal["text", "int", "positive", "percent", "flag", "many", "path"]


@dataclass(frozen=True)
class SuiteOption:
    """One option of the suites: ``--NAME`` on the command, ``--prosper-NAME`` under pytest.

    ``help`` may name the target's option as ``{base_url}`` (``--base-url`` on the command,
    ``--prosper-base-url`` under pytest). ``kind``: ``text`` and ``int`` take a value,
    ``positive`` a whole number >= 1 (pytest takes any integer: its fixture clamps it),
    ``percent`` a number from 0 to 100,
    ``flag`` none, ``many`` one per use, ``path`` a file (handed to pytest absolute).
    """

    name: str
    help: str
    kind: Kind = "text"
    default: str | int | None = None
    metavar: str | None = None
    pytest_name: str | None = None  # when it differs from ``name``
    pytest_dest: str | None = None  # when it differs from the one pytest derives

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    @property
    def dest(self) -> str:
        """The command's attribute for it."""
        return self.name.replace("-", "_")

    @property
    def pytest_flag(self) -> str:
        return f"--prosper-{self.pytest_name or self.name}"

    @property
    def pytest_attribute(self) -> str:
        """The attribute of ``config.option`` that holds it."""
        return self.pytest_dest or self.pytest_flag[2:].replace("-", "_")

    def help_for(self, base_url: str) -> str:
        return self.help.format(base_url=base_url)

    def pytest_argv(self, value: object) -> list[str]:
        """The pytest arguments that give ``value`` (none for an unset one)."""
        if self.kind == "flag":
            return [self.pytest_flag] if value else []
        if self.kind == "many":
            assert isinstance(value, Sequence)
            return [part for each in value for part in (self.pytest_flag, str(each))]
        if value is None:
            return []
        if self.kind == "path":  # the suites' rootdir is elsewhere: no relative paths
            return [self.pytest_flag, str(Path(str(value)).resolve())]
        return [self.pytest_flag, str(value)]


SUITE_OPTIONS: tuple[SuiteOption, ...] = (
    SuiteOption(
        "api-key-env",
        "environment variable holding the API key (default: PROSPER_API_KEY)",
        default=API_KEY_ENV,
        metavar="VAR",
    ),
    SuiteOption(
        "api-key-header",
        "header carrying the API key (default: X-Api-Key)",
        default="X-Api-Key",
        metavar="HEADER",
    ),
    SuiteOption(
        "control-token-env",
        "environment variable with a running mock's control token "
        "(default: PROSPER_MOCK_CONTROL_TOKEN; needs {base_url})",
        default="PROSPER_MOCK_CONTROL_TOKEN",
        metavar="VAR",
    ),
    SuiteOption(
        "examples",
        "generated requests per schemathesis mode (default: 50)",
        kind="positive",
        default=50,
        metavar="N",
    ),
    SuiteOption(
        "seed",
        "hypothesis seed for the generated requests and steps "
        "(default: derandomised, the same requests every run)",
        kind="int",
        metavar="N",
        pytest_name="hypothesis-seed",
    ),
    SuiteOption(
        "sample",
        "a known lookup for the read-only checks against a real endpoint, "
        "e.g. call_log_id=123 (repeatable)",
        kind="many",
        metavar="QUERY",
    ),
    SuiteOption(
        "operation",
        "check only this operation against the spec: its operationId, or METHOD /path "
        "(repeatable; default: every operation; the semantic suites run whatever it says)",
        kind="many",
        metavar="OPERATION",
    ),
    SuiteOption(
        "discovery-report",
        "write the discovery report (markdown) to FILE",
        kind="path",
        metavar="FILE",
    ),
    SuiteOption(
        "negative",
        "also send invalid requests to a {base_url} that is not a prosper-voice-mock "
        "(a mock always gets them)",
        kind="flag",
    ),
    SuiteOption(
        "allow-writes",
        "send writes (POST, PATCH, DELETE) to a {base_url} that is not the mock, to the "
        "sandbox campaign only (the mock always gets them): on the real service they "
        "place real phone calls",
        kind="flag",
    ),
    SuiteOption(
        "sandbox-campaign",
        "the one campaign writes may reach on an endpoint that is not the mock "
        "(needs the option allowing writes)",
        metavar="ID",
    ),
    SuiteOption(
        "junit-xml",
        "write a JUnit XML report to FILE: a test case per operation, per rule and per suite",
        kind="path",
        metavar="FILE",
    ),
    SuiteOption(
        "min-coverage",
        "fail the run when fewer than PERCENT of the documented statuses (the spec's and the "
        "kit's 400/404, of the operations checked) were answered (default: no minimum)",
        kind="percent",
        metavar="PERCENT",
    ),
    SuiteOption(
        "clear-faults",
        "clear a running mock's fault rules for the run (they are put back after it); "
        "without it a run says which rules are active and reports the faults they cause",
        kind="flag",
    ),
    SuiteOption(
        "allow-insecure-key",
        "send the API key over plain http to a non-loopback {base_url} anyway",
        kind="flag",
        pytest_dest="allow_insecure_key",
    ),
)


def writes_refusal(allow_writes: bool, sandbox_campaign: str | None) -> str | None:
    """Why the write options given together make no sense, or ``None``: ``--allow-writes``
    without a sandbox would let writes reach any campaign, a sandbox without it does nothing.
    The command and the plugin both refuse with this text (exit status 2)."""
    if allow_writes and not sandbox_campaign:
        return (
            "--allow-writes needs --sandbox-campaign ID: writes to an endpoint that is not a "
            "prosper-voice-mock go only to the campaign you name"
        )
    if sandbox_campaign is not None and not allow_writes:
        return "--sandbox-campaign needs --allow-writes (without it no write is sent)"
    return None


def defaults() -> dict[str, object]:
    """The command's attribute -> default of the options that take a value."""
    return {o.dest: o.default for o in SUITE_OPTIONS if o.kind not in ("flag", "many")}


def percent(text: str) -> float:
    """A percentage from 0 to 100 (``argparse`` type: a bad one is a usage error)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 100")
    return value


def _argument(
    option: SuiteOption, base_url_flag: str, types: dict[str, Callable[[str], Any]]
) -> dict[str, Any]:
    """``add_argument`` keywords of ``option``, for an interface whose target option is
    ``base_url_flag``; ``types`` converts the values of each kind that has one."""
    kwargs: dict[str, Any] = {"help": option.help_for(base_url_flag)}
    if option.kind == "flag":
        kwargs["action"] = "store_true"
        return kwargs
    kwargs["metavar"] = option.metavar
    if option.kind == "many":
        kwargs.update(action="append", default=[])
    elif option.kind in types:
        kwargs["type"] = types[option.kind]
    return kwargs


def add_to_command(parser: argparse.ArgumentParser) -> None:
    """The options on ``prosper-mock contract``; those taking a value default to ``None``
    (so that a refusal sees whether it was given) until ``defaults()`` fills them."""
    from prosper_mock.cli.options import positive

    types: dict[str, Callable[[str], Any]] = {"int": int, "positive": positive, "percent": percent}
    for option in SUITE_OPTIONS:
        parser.add_argument(option.flag, **_argument(option, "--base-url", types))


def add_to_pytest(group: pytest.OptionGroup) -> None:
    """The options under pytest, ``--prosper-NAME``, with their defaults."""
    for option in SUITE_OPTIONS:
        types: dict[str, Callable[[str], Any]] = {"int": int, "positive": int, "percent": percent}
        kwargs = _argument(option, "--prosper-base-url", types)
        if option.pytest_dest:
            kwargs["dest"] = option.pytest_dest
        if option.kind not in ("flag", "many"):
            kwargs["default"] = option.default
        group.addoption(option.pytest_flag, **kwargs)


def pytest_argv(args: argparse.Namespace) -> list[str]:
    """The pytest arguments that give the suites what the command was given."""
    return [
        part for option in SUITE_OPTIONS for part in option.pytest_argv(getattr(args, option.dest))
    ]
