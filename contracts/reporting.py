"""The end of a contract run, as a reader deciding on a merge needs it: the verdict, the
findings grouped by rule (each naming every operation it hit), the coverage, and a table of
what every operation was sent and answered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from prosper_contracts.answers import OperationSpec, operations
from prosper_contracts.findings import Finding
from prosper_contracts.rules import RULES
from prosper_contracts.runner import NO_ANSWER_STATUS, NO_OPERATION, RunRecord

Row = tuple[str, str, str, str]  # operation, sent, answers by status, findings
SHOWN_PER_OPERATION = 1  # findings shown in full for each (rule, operation); the rest counted


@dataclass(frozen=True)
class Coverage:
    """Which operations were sent a request, and which of their documented statuses (the
    spec's and the kit's) answered at least once."""

    operations: tuple[str, ...]  # every operation counted, ``METHOD /path``
    exercised: frozenset[str]
    statuses: tuple[tuple[str, int], ...]  # every (operation, documented status)
    answered: frozenset[tuple[str, int]]

    @property
    def percent(self) -> float:
        """Documented statuses answered, of all of them, in percent (100 with none)."""
        if not self.statuses:
            return 100.0
        return 100.0 * len(self.answered) / len(self.statuses)

    def unanswered(self, operation: str) -> list[int]:
        """The documented statuses of ``operation`` that never answered."""
        return [s for o, s in self.statuses if o == operation and (o, s) not in self.answered]

    def lines(self) -> list[str]:
        missing = [o for o in self.operations if o not in self.exercised]
        found = [
            f"coverage: {self.percent:.1f}% of documented statuses answered "
            f"({len(self.answered)} of {len(self.statuses)}, the spec's and the kit's 400/404); "
            f"{len(self.exercised)} of {plural(len(self.operations), 'operation')} sent a request"
        ]
        if missing:
            found.append("  operations never sent a request: " + ", ".join(missing))
        short = [o for o in self.operations if o in self.exercised and self.unanswered(o)]
        if short:
            found.append("  documented statuses never answered:")
            found += [f"    {o}: {', '.join(map(str, self.unanswered(o)))}" for o in short]
        return found


def coverage(record: RunRecord, chosen: set[str] | None = None) -> Coverage:
    """The coverage of ``record`` over every operation, or those ``chosen`` (labels)."""
    counted: list[OperationSpec] = [
        o for o in sorted(operations(), key=_order) if chosen is None or o.label in chosen
    ]
    labels = tuple(o.label for o in counted)
    pairs = tuple((o.label, s) for o in counted for s in o.statuses)
    answered = {
        (label, int(status))
        for label, statuses in record.answers.items()
        for status in statuses
        if status.isdigit()
    }
    return Coverage(
        labels,
        frozenset(label for label in labels if record.answers.get(label)),
        pairs,
        frozenset(answered & set(pairs)),
    )


def _order(o: OperationSpec) -> tuple[str, str]:
    return (o.template, o.method)


@dataclass
class SuiteOutcome:
    """One contract suite's result (a pytest test): passed, failed or skipped, and why."""

    name: str
    outcome: str
    reason: str = ""


@dataclass
class Verdict:
    """Whether the run failed, and every reason it did: the exit status follows from it."""

    reasons: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.reasons)


def verdict(
    record: RunRecord,
    suites: Sequence[SuiteOutcome],
    cover: Coverage,
    minimum: float | None,
    incomplete: str = "",
) -> Verdict:
    """Why the run fails (no reason: it passes). ``incomplete`` says why a mock could not be
    checked as a mock is (its changes refused): a check that left out what it was asked to
    judge is not a pass that CI should trust."""
    found = Verdict()
    if incomplete:
        found.reasons.append(f"incomplete: {incomplete}")
    if record.findings.items:
        rules = len(record.findings.by_rule())
        found.reasons.append(
            f"{plural(len(record.findings.items), 'finding')} of {plural(rules, 'rule')}"
        )
    failed = [s.name for s in suites if s.outcome == "failed"]
    if failed and not record.findings.items:
        found.reasons.append(f"suites failed without a finding: {', '.join(failed)}")
    if minimum is not None and cover.percent < minimum:
        found.reasons.append(f"coverage {cover.percent:.1f}% is below --min-coverage {minimum:g}")
    return found


