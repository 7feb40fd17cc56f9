"""What every console request needs: the store, the settings, the session codec, the templates.

Built once per app on first use and kept on `app.state`, so the router works in any app that
`create_app(settings)` builds (it puts `settings` and `database` on `app.state`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import cast

from fastapi import Request
from fastapi.templating import Jinja2Templates

from safestream.api.web.panic_keys import PanicKeys
from safestream.api.web.session import SessionCodec, load_or_create_secret
from safestream.core.config import Settings
from safestream.store.database import Database

WEB_PACKAGE = "safestream.api.web"


def package_dir(name: str) -> Path:
    """A folder shipped inside this package (templates, static)."""
    return Path(str(resources.files(WEB_PACKAGE) / name))


@dataclass(frozen=True)
class ConsoleEnvironment:
    """The console's collaborators for one app."""

    settings: Settings
    db: Database
    sessions: SessionCodec
    panic_keys: PanicKeys
    templates: Jinja2Templates

    @classmethod
    def build(cls, settings: Settings, db: Database) -> ConsoleEnvironment:
        """Collaborators for one home: its store and the secret that signs cookies and keys."""
        secret = load_or_create_secret(settings.home)
        templates = Jinja2Templates(directory=str(package_dir("templates")))
        return cls(settings, db, SessionCodec(secret), PanicKeys(secret), templates)


def console_environment(request: Request) -> ConsoleEnvironment:
    """The environment of the app serving this request (a FastAPI dependency)."""
    state = request.app.state
    env = getattr(state, "console_environment", None)
    if env is None:
        env = ConsoleEnvironment.build(
            cast(Settings, state.settings), cast(Database, state.database)
        )
        state.console_environment = env
    return cast(ConsoleEnvironment, env)
