"""Migrated stores made once per test session and copied into each test's empty store.

Running every migration costs about half a second on SQLite and one and a half on PostgreSQL,
paid by each of hundreds of tests. The session migrates one store per backend for real (so the
migrations still run under test) and copies it: the SQLite file as a file, the PostgreSQL schema
as `pg_dump`'s script of it with the schema's name replaced.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from glob import glob
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from safestream.store import Database


def _pg_dump() -> str | None:
    found = shutil.which("pg_dump") or next(
        iter(sorted(glob("/usr/lib/postgresql/*/bin/pg_dump"), reverse=True)), None
    )
    return found


class MigratedTemplates:
    """Lazily migrated templates: one SQLite file and one PostgreSQL schema script."""

    def __init__(self, folder: Path, postgres_url: str) -> None:
        self.folder = folder
        self.postgres_url = postgres_url
        self._sqlite: Path | None = None
        self._postgres_script: str | None = None
        self._postgres_token = ""

    def copy_sqlite(self, url: str) -> None:
        """Put a migrated store at the file `url` names."""
        if self._sqlite is None:
            path = self.folder / "template.db"
            db = Database(f"sqlite:///{path}")
            db.migrate()
            db.dispose()
            self._sqlite = path
        target = make_url(url).database
        assert target, url
        shutil.copyfile(self._sqlite, target)

    def fill_postgres(self, schema: str) -> bool:
        """Create the migrated tables in the empty `schema`; False when pg_dump is missing."""
        if self._postgres_script is None:
            script = self._dump_migrated_schema()
            if script is None:
                return False
            self._postgres_script = script
        url = make_url(self.postgres_url).set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        # One transaction: one commit to flush instead of one per statement.
        with psycopg.connect(dsn) as conn:
            conn.execute(self._postgres_script.replace(self._postgres_token, schema).encode())
        return True

    def _dump_migrated_schema(self) -> str | None:
        pg_dump = _pg_dump()
        if pg_dump is None:
            return None
        token = f"t_template_{uuid.uuid4().hex[:12]}"
        admin = create_engine(self.postgres_url)
        with admin.begin() as conn:
            conn.execute(text(f"create schema {token}"))
        try:
            sep = "&" if "?" in self.postgres_url else "?"
            db = Database(f"{self.postgres_url}{sep}options=-csearch_path%3D{token}")
            db.migrate()
            db.dispose()
            url = make_url(self.postgres_url)
            host, port = url.host or "127.0.0.1", str(url.port or 5432)
            user, name = url.username or "postgres", url.database or "postgres"
            where = ["-h", host, "-p", port, "-U", user, "-d", name]
            command = [pg_dump, "--schema", token, "--inserts", "--no-owner", "--no-privileges"]
            command += where
            dumped = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"drop schema {token} cascade"))
            admin.dispose()
        self._postgres_token = token
        # psql's meta-commands (\restrict) are not SQL; the target schema exists already.
        kept = [
            line
            for line in dumped.splitlines()
            if not line.startswith("\\") and line.strip() != f"CREATE SCHEMA {token};"
        ]
        return "\n".join(kept)
