"""Every third-party module the code imports comes from a dependency pyproject.toml declares."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib

from helpers import REPO
from packaging.requirements import Requirement

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
# The project's packages, and the test folder's own modules (tests import each other by name).
OUR_MODULES = {"model", "dashboard", "benchmarks"} | {
    path.stem for path in (REPO / "tests").glob("*.py")
}


def normalised(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(*groups: list[str]) -> set[str]:
    """The distribution names the given requirement lists name directly."""
    return {normalised(Requirement(line).name) for group in groups for line in group}


def imports_in(folder: str) -> dict[str, str]:
    """Top-level module -> where it is first imported, for every .py file below the folder.

    Imports at module level and inside functions count; an import tried in a `try:` whose
    handler catches ImportError is optional (its fallback in the handler still counts).
    """
    found: dict[str, str] = {}
    for path in sorted((REPO / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        optional = {
            id(statement)
            for node in ast.walk(tree)
            if isinstance(node, ast.Try)
            and any("ImportError" in ast.unparse(h.type or ast.Name("")) for h in node.handlers)
            for statement in node.body
        }
        for node in ast.walk(tree):
            if id(node) in optional:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in OUR_MODULES:
                    where = f"{path.relative_to(REPO)}:{node.lineno}"
                    found.setdefault(top, where)
    return found


def undeclared(folders: list[str], names: set[str]) -> list[str]:
    """A line for each imported module that no distribution in `names` provides."""
    owners = importlib.metadata.packages_distributions()
    problems = []
    for folder in folders:
        for module, where in sorted(imports_in(folder).items()):
            if module.startswith("test_"):
                continue  # a test module importing another test module
            distributions = {normalised(d) for d in owners.get(module, [])}
            if not distributions:
                problems.append(f"{module} (imported at {where}) is not installed")
            elif not distributions & names:
                origin = ", ".join(sorted(distributions))
                problems.append(
                    f"{module} (imported at {where}) comes from {origin}, "
                    "which pyproject.toml does not declare"
                )
    return problems


def test_every_module_the_project_imports_is_a_declared_runtime_dependency():
    problems = undeclared(["model", "dashboard"], declared(PROJECT["dependencies"]))
    assert not problems, "\n".join(problems)


def test_every_module_the_tests_and_benchmarks_import_is_declared_with_the_dev_tools():
    names = declared(PROJECT["dependencies"], PROJECT["optional-dependencies"]["dev"])
    problems = undeclared(["tests", "benchmarks"], names)
    assert not problems, "\n".join(problems)


def test_a_dependency_left_out_of_pyproject_is_named():
    without_scikit_learn = [
        line for line in PROJECT["dependencies"] if Requirement(line).name != "scikit-learn"
    ]
    problems = undeclared(["model"], declared(without_scikit_learn))
    assert problems and all("scikit-learn" in problem for problem in problems)
    assert any(problem.startswith("sklearn (imported at model/") for problem in problems)


def test_every_package_folder_is_installed_by_pyproject():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    folders = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in ("model", "dashboard")
        for init in (REPO / top).rglob("__init__.py")
    }
    assert folders - listed == set(), "not in [tool.setuptools] packages"
