"""Where SafeStream keeps its state, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path.home() / ".local" / "share" / "safestream"


@dataclass(frozen=True)
class Settings:
    """Locations and limits of one SafeStream home; two homes never share state."""

    home: Path
    database_url: str

    @property
    def index_dir(self) -> Path:
        """Folder of the persisted matching index files."""
        return self.home / "index"

    @property
    def evidence_dir(self) -> Path:
        """Folder of encrypted evidence files."""
        return self.home / "evidence"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read `SAFESTREAM_HOME` and `SAFESTREAM_DATABASE_URL` (default: SQLite in the home)."""
        env = dict(os.environ) if environ is None else environ
        home = Path(env.get("SAFESTREAM_HOME") or DEFAULT_HOME).expanduser()
        url = env.get("SAFESTREAM_DATABASE_URL") or f"sqlite:///{home / 'safestream.db'}"
        return cls(home=home, database_url=url)

    def ensure_home(self) -> None:
        """Create the home folder (owner-only, since it can hold evidence)."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
