"""Is a store's schema already at the newest revision? Answered without loading Alembic.

Alembic (with Mako and Pygments) takes longer to import than most commands take to run, and
every command that opens the store migrates it first. The head revisions are read from the
packaged revision files with `ast`, and compared with the store's `alembic_version` rows; only
when they differ (or anything is unusual) does `Database.migrate` run Alembic.
"""

from __future__ import annotations

import ast
import functools
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, text

VERSIONS = Path(str(resources.files("safestream.store") / "migrations" / "versions"))


def _assigned(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value:
                return ast.literal_eval(node.value)
    raise ValueError(f"no {name}")


@functools.cache
def packaged_heads() -> frozenset[str] | None:
    """Revisions no other packaged revision builds on, or None if a file cannot be read so."""
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        for path in sorted(VERSIONS.glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            revision = _assigned(tree, "revision")
            down = _assigned(tree, "down_revision")
            if not isinstance(revision, str):
                return None
            revisions.add(revision)
            if isinstance(down, str):
                parents.add(down)
            elif isinstance(down, tuple | list):
                parents.update(str(d) for d in down)
            elif down is not None:
                return None
    except (OSError, SyntaxError, ValueError):
        return None
    return frozenset(revisions - parents) or None


def schema_is_current(engine: Engine) -> bool:
    """Whether the store records exactly the packaged head revisions (any doubt: False)."""
    heads = packaged_heads()
    if heads is None:
        return False
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("select version_num from alembic_version")).all()
    except Exception:  # no table yet, or no database: Alembic will say what is wrong
        return False
    return {str(row[0]) for row in rows} == heads
