"""An in-process API with a bank curator, a platform and a local image host."""

from __future__ import annotations

import base64
import functools
import http.server
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from safestream.api.app import create_app
from safestream.core.config import Settings
from safestream.store.access import create_api_key, create_org
from tests.media.hash_samples import photo


@dataclass
class MediaApi:
    """A client and the headers of the curator (a hotline) and of a platform."""

    client: TestClient
    app: FastAPI
    curator: dict[str, str]
    platform: dict[str, str]
    image_host: str


def jpeg(name: str, size: tuple[int, int] = (640, 480), fmt: str = "JPEG") -> bytes:
    """A benign sample photo encoded as a file."""
    out = io.BytesIO()
    Image.fromarray(photo(name)).convert("RGB").resize(size).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def image_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving two photos, a GIF and a text file."""
    root = tmp_path_factory.mktemp("images")
    (root / "coffee.jpg").write_bytes(jpeg("coffee"))
    (root / "rocket.jpg").write_bytes(jpeg("rocket"))
    (root / "coffee.gif").write_bytes(jpeg("coffee", fmt="GIF"))
    (root / "note.txt").write_text("not an image")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def media_api(tmp_path: Path, image_host: str) -> Iterator[MediaApi]:
    settings = Settings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        bank_curators="Hotline",
        fetch_allowed_hosts="127.0.0.1",
    )
    app = create_app(settings, link_in_background=False)
    with TestClient(app) as client:
        db = app.state.db
        create_org(db, "Hotline")
        create_org(db, "Acme Video")
        curator = {"Authorization": f"Bearer {create_api_key(db, 'Hotline').key}"}
        platform = {"Authorization": f"Bearer {create_api_key(db, 'Acme Video').key}"}
        yield MediaApi(client, app, curator, platform, image_host)
    app.state.db.dispose()


def report_with_attachment(data: bytes) -> dict[str, Any]:
    """A platform's report carrying one JPEG under an evidence hold."""
    return {
        "source": "platform",
        "platform": {"name": "Acme Video", "country": "US"},
        "reported_accounts": [{"platform": "acme", "id": "u1"}],
        "incident_type": "child_pornography",
        "evidence_hold": True,
        "media": [{"filename": "upload.jpg", "data_base64": base64.b64encode(data).decode()}],
    }


def bank_photo(api: MediaApi, data: bytes) -> None:
    """Put a photo in bank "known" (label A1) through the API, as a curator would."""
    api.client.post("/v1/banks", json={"name": "known"}, headers=api.curator)
    answer = api.client.post(
        "/v1/banks/known/media",
        params={"label": "A1"},
        files={"file": ("k.jpg", data, "image/jpeg")},
        headers=api.curator,
    )
    assert answer.status_code < 300, answer.text
