"""Every outside package the code imports is declared in pyproject.toml (scipy once was not)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "knowledge_base", "guardrails", "assistant", "evals", "cli")
# Installed by scripts/setup.sh before the project, in the order the offline notes require.
INSTALLED_FIRST = {"torch", "llama-cpp-python"}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def imported_modules() -> set[str]:
    modules: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - set(PACKAGES)


def test_every_imported_package_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]} | INSTALLED_FIRST
    owners = packages_distributions()
    undeclared = {
        module: sorted(owners.get(module, [module]))
        for module in imported_modules()
        if not {_name(d) for d in owners.get(module, [module])} & declared
    }
    assert undeclared == {}
