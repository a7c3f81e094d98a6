"""``prosper-mock``: the parser of every subcommand, and ``main``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from prosper_mock.base.version import __version__
from prosper_mock.cli.generate import (
    add_generate,
)
from prosper_mock.cli.options import (
    Parser,
    Subcommands,
    UsageError,
)
from prosper_mock.cli.proxy import (
    add_proxy,
)
from prosper_mock.cli.serve import (
    add_serve,
)
from prosper_mock.cli.spec import (
    add_spec,
)
from prosper_mock.world.model import WorldError


def add_contract(sub: Subcommands) -> None:
    from prosper_contracts.cli import add_contract as add

    add(sub)


COMMANDS: list[Callable[[Subcommands], None]] = [
    add_serve,
    add_generate,
    add_contract,
    add_spec,
    add_proxy,
]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="prosper-mock",
        description="Mock server and contract kit for Prosper Voice's GET /api/v1/live-calls.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def _chosen_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Parser:
    """The (sub)command's own parser: its errors name the command the user typed."""
    while True:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = getattr(args, subs[0].dest, None) if subs else None
        if chosen is None:
            assert isinstance(parser, Parser)
            return parser
        parser = subs[0].choices[chosen]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:  # argparse exits (2 on errors, 0 for --help): a caller of main() gets the status
        args, unknown = parser.parse_known_args(argv)
        command = _chosen_parser(parser, args)
        if unknown:
            command.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return int(args.run(args) or 0)
    except UsageError as exc:
        try:
            command.error(str(exc))
        except SystemExit as usage:
            return int(usage.code or 0)
    except (WorldError, ValueError) as exc:
        print(f"prosper-mock: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the port is taken: say so, no traceback
        where = f": {exc.filename}" if exc.filename and str(exc.filename) not in str(exc) else ""
        print(f"prosper-mock: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
