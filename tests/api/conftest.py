"""An in-process API on each store backend, with an organisation and its API key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from safestream.api.app import create_app
from safestream.core.config import Settings
from safestream.store.access import create_api_key, create_org
from safestream.store.database import Database


@dataclass
class Api:
    """A running app, a client, and the headers of one organisation."""

    app: FastAPI
    client: TestClient
    db: Database
    headers: dict[str, str]

    def metrics(self) -> str:
        """The /metrics page, read as Prometheus does (with the metrics token)."""
        answer = self.client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert answer.status_code == 200
        return answer.text

    def link(self) -> int:
        """Link stored reports now (the background linker is off in tests)."""
        return int(self.app.state.engine.process_pending())


METRICS_TOKEN = "metrics-token-for-tests"


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    settings = Settings(
        home=tmp_path / "home", database_url=database_url, metrics_token=METRICS_TOKEN
    )
    app = create_app(settings, link_in_background=False, max_body_bytes=64 * 1024)
    with TestClient(app) as client:
        db: Database = app.state.db
        create_org(db, "Acme Video")
        key = create_api_key(db, "Acme Video").key
        yield Api(app, client, db, {"Authorization": f"Bearer {key}"})
    app.state.db.dispose()


# The media routes' fixtures (a curator, a platform and a local image host).
from tests.api.media_fixtures import image_host, media_api  # noqa: E402, F401
