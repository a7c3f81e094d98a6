"""``prosper-mock``: the parser of every subcommand, and ``main``.

``serve`` and ``generate`` are the mock's own. Other packages add subcommands through
the entry-point group ``prosper_mock.commands`` (the contract kit adds ``contract``,
``proxy`` and ``spec``): each entry point names a function that adds its parser, so the
mock never imports them. One that cannot be loaded (its extra is not installed) is still
listed, and running it says what to install.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from prosper_mock.base.version import __version__
from prosper_mock.cli.generate import add_generate
from prosper_mock.cli.options import Parser, Subcommands, UsageError
from prosper_mock.cli.serve import add_serve
from prosper_mock.world.errors import WorldError

COMMAND_GROUP = "prosper_mock.commands"

BUILT_IN: list[Callable[[Subcommands], None]] = [add_serve, add_generate]


@dataclass(frozen=True)
class Unavailable:
    """A registered subcommand whose code cannot be imported here."""

    name: str
    missing: str  # the module that failed to import
    dist: str
    extras: tuple[str, ...]

    def message(self) -> str:
        if not self.extras:
            return f"prosper-mock {self.name} needs {self.missing}: pip install '{self.dist}'"
        extras = ",".join(self.extras)
        needs = f"the {extras} extra" + ("s" if len(self.extras) > 1 else "")
        return (
            f"prosper-mock {self.name} needs {needs} ({self.missing} is missing): "
            f"pip install '{self.dist}[{extras}]'"
        )


def plugged_commands() -> list[EntryPoint]:
    """The registered subcommands, by name (one per name: the first registered wins)."""
    chosen: dict[str, EntryPoint] = {}
    for point in entry_points(group=COMMAND_GROUP):
        chosen.setdefault(point.name, point)
    return [chosen[name] for name in sorted(chosen)]


def _unavailable(point: EntryPoint, exc: ImportError) -> Unavailable:
    dist = point.dist.name if point.dist is not None else point.module.split(".")[0]
    return Unavailable(point.name, exc.name or str(exc), dist, tuple(point.extras))


def _add_unavailable(sub: Subcommands, missing: Unavailable) -> None:
    p = sub.add_parser(
        missing.name,
        help=f"(not installed here: {missing.missing} is missing)",
        description=missing.message(),
    )
    p.set_defaults(unavailable=missing)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="prosper-mock",
        description="Mock server and contract kit for the Prosper Voice API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in BUILT_IN:
        add(sub)
    for point in plugged_commands():
        if point.name in sub.choices:  # the mock's own commands are not replaced
            continue
        try:
            add = point.load()
        except ImportError as exc:
            _add_unavailable(sub, _unavailable(point, exc))
        else:
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
        missing = getattr(args, "unavailable", None)
        if isinstance(missing, Unavailable):  # whatever its options: it cannot run here
            print(missing.message(), file=sys.stderr)
            return 2
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
