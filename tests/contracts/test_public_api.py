"""The kit's public names: listed once (``__init__.pyi``), each loaded on first use."""

from __future__ import annotations

import subprocess
import sys

import prosper_contracts


def test_every_public_name_resolves_to_its_module() -> None:
    from prosper_contracts import checks, findings, kit, rules, target

    assert prosper_contracts.check_answer is rules.check_answer
    assert prosper_contracts.RULES is rules.RULES
    assert prosper_contracts.Violation is rules.Violation
    assert prosper_contracts.Finding is findings.Finding
    assert prosper_contracts.contract_document is kit.contract_document
    assert prosper_contracts.semantic_rules is checks.semantic_rules
    assert prosper_contracts.Target is target.Target
    assert sorted(prosper_contracts.__all__) == sorted(
        name for name in dir(prosper_contracts) if not name.startswith("_")
    )
    for name in prosper_contracts.__all__:
        assert getattr(prosper_contracts, name) is not None, name


def test_the_rules_are_usable_from_the_package() -> None:
    from prosper_contracts import RULES, check_answer

    found = check_answer({"call_log_id": "7"}, 404, "text/html", b"<html>")
    assert [v.rule for v in found] == ["json-content-type", "json-body"]
    assert {v.rule for v in found} <= set(RULES)
    found = check_answer({"call_log_id": "7"}, 200, "application/json", b'{"source": "x"}')
    assert [v.rule for v in found] == [  # README: contract checks, from Python
        "source-valid",
        "call-log-id-integer",
        "phone-present",
        "matches-call-log-id",
    ]


def test_importing_the_package_loads_none_of_them() -> None:
    probe = (
        "import sys, prosper_contracts\n"
        "loaded = [m for m in ('prosper_contracts.rules', 'prosper_contracts.checks', "
        "'schemathesis', 'requests') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "prosper_contracts.check_answer\n"
        "assert 'prosper_contracts.rules' in sys.modules\n"
        "assert 'schemathesis' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
