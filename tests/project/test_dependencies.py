"""Every outside package the code imports is declared in pyproject.toml (scipy once was not)."""

from __future__ import annotations

import ast
import functools
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


def sources() -> list[Path]:
    return [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]


@functools.cache
def imports(path: Path) -> frozenset[str]:
    """The dotted names of the absolute imports of one module (parsed once for both tests)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return frozenset(names)


def imported_modules() -> set[str]:
    modules = {name.split(".")[0] for path in sources() for name in imports(path)}
    return modules - set(sys.stdlib_module_names) - set(PACKAGES)


def test_every_imported_package_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [
        r for name, rs in project["optional-dependencies"].items() if name != "dev" for r in rs
    ]
    declared = {_name(r) for r in [*project["dependencies"], *extras]} | INSTALLED_FIRST
    owners = packages_distributions()
    undeclared = {
        module: sorted(owners.get(module, [module]))
        for module in imported_modules()
        if not {_name(d) for d in owners.get(module, [module])} & declared
    }
    assert undeclared == {}


def test_the_langchain_extra_is_imported_only_by_its_adapters() -> None:
    """langchain-core is an optional extra: only the ``langchain.py`` adapters import it, and
    nothing else imports them, so the app runs without it."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in imports(path)
            if name.split(".")[0] == "langchain_core" or name.endswith(".langchain")
        )
        for path in sources()
        if path.name != "langchain.py"
    }
    assert {path: names for path, names in offenders.items() if names} == {}
