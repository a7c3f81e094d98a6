"""The kit's public names: listed once (``__init__.pyi``), each loaded on first use."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

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


def _mock_imports() -> list[tuple[str, str, list[str]]]:
    """(file, module, names) of every ``from prosper_mock... import`` in contracts/."""
    import ast
    from pathlib import Path

    root = Path(prosper_contracts.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("prosper_mock"):
                names = [alias.name for alias in node.names]
                found.append((str(path.relative_to(root)), node.module or "", names))
            elif isinstance(node, ast.Import):
                found += [
                    (str(path.relative_to(root)), alias.name, [])
                    for alias in node.names
                    if alias.name.startswith("prosper_mock")
                ]
    return found


def test_the_contracts_reach_the_mocks_world_and_serving_through_its_public_names() -> None:
    import prosper_mock

    imports = _mock_imports()
    internal = [
        (path, module)
        for path, module, _ in imports
        if module.startswith(("prosper_mock.world", "prosper_mock.serving"))
    ]
    assert internal == []
    public = {name for _, module, names in imports if module == "prosper_mock" for name in names}
    assert {"text_form", "WorldDriver", "start_app", "check_key_transport"} <= public
    assert public <= set(prosper_mock.__all__)


def test_every_public_class_and_function_of_the_mock_has_a_docstring() -> None:
    import inspect

    import prosper_mock

    def own_doc(found: Any) -> str:
        # A class's own docstring: not its base's, nor the signature a dataclass makes up.
        doc = found.__doc__ or ""
        return "" if doc.startswith(f"{found.__name__}(") else doc

    undocumented = [
        name
        for name in prosper_mock.__all__
        if (inspect.isclass(found := getattr(prosper_mock, name)) or inspect.isfunction(found))
        and not own_doc(found).strip()
    ]
    assert undocumented == []
