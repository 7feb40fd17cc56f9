"""The server starts with the evidence key in the form `docs/live.md` documents (64 hex digits)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from safestream.api.app import create_app
from safestream.core.config import Settings


def test_serve_starts_with_a_64_hex_digit_evidence_key(tmp_path: Path) -> None:
    environ = {
        "SAFESTREAM_HOME": str(tmp_path / "home"),
        "SAFESTREAM_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
        "SAFESTREAM_EVIDENCE_KEY": "ab" * 32,
    }
    app = create_app(Settings.load(environ), link_in_background=False)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
    assert app.state.vault.keys.current == bytes([0xAB] * 32)
    app.state.db.dispose()
