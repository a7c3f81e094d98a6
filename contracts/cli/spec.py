"""``prosper-mock spec``: the vendored spec's drift from upstream."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from prosper_mock.cli.options import (
    Subcommands,
)


def add_spec(sub: Subcommands) -> None:
    p = sub.add_parser(
        "spec",
        help="compare the vendored openapi.json with another version",
        description="Spec drift. diff exits 0 when nothing breaking changed, 1 when "
        "something did, 2 on errors; update exits 0 once it replaced the file.",
    )
    actions = p.add_subparsers(dest="spec_command", metavar="ACTION", required=True)
    for name, text in (
        ("diff", "show what changed, classed breaking or not"),
        ("update", "show the diff, then replace the vendored file"),
    ):
        a = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        source = a.add_mutually_exclusive_group(required=True)
        source.add_argument("--url", help="the other version's URL (e.g. upstream's /openapi.json)")
        source.add_argument("--file", help="the other version's file")
        a.add_argument(
            "--vendored",
            type=Path,
            metavar="FILE",
            default=None,
            help="the vendored file to compare with (default: the one this "
            "package serves, i.e. the repo's openapi.json when run from the repo)",
        )
        if name == "update":
            a.add_argument("--yes", action="store_true", help="replace without asking")
    p.set_defaults(run=run_spec)


def run_spec(args: argparse.Namespace) -> int:
    from prosper_contracts.endpoint.specdiff import diff, load_version, report
    from prosper_mock import load_spec, vendored_spec_path

    vendored = (args.vendored or vendored_spec_path()).resolve()
    current = load_spec(vendored)
    other = load_version(args.url, args.file)
    try:
        changes = diff(current, other)
    except Exception as exc:  # a valid document of a shape the diff does not know: say so
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"cannot compare {vendored} with {args.url or args.file}: {first}"
        ) from None
    print(report(changes, str(vendored), args.url or args.file), end="")
    breaking = any(c.breaking for c in changes)
    if args.spec_command == "update" and changes:
        if not args.yes:
            if not sys.stdin.isatty():
                raise ValueError("refusing to replace the vendored spec without --yes")
            if input(f"replace {vendored}? [y/N] ").strip().lower() != "y":
                return 1 if breaking else 0
        from prosper_mock.base.files import write_atomically

        text = json.dumps(other.document, indent=2, ensure_ascii=False) + "\n"
        try:
            write_atomically(vendored, text.encode())
        except OSError as exc:
            raise ValueError(f"cannot replace {vendored}: {exc.strerror}") from None
        print(f"replaced {vendored}" + (" (with a BREAKING change)" if breaking else ""))
        return 0  # done as asked: `spec diff` is the gate that fails on a breaking change
    return 1 if breaking else 0
