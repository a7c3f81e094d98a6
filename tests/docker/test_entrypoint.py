"""docker/entrypoint.py: the serve command the container runs, control API only with a token."""

from __future__ import annotations

import sys

import pytest

from prosper_mock.cli.options import DEFAULT_PORT
from tests.docker.scripts import load

entrypoint = load("entrypoint")
SERVE = [sys.executable, "-m", "prosper_mock", "serve"]


def test_without_a_token_the_api_is_served_alone_on_the_default_port() -> None:
    assert entrypoint.command(["--host", "0.0.0.0"], {}) == [
        *SERVE,
        "--host",
        "0.0.0.0",
        "--port",
        "8765",
        "--no-control",
    ]
    assert str(DEFAULT_PORT) == entrypoint.DEFAULT_PORT


def test_a_token_in_the_environment_turns_the_control_api_on() -> None:
    env = {"PROSPER_MOCK_CONTROL_TOKEN": "s3cret"}
    argv = entrypoint.command(["--host", "0.0.0.0"], env)
    assert "--no-control" not in argv
    assert "s3cret" not in argv  # serve reads it from the environment: not in the process list


def test_an_empty_token_is_no_token() -> None:
    assert "--no-control" in entrypoint.command([], {"PROSPER_MOCK_CONTROL_TOKEN": ""})


@pytest.mark.parametrize(
    "args",
    [
        ["--control-token", "t"],
        ["--control-token=t"],
        ["--control-token-env", "MINE"],
        ["--no-control"],
    ],
)
def test_arguments_that_decide_the_control_api_are_left_to_serve(args: list[str]) -> None:
    argv = entrypoint.command(args, {})
    assert argv.count("--no-control") == args.count("--no-control")


def test_the_port_comes_from_the_environment_unless_the_arguments_name_one() -> None:
    assert entrypoint.command([], {"PROSPER_MOCK_PORT": "9000"})[-3:-1] == ["--port", "9000"]
    argv = entrypoint.command(["--port", "9100"], {"PROSPER_MOCK_PORT": "9000"})
    assert argv.count("--port") == 1 and "9100" in argv
