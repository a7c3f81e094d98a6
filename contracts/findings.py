"""What the suites found: each broken rule, the operation it broke on, and a request that
shows it."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from prosper_mock.base.upstream import API_KEY_ENV

# Headers every request carries whatever it is: they reproduce nothing.
INCIDENTAL_HEADERS = frozenset(
    {"user-agent", "accept-encoding", "accept", "connection", "content-length", "host"}
    | {"x-schemathesis-testcaseid"}
)


@dataclass(frozen=True)
class Finding:
    """One broken rule on one operation, and a curl command that reproduces it (never with
    the key's value). ``operation`` is ``METHOD /path`` as the spec names it ("" when the
    rule is about no single operation). ``where`` is the suite whose own mock gave the
    answer ("": the endpoint under test)."""

    rule: str
    message: str
    curl: str
    operation: str = ""
    where: str = ""

    @property
    def on(self) -> str:
        """``(on the mock SUITE started for itself)``, or "" for the endpoint under test."""
        return own_mock_note(self.where)

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        return f"[{self.rule}] {where}{self.message}{self.on}\n    reproduce: {self.curl}"


def own_mock_note(suite: str) -> str:
    """What marks an answer of the mock ``suite`` started for itself: the curl reproducing it
    names a port that closed with the run, so it reproduces against a mock started anew."""
    return f" (on the mock {suite} started for itself)" if suite else ""


def curl_command(
    url: str,
    params: str | Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
    api_key_header: str | None = None,
    api_key_env: str = API_KEY_ENV,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
) -> str:
    """A copy-pasteable curl; the API key appears as ``$ENV``, never as its value.

    ``headers``: others that matter (``Content-Type`` of a body...); ``body``: sent as is.
    ``-sS``: silent, but a dropped connection or a timeout is still said (and its exit status).
    """
    if params:
        query = urlencode(params, doseq=True) if not isinstance(params, str) else params
        url = f"{url}?{query}"
    parts = ["curl", "-sS", "-i"]
    if method.upper() != "GET" or body:
        parts += ["-X", shlex.quote(method.upper())]
    parts.append(shlex.quote(url))
    if api_key_header:
        parts += ["-H", f'"{api_key_header}: ${api_key_env}"']
    for name, value in (headers or {}).items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        parts += ["--data-binary", _shell_bytes(body)]
    return " ".join(parts)


def _shell_bytes(body: bytes | str) -> str:
    """``body`` as curl's data argument: quoted text, or any other bytes as bash's ``printf``
    writes them from octal escapes (a NUL byte cannot be in an argument)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable() and not text.startswith("@"):
        return shlex.quote(text)
    return "@<(printf %b '" + "".join(f"\\0{b:03o}" for b in raw) + "')"


def request_curl(request: Any, api_key_header: str | None, api_key_env: str = API_KEY_ENV) -> str:
    """The curl that sends ``request`` (a ``requests.PreparedRequest``) again: its method,
    URL, body and the headers that matter; the API key as ``$ENV``."""
    key = (api_key_header or "").lower()
    headers = {
        name: str(value)
        for name, value in (request.headers or {}).items()
        if name.lower() not in INCIDENTAL_HEADERS and name.lower() != key
    }
    sent_key = bool(key) and any(name.lower() == key for name in request.headers or {})
    return curl_command(
        str(request.url),
        api_key_header=api_key_header if sent_key else None,
        api_key_env=api_key_env,
        method=str(request.method or "GET"),
        headers=headers,
        body=request.body,
    )


@dataclass
class Findings:
    """Every finding of a run, each once: a rule broken the same way by the same request
    (its curl) on the same endpoint. Two requests that break a rule the same way are two
    findings, so that the summary, the verdict, each suite's failure and the table's
    findings column count the same things."""

    items: list[Finding] = field(default_factory=list)
    seen: list[Finding] = field(default_factory=list)  # every finding made, again ones included
    keys: set[Finding] = field(default_factory=set, repr=False)
    where: str = ""  # marked on each finding added through this view (Finding.where)

    def at(self, where: str) -> Findings:
        """These findings (the same lists), each finding added through the view marked as
        made on the mock ``where`` (a suite) started for itself."""
        return Findings(self.items, self.seen, self.keys, where)

    def add(self, finding: Finding) -> None:
        if self.where and not finding.where:
            finding = replace(finding, where=self.where)
        self.seen.append(finding)
        if finding not in self.keys:
            self.keys.add(finding)
            self.items.append(finding)

    @property
    def made(self) -> int:
        """How many findings were made, the same one made again included: a suite that
        made any failed, even when another suite had made the same one before."""
        return len(self.seen)

    def made_since(self, mark: int) -> list[Finding]:
        """The findings made since ``made`` was ``mark``, each once."""
        return list(dict.fromkeys(self.seen[mark:]))

    def rules(self) -> set[str]:
        return {f.rule for f in self.items}

    def by_rule(self) -> dict[str, list[Finding]]:
        """The findings of each rule, rules in alphabetical order."""
        grouped: dict[str, list[Finding]] = {}
        for finding in sorted(self.items, key=lambda f: f.rule):
            grouped.setdefault(finding.rule, []).append(finding)
        return grouped
