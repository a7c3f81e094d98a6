"""``prosper-mock generate``: write a generated (or normalised) world file."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from prosper_mock.base.progress import progress_bar
from prosper_mock.cli.options import (
    WORLD_DEFAULTS,
    Subcommands,
    add_world_options,
    fill_defaults,
    refuse_ignored,
    world_from_args,
    world_rules,
)
from prosper_mock.world.model import World
from prosper_mock.world.records import to_dict
from prosper_mock.world.targetfile import campaign_to_dict
from prosper_mock.world.targets import target_to_dict
from prosper_mock.world.worldfile import WORLD_FORMAT


def add_generate(sub: Subcommands) -> None:
    p = sub.add_parser(
        "generate",
        help="write a generated world as JSON",
        description="Write a seeded world in the world-file format.",
    )
    p.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    p.add_argument("--force", action="store_true", help="replace the -o file if it exists")
    add_world_options(p, "read this world file and write it again, checked and normalised, instead")
    p.set_defaults(run=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    refuse_ignored(world_rules(args))
    fill_defaults(args, WORLD_DEFAULTS)
    if args.output is not None and args.output.is_file() and not args.force:
        # Said before the world is made; the write itself refuses too, whatever came since.
        raise ValueError(
            f"refusing to replace {args.output}, which exists: pass --force to replace it"
        )
    world = world_from_args(args)
    if args.output is None:
        sys.stdout.writelines(_world_file(world))
    elif args.output.exists() and not (args.output.is_file() or args.output.is_dir()):
        # A device or a pipe (/dev/stdout, a FIFO): written into, there is nothing to replace.
        with open(args.output, "w", encoding="utf-8") as f:
            f.writelines(_world_file(world))
    else:
        from prosper_mock.base.files import write_atomically

        umask = os.umask(0)
        os.umask(umask)  # a world file is as readable as any file the user makes
        chunks = (chunk.encode("utf-8") for chunk in _world_file(world))
        try:
            write_atomically(args.output, chunks, overwrite=args.force, mode=0o666 & ~umask)
        except FileExistsError:
            raise ValueError(
                f"refusing to replace {args.output}, which exists: pass --force to replace it"
            ) from None
        except OSError as exc:
            raise ValueError(f"cannot write {args.output}: {exc.strerror}") from None
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _world_file(world: World) -> Iterator[str]:
    """``json.dumps(world.dump(), ensure_ascii=False, indent=2)`` and a newline, row by row.

    A big world's whole document is several times the size of its file in memory; one
    row at a time, memory stays flat however many rows there are.
    """

    def nested(value: object, depth: int) -> str:  # JSON strings never hold a raw newline
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * depth)

    stats = world.stats()
    with world.lock, progress_bar(stats["live_calls"] + stats["call_logs"], "writing") as bar:
        yield f'{{\n  "format": {json.dumps(WORLD_FORMAT)},\n'
        yield f'  "recipe": {nested(world.origin.get("recipe"), 1)},\n'
        sections: tuple[tuple[str, Iterable[dict[str, Any]], bool], ...] = (
            ("live_calls", (to_dict(row) for row in world.live_calls), True),
            ("call_logs", (to_dict(row) for row in world.call_logs), True),
            ("campaigns", map(campaign_to_dict, world.targets.seeded.campaigns), False),
            ("targets", map(target_to_dict, world.targets), False),
        )
        for name, items, counted in sections:
            yield f'  "{name}": ['
            rows = 0
            for item in items:
                yield ("\n    " if rows == 0 else ",\n    ") + nested(item, 2)
                rows += 1
                if counted:
                    bar.update()
            yield ("\n  ]" if rows else "]") + ("\n" if name == "targets" else ",\n")
        yield "}\n"
