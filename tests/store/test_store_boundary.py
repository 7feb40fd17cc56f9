"""Only the store touches SQLAlchemy: repositories take the acting principal, nothing else queries.

Modules still outside the store that import SQLAlchemy are listed in `NOT_YET_MOVED`, each with
the reason it is still there. The list only shrinks: a new module importing SQLAlchemy fails the
first test, and a listed module that no longer does fails the second (remove it from the list).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "safestream"
ALLOWED_TREES = ("store/",)  # the store itself, with its models and Alembic migrations

NOT_YET_MOVED: dict[str, str] = {}  # emptied 2026-12-06: every query lives in the store


def _imports_sqlalchemy(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(alias.name.split(".")[0] == "sqlalchemy" for alias in node.names):
                return True
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] == "sqlalchemy"
        ):
            return True
    return False


def _modules_importing_sqlalchemy() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if not relative.startswith(ALLOWED_TREES) and _imports_sqlalchemy(path):
            found.add(relative)
    return found


def test_no_module_outside_the_store_imports_sqlalchemy() -> None:
    unexpected = _modules_importing_sqlalchemy() - set(NOT_YET_MOVED)
    assert not unexpected, f"move these queries into a store repository: {sorted(unexpected)}"


def test_list_of_modules_not_yet_moved_has_no_stale_entry() -> None:
    stale = set(NOT_YET_MOVED) - _modules_importing_sqlalchemy()
    assert not stale, f"these no longer import SQLAlchemy; remove them from the list: {stale}"


def test_api_and_console_never_import_sqlalchemy() -> None:
    edges = {m for m in _modules_importing_sqlalchemy() if m.startswith(("api/", "cli/"))}
    assert edges - set(NOT_YET_MOVED) == set()
    assert not any(m.startswith("api/") for m in NOT_YET_MOVED)
