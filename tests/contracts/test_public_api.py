"""The kit's public names: listed once (``__init__.pyi``), each loaded on first use."""

from __future__ import annotations

import subprocess
import sys

import prosper_contracts


def test_every_public_name_resolves_to_its_module() -> None:
    # By module and name, not identity: an inner pytest run (pytester) drops the modules it
    # imported, so a module may be imported again, as a new object, after the package's
    # name was first resolved.
    expected = {
        "check_answer": "prosper_contracts.rules",
        "RULES": None,
        "Violation": "prosper_contracts.rules",
        "Finding": "prosper_contracts.findings",
        "contract_document": "prosper_contracts.kit",
        "semantic_rules": "prosper_contracts.checks",
        "Target": "prosper_contracts.target",
    }
    for name, module in expected.items():
        found = getattr(prosper_contracts, name)
        if module is not None:
            assert (found.__module__, found.__name__) == (module, name)
    from prosper_contracts import rules

    assert prosper_contracts.RULES == rules.RULES
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