def finding_lines(grouped: dict[str, list[Finding]]) -> list[str]:
    """Each rule broken, the operations it hit, and for each operation its first finding
    with the command that reproduces it (one made on a suite's own mock says so)."""
    lines: list[str] = []
    for rule, findings in grouped.items():
        by_operation: dict[str, list[Finding]] = {}
        for f in findings:
            by_operation.setdefault((f.operation or "(across operations)") + f.on, []).append(f)
        described = RULES.get(rule)
        hit = len({f.operation for f in findings})  # one operation on two endpoints is one
        head = f"[{rule}] {plural(len(findings), 'finding')} on "
        lines.append(head + plural(hit, "operation") + (f": {described}" if described else ""))
        for operation, some in by_operation.items():
            for f in some[:SHOWN_PER_OPERATION]:
                lines.append(f"  {operation}: {f.message}")
                lines.append(f"    reproduce: {f.curl}")
            if len(some) > SHOWN_PER_OPERATION:
                lines.append(f"    (and {len(some) - SHOWN_PER_OPERATION} more on {operation})")
    return lines


def table_lines(
    record: RunRecord, labels: Iterable[str], endpoint: str = "", journal: bool = False
) -> list[str]:
    """operation | requests sent | answers by status | findings, one row per operation: first
    what the endpoint under test (``endpoint``) was sent, which is what its journal lists
    when it is a mock (``journal``); then, apart, what the suites sent to mocks they started
    for themselves, so that every request of the run is counted once and where it went."""
    header: Row = ("operation", "sent", "answers by status", "findings")
    chosen = list(labels)
    rows = [header]
    listed = chosen + [o for o in sorted(record.answers) if o not in chosen]
    # an operation of no answer with a finding (the control API's refusal): a row too, so
    # that the findings column adds up to the run's findings
    found = {f.operation for f in record.findings.items if f.operation and not f.where}
    for label in listed + sorted(found - set(listed)):
        answers = record.answers.get(label)
        if label == NO_OPERATION and not answers:
            continue
        rows.append(_row(label, answers, len(record.findings_on(label))))
    own = record.own_mock_answers()
    own_rows = [header]
    elsewhere = {f.operation for f in record.findings.items if f.operation and f.where}
    own_listed = [o for o in chosen if o in own] + [o for o in sorted(own) if o not in chosen]
    for label in own_listed + sorted(elsewhere - set(own_listed)):
        made = sum(1 for f in record.findings.items if f.operation == label and f.where)
        own_rows.append(_row(label, own.get(label), made))
    widths = [max(len(r[i]) for r in rows + own_rows) for i in range(4)]
    where = f", {endpoint}" if endpoint else ""
    note = " (its journal, GET /__mock/journal, lists the same)" if journal else ""
    lines = [f"requests to the endpoint under test{where}{note}:"]
    lines += _aligned(rows, widths)
    lines.append(f"{plural(record.requests, 'request')} sent to the endpoint under test")
    if record.own_mock_requests or elsewhere:
        lines.append(
            "requests to the mocks the suites started for themselves (in this process, "
            "not the endpoint under test; judged by the same rules):"
        )
        lines += _aligned(own_rows, widths)
        each = ", ".join(f"{r.where}: {r.requests}" for r in record.own_mocks if r.requests)
        lines.append(
            f"{plural(record.own_mock_requests, 'request')} sent to the suites' own mocks"
            + (f" ({each})" if each else "")
            + f"; {record.requests + record.own_mock_requests} in all"
        )
    return lines


def _row(label: str, answers: Mapping[str, int] | None, findings: int) -> Row:
    statuses = " ".join(
        f"{s}:{n}" for s, n in sorted((answers or {}).items(), key=lambda i: _status_order(i[0]))
    )
    return (label, str(sum((answers or {}).values())), statuses or "-", str(findings))


def _aligned(rows: list[Row], widths: list[int]) -> list[str]:
    lines = []
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2])]
        lines.append("  ".join([*cells, row[3].rjust(widths[3])]).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def plural(n: int, word: str) -> str:
    """``1 finding``, ``2 findings``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _status_order(status: str) -> tuple[int, str]:
    return (999, status) if status == NO_ANSWER_STATUS else (int(status), status)
