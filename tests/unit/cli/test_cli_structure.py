"""The command modules form a tree: ``salescast.cli`` registers them, they share ``salescast.cli_common`` only."""

from __future__ import annotations

import ast
from pathlib import Path

import salescast

PACKAGE = Path(salescast.__file__).parent
COMMAND_MODULES = sorted(PACKAGE.glob("*/cli.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_there_are_command_modules_to_check():
    assert {path.parent.name for path in COMMAND_MODULES} >= {"lifecycle", "monitoring", "forecast", "dashboard"}


def test_no_command_module_imports_the_main_cli_or_another_command_module():
    for path in COMMAND_MODULES:
        offending = {name for name in imported_modules(path) if name == "salescast.cli" or name.endswith(".cli")}
        assert not offending, f"{path.relative_to(PACKAGE)} imports {sorted(offending)}; use salescast.cli_common"


def test_the_shared_module_imports_no_command_module():
    imported = imported_modules(PACKAGE / "cli_common.py")
    assert not {name for name in imported if name == "salescast.cli" or name.endswith(".cli")}
