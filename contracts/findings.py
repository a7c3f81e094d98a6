"""What the suites found: each broken rule with a request that shows it."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from prosper_mock.base.upstream import API_KEY_ENV


@dataclass(frozen=True)
class Finding:
    """One broken rule and a curl command that reproduces it (never with the key's value)."""

    rule: str
    message: str
    curl: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}\n    reproduce: {self.curl}"


def curl_command(
    url: str,
    params: str | Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
    api_key_header: str | None = None,
    api_key_env: str = API_KEY_ENV,
    method: str = "GET",
) -> str:
    """A copy-pasteable curl; the API key appears as ``$ENV``, never as its value."""
    if params:
        query = urlencode(params, doseq=True) if not isinstance(params, str) else params
        url = f"{url}?{query}"
    parts = ["curl", "-s", "-i"]
    if method.upper() != "GET":
        parts += ["-X", shlex.quote(method.upper())]
    parts.append(shlex.quote(url))
    if api_key_header:
        parts += ["-H", f'"{api_key_header}: ${api_key_env}"']
    return " ".join(parts)


@dataclass
class Findings:
    """Every finding of a run, deduplicated by (rule, message)."""

    items: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        if all((f.rule, f.message) != (finding.rule, finding.message) for f in self.items):
            self.items.append(finding)

    def rules(self) -> set[str]:
        return {f.rule for f in self.items}
