"""What every console request needs: store, settings, session codec, templates, evidence vault.

Built once per app on first use and kept on `app.state`, from what `create_app(settings)` puts
there: `settings`, `db` (Database), `vault` (EvidenceVault), `intake` and `engine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, cast

from fastapi import Request
from fastapi.templating import Jinja2Templates

from safestream.api.web.session import (
    SESSION_MAX_AGE_SECONDS,
    SessionCodec,
    load_or_create_secret,
)
from safestream.cases.engine import CaseEngine
from safestream.core.config import Settings
from safestream.reports.intake import IntakeService
from safestream.store.database import Database
from safestream.store.sessions import SessionPolicy
from safestream.store.vault import EvidenceVault

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
    templates: Jinja2Templates
    vault: EvidenceVault
    intake: IntakeService
    engine: CaseEngine

    @property
    def session_policy(self) -> SessionPolicy:
        """How long console sessions live on the server (idle timeout from the settings)."""
        return SessionPolicy(
            idle=timedelta(minutes=self.settings.console_idle_minutes),
            lifetime=timedelta(seconds=SESSION_MAX_AGE_SECONDS),
        )

    @classmethod
    def from_app_state(cls, state: Any) -> ConsoleEnvironment:
        """Collaborators of one app: its home's store and services, and the console secret."""
        settings = cast(Settings, state.settings)
        secret = load_or_create_secret(settings.home)
        templates = Jinja2Templates(directory=str(package_dir("templates")))
        return cls(
            settings=settings,
            db=cast(Database, state.db),
            sessions=SessionCodec(secret),
            templates=templates,
            vault=cast(EvidenceVault, state.vault),
            intake=cast(IntakeService, state.intake),
            engine=cast(CaseEngine, state.engine),
        )


def console_environment(request: Request) -> ConsoleEnvironment:
    """The environment of the app serving this request (a FastAPI dependency)."""
    state = request.app.state
    env = getattr(state, "console_environment", None)
    if env is None:
        env = ConsoleEnvironment.from_app_state(state)
        state.console_environment = env
    return cast(ConsoleEnvironment, env)
