"""The contract rules table, read from the rule registry (``prosper_contracts.RULES``)."""

from __future__ import annotations

from prosper_contracts.rules import RULES
from sitegen.text import cell, code, table


def rules_reference() -> str:
    """Every rule a contract finding can name, with its meaning, in registry order."""
    rows = [[code(name), cell(meaning)] for name, meaning in RULES.items()]
    return table(["Rule", "Meaning"], rows)
