"""Shared pieces of the command line: the parser class, option groups, value types."""

from __future__ import annotations

import argparse
import ipaddress
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TypeAlias

from prosper_mock.base.errors import ProsperMockError
from prosper_mock.base.progress import progress_bar
from prosper_mock.serving.semantics import Semantics
from prosper_mock.world.clock import VirtualClock, timestamp_of
from prosper_mock.world.generate import DEFAULT_ANCHOR, WorldRecipe
from prosper_mock.world.generate.recipe import EARLIEST_ANCHOR, LATEST_ANCHOR, anchor_problem
from prosper_mock.world.model import World

DEFAULT_PORT = 8765


class UsageError(ProsperMockError, ValueError):
    """A wrong invocation found after parsing: reported like argparse's own errors."""


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line naming the command, and where its help is."""

    def error(self, message: str) -> NoReturn:
        # The full usage block of a command with twenty options buries the one line that
        # matters; --help shows it to whoever wants it.
        self.exit(2, f"{self.prog}: error: {message}\nsee '{self.prog} --help'\n")


# Where each subcommand adds its parser (``add_*``); add_parser makes a ``Parser`` too.
# (A string: argparse's action is generic for type checkers only.)
Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"


def refuse_ignored(rules: Sequence[tuple[bool, bool, str]]) -> None:
    """Refuse an option that would change nothing: ``(given, takes_effect, message)``."""
    for given, takes_effect, message in rules:
        if given and not takes_effect:
            raise UsageError(message)


def fill_defaults(args: argparse.Namespace, defaults: dict[str, object]) -> None:
    """Options left at ``None`` (so that ``refuse_ignored`` sees whether they were given)
    take their documented defaults."""
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


WORLD_DEFAULTS: dict[str, object] = {
    "seed": 0,
    "live_calls": WorldRecipe.live_calls,
    "call_logs": WorldRecipe.call_logs,
    "anchor": DEFAULT_ANCHOR,
}


def add_world_options(parser: argparse.ArgumentParser, world_help: str) -> None:
    """Options that choose a world: a seed and sizes, or a world file (``world_help``)."""
    group = parser.add_argument_group("world")
    group.add_argument("--seed", type=int, metavar="N", help="faker seed (default: 0)")
    group.add_argument(
        "--live-calls",
        type=count,
        metavar="N",
        help=f"live calls to generate (default: {WorldRecipe.live_calls})",
    )
    group.add_argument(
        "--call-logs",
        type=count,
        metavar="N",
        help=f"finished calls to generate (default: {WorldRecipe.call_logs})",
    )
    group.add_argument(
        "--anchor",
        type=anchor,
        metavar="ISO",
        help=f"the generated world's 'now', ISO-8601 with offset, from {EARLIEST_ANCHOR} to "
        f"before {LATEST_ANCHOR} (default: {DEFAULT_ANCHOR})",
    )
    group.add_argument("--world", type=Path, metavar="FILE", help=world_help)


def world_rules(
    args: argparse.Namespace, simulate: bool | None = None
) -> list[tuple[bool, bool, str]]:
    """``refuse_ignored`` rules of the world options: they make a generated world only, but
    the seed also seeds ``--simulate`` (``simulate``: whether given; ``None``: no such option)."""
    generated = args.world is None
    rules = [
        (getattr(args, name) is not None, generated, f"{flag} sizes a generated world, not --world")
        for name, flag in (("live_calls", "--live-calls"), ("call_logs", "--call-logs"))
    ]
    rules.append(
        (args.anchor is not None, generated, "--anchor dates a generated world, not --world")
    )
    rules.append(
        (
            args.seed is not None,
            generated or bool(simulate),
            "--seed seeds a generated world, not --world"
            + (" (with --world, it seeds only --simulate)" if simulate is not None else ""),
        )
    )
    return rules


def world_from_args(args: argparse.Namespace) -> World:
    if args.world is not None:
        return World.from_file(args.world)
    recipe = WorldRecipe(
        seed=args.seed, live_calls=args.live_calls, call_logs=args.call_logs, anchor=args.anchor
    )
    with progress_bar(recipe.live_calls + recipe.call_logs, "indexing the world") as bar:
        return World.generate(recipe, progress=bar.update)


def add_semantics_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "undocumented behaviour",
        "answers upstream's spec does not document; choose the ones your client expects",
    )
    group.add_argument(
        "--missing-lookup-status",
        type=int,
        choices=(400, 422),
        default=400,
        help="answer when no complete lookup is given: 400 {'detail': ...}, or 422 in "
        "FastAPI's validation-error shape (default: 400)",
    )
    group.add_argument(
        "--not-found-status",
        type=client_error_status,
        metavar="STATUS",
        default=404,
        help="status (4xx) when no store has the call (default: 404)",
    )
    group.add_argument(
        "--not-found-detail",
        metavar="TEXT",
        default="Call not found",
        help="detail when no store has the call (default: 'Call not found')",
    )


def semantics_from_args(args: argparse.Namespace) -> Semantics:
    return Semantics(
        missing_lookup=args.missing_lookup_status,
        not_found_status=args.not_found_status,
        not_found_detail=args.not_found_detail,
    )


def _integer(text: str, lowest: int, highest: int | None = None) -> int:
    wanted = (
        f"a whole number from {lowest} to {highest}"
        if highest is not None
        else f"a whole number >= {lowest}"
    )
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
    if value < lowest or (highest is not None and value > highest):
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {value}")
    return value


def count(text: str) -> int:
    """argparse type: a whole number >= 0."""
    return _integer(text, 0)


def positive(text: str) -> int:
    """argparse type: a whole number >= 1."""
    return _integer(text, 1)


def port(text: str) -> int:
    """argparse type: a TCP port, 0 (any free port) to 65535."""
    return _integer(text, 0, 65535)


def client_error_status(text: str) -> int:
    """argparse type: an HTTP status 400 to 499."""
    return _integer(text, 400, 499)


def positive_number(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def moment(text: str) -> str:
    """argparse type: an ISO-8601 time with a UTC offset (kept as the text given)."""
    try:
        timestamp_of(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"must be an ISO-8601 time with a UTC offset (e.g. {DEFAULT_ANCHOR}), got {text!r}"
        ) from None
    return text


def anchor(text: str) -> str:
    """argparse type: a generated world's anchor (``moment``, in the range a world can have)."""
    problem = anchor_problem(moment(text))
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def clock_start(text: str) -> str:
    """argparse type: a virtual clock's start (``moment``, in the range the clock keeps to)."""
    try:
        VirtualClock(moment(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, got {text!r}") from None
    return text


def host(text: str) -> str:
    """argparse type: an address to bind: an IP address, or a host name (resolved on binding).

    Text that can only mean an IP address (digits and dots, or a colon) must be a valid one;
    otherwise the error would surface later as something else entirely.
    """
    if re.fullmatch(r"[0-9.]+", text) or ":" in text:
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a valid IP address, so it cannot be bound"
            ) from None
    elif not text:
        raise argparse.ArgumentTypeError("an empty address cannot be bound")
    return text
