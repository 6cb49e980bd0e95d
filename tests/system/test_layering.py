"""The layering rules, read from the import statements (with ast, nothing is imported):
shared/ has no import circle, and domain code reaches no Flask, however indirectly.

Each shared module is also imported on its own in a fresh interpreter: a circle that only bites
in one import order shows up there even if it hides behind a late import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("shared", "survey_api", "scoring_service", "pdf_service")
WEB_FRAMEWORK = ("flask", "flask_smorest", "flask_login", "flask_wtf", "werkzeug", "webargs",
                 "wtforms")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path
            for package in PROJECT_PACKAGES for path in (ROOT / package).rglob("*.py")
            if "gunicorn.conf" not in path.name}


MODULES = project_modules()


def _run_time_nodes(tree: ast.AST):
    """Every node but those under `if TYPE_CHECKING:`, which never runs."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def imported_names(name: str) -> set[str]:
    """Every module name an import statement in this module names, anywhere in it (late
    imports inside functions count: they are how a circle hides), made absolute."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _run_time_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module
            # `from package import module` names the module, not what the package defines.
            modules = {f"{origin}.{alias.name}" for alias in node.names
                       if f"{origin}.{alias.name}" in MODULES}
            found.update(modules)
            if len(modules) < len(node.names):
                found.add(origin)
    return found


def project_imports(name: str) -> set[str]:
    return {imported for imported in imported_names(name) if imported in MODULES}


def reachable(start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for imported in project_imports(todo.pop()):
            if imported not in seen:
                seen.add(imported)
                todo.append(imported)
    return seen


def is_web_framework(module: str) -> bool:
    return module.split(".")[0] in WEB_FRAMEWORK


def test_the_import_reader_sees_relative_late_and_package_imports():
    # The reader is what the rules below rest on: it must see these edges, or they prove nothing.
    assert "shared.extensions" in project_imports("shared.auth")
    assert "shared.storage.interface" in project_imports("shared.storage.sqlite.store")
    assert "shared.storage.sqlite.console" in project_imports("shared.storage.sqlite.store")
    assert "shared.storage.sqlite" in project_imports("shared.storage")  # a late import
    assert "flask" in imported_names("shared.web")


def test_shared_has_no_import_circle():
    shared = sorted(name for name in MODULES if name.split(".")[0] == "shared")
    circles = [f"{name} -> {imported} -> ... -> {name}"
               for name in shared for imported in project_imports(name)
               if name in reachable(imported)]
    assert circles == []


# Domain code: plain functions over the store, usable from the CLI, the console and the API.
DOMAIN = sorted(
    [name for name in MODULES if name.startswith("survey_api.") and name.endswith(".domain")]
    + [name for name in MODULES if name == "shared.storage" or name.startswith("shared.storage.")]
    + ["shared.instruments", "shared.keys", "shared.cells", "shared.text", "shared.ids",
       "shared.settings", "shared.errors"]
    + ["scoring_service.domain", "scoring_service.voice", "pdf_service.domain"]
    + [name for name in MODULES if name.startswith(("scoring_service.scoring",
                                                    "pdf_service.brief."))])


@pytest.mark.parametrize("domain_module", DOMAIN)
def test_domain_code_reaches_no_web_framework(domain_module):
    assert domain_module in MODULES
    web = sorted(f"{module} imports {imported}"
                 for module in reachable(domain_module)
                 for imported in imported_names(module) if is_web_framework(imported))
    assert web == []


def test_a_web_module_is_seen_as_one():
    # The rule above can fail: shared.auth is Flask glue, and the check says so.
    assert any(is_web_framework(imported) for module in reachable("shared.auth")
               for imported in imported_names(module))


SHARED_MODULES = sorted(name for name in MODULES if name.split(".")[0] == "shared")


def test_every_shared_module_imports_on_its_own():
    """Each in a fresh interpreter, so no module is already loaded by another's import."""
    runs = {name: subprocess.Popen([sys.executable, "-c", f"import {name}"], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for name in SHARED_MODULES}
    failed = {}
    for name, run in runs.items():
        output, _ = run.communicate(timeout=120)
        if run.returncode != 0:
            failed[name] = output.strip().splitlines()[-1:]
    assert len(runs) > 20
    assert failed == {}
