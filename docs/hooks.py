"""mkdocs hooks: fill the reference pages' ``<!-- generate: NAME -->`` lines from the code.

The generators live in ``docs/sitegen/`` (mkdocs puts this folder on ``sys.path`` while it
loads the hooks). A name no generator has fails the build.
"""

from __future__ import annotations

import re
from typing import Any

from sitegen import GENERATORS

MARK = re.compile(r"^<!-- generate: ([\w-]+) -->$", re.M)


def fill(markdown: str) -> str:
    """``markdown`` with every generate line replaced by its generator's output."""

    def generated(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise KeyError(f"no generator named {name!r} (docs/sitegen: GENERATORS)")
        return GENERATORS[name]()

    return MARK.sub(generated, markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return fill(markdown)
