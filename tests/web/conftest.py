"""Fixtures for console tests: the real app on a fresh home, users of every role, seeded cases.

Media in these tests are scikit-image sample photos (benign) standing in for evidence files.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data

from safestream.api.app import create_app
from safestream.core.config import Settings
from safestream.core.reports import (
    LiveStream,
    MatchedEntry,
    MediaFile,
    MediaHash,
    Platform,
    ReportedAccount,
    ReportIn,
    ReportSource,
)
from safestream.store import access
from safestream.store.access import add_user, create_org, get_org
from safestream.store.banks import BankRepository, NewEntry
from safestream.store.database import Database
from safestream.store.panic_keys import issue_panic_key

PASSWORD = "correct horse battery staple"
KNOWN_BANK = "known-material"
KNOWN_ENTRY_ID = 1  # the first entry of a fresh store: `serving` adds it
ORG = "Example Call Co"
CALL_ORIGIN = "https://call.example"  # where the organisation's call pages are served from
CALL_STREAMS = "call-"  # the organisation's stream-id namespace
LIGHT_ARGON2 = PasswordHasher(time_cost=1, memory_cost=1024)


def email_of(role: str) -> str:
    """The seeded user of a role."""
    return f"{role.replace('_', '-')}@example.org"


def png_base64(array: np.ndarray) -> str:
    """A benign sample image as base64 PNG, the way a platform would attach it."""
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@dataclass
class Console:
    """The running app, its store, and helpers that act like a person in a browser."""

    client: TestClient
    db: Database
    settings: Settings
    users: set[str] = field(default_factory=set)
    panic_keys: dict[str, str] = field(default_factory=dict)

    def csrf(self, path: str = "/console/login") -> str:
        """The CSRF token of the form on a page."""
        page = self.client.get(path)
        found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def panic_key(self, org: str = ORG) -> str:
        """A live panic key of an organisation for pages on `CALL_ORIGIN` and `call-` streams
        (the operator's); another organisation gets the namespace of its own name."""
        if org not in self.panic_keys:
            streams = CALL_STREAMS if org == ORG else f"{org.lower().replace(' ', '-')}-"
            issued = issue_panic_key(self.db, org, origins=[CALL_ORIGIN], stream_prefix=streams)
            self.panic_keys[org] = issued.key
        return self.panic_keys[org]

    def ensure_user(self, role: str) -> None:
        """Add the user of a role on first use (Argon2 hashing is slow on purpose)."""
        if role not in self.users:
            add_user(
                self.db, email_of(role), org=ORG, role=role, password=PASSWORD, hasher=LIGHT_ARGON2
            )
            self.users.add(role)

    def login(self, role: str) -> None:
        """Log in as the user of a role."""
        self.ensure_user(role)
        token = self.csrf()
        answer = self.client.post(
            "/console/login",
            data={"email": email_of(role), "password": PASSWORD, "csrf_token": token},
        )
        assert answer.status_code == 200 and "/console/login" not in str(answer.url)

    def file(self, report: ReportIn) -> tuple[str, int]:
        """Store and link a report as a platform would; return its id and case id."""
        app = self.client.app
        stored = app.state.intake.receive(get_org(self.db, ORG), report)  # type: ignore[attr-defined]
        linked = app.state.engine.process([stored.report.id])  # type: ignore[attr-defined]
        return stored.report.id, linked[stored.report.id]

    def evidence_ids(self, case_id: int) -> list[str]:
        """Evidence file ids of a case, from its page's open forms."""
        page = self.client.get(f"/console/cases/{case_id}")
        return re.findall(r'id="media-([0-9a-f-]{36})"', page.text)


def photo_report(stream: str, *, matched: bool = False, account: str = "u-1") -> ReportIn:
    """A report with one attached photo under evidence hold; `matched` adds a verified match."""
    matches = []
    if matched:
        matches.append(
            MatchedEntry(
                bank=KNOWN_BANK,
                entry_id=KNOWN_ENTRY_ID,
                signal_type="pdq",
                value="f" * 64,
                distance=4,
                label="A1",
                verified=True,
            )
        )
    return ReportIn(
        source=ReportSource.PLATFORM,
        platform=Platform(name="ExampleCall", country="PH"),
        reported_accounts=[ReportedAccount(platform="examplecall", id=account)],
        description="Stand-in report for console tests.",
        live_stream=LiveStream(stream_id=stream),
        media=[
            MediaFile(
                filename="frame.png",
                content_type="image/png",
                data_base64=png_base64(data.astronaut()),
            )
        ],
        media_hashes=[MediaHash(signal_type="pdq", value="f" * 64)] if matched else [],
        matches=matches,
        evidence_hold=True,
    )


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2id with light parameters: production cost makes each login take ~0.5 s.

    Login also rehashes a password whose parameters differ from the server's, so the server's
    hasher gets the same light parameters for the test.
    """
    # Only speed depends on this, so a renamed attribute must not fail the console's tests.
    monkeypatch.setattr(access, "_HASHER", LIGHT_ARGON2, raising=False)


@contextmanager
def serving(settings: Settings, database: Database | None = None) -> Iterator[Console]:
    """The app in-process on a home (and optionally another store), with one organisation."""
    app = create_app(settings, database=database, link_in_background=False)
    with TestClient(app) as client:
        db = app.state.db
        create_org(db, ORG, kind="operator")  # the hotline running the installation
        # Matches a report asserts count only when SafeStream's own bank backs them.
        BankRepository(db).create(KNOWN_BANK)
        entry = BankRepository(db).add_entries(KNOWN_BANK, [NewEntry("pdq", "f" * 64)])
        assert entry == [KNOWN_ENTRY_ID]
        yield Console(client, db, settings)


@pytest.fixture
def console(settings: Settings) -> Iterator[Console]:
    """The app on a fresh SQLite home with one organisation; users are added as tests log in."""
    with serving(settings) as running:
        yield running


@pytest.fixture
def console_on_each_store(settings: Settings, database_url: str) -> Iterator[Console]:
    """The app on SQLite and on PostgreSQL (where claims use SELECT ... FOR UPDATE SKIP LOCKED)."""
    database = Database(database_url)
    try:
        with serving(settings, database) as running:
            yield running
    finally:
        database.dispose()


def mp4_clip(frames: int = 12, size: int = 64) -> bytes:
    """A short generated clip (moving gradient, MPEG-4 Part 2 in MP4) like a stream buffer's."""
    import av

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=12)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        ramp = np.linspace(0, 255, size, dtype=np.uint8)
        for i in range(frames):
            pixels = np.zeros((size, size, 3), dtype=np.uint8)
            pixels[..., 0] = np.roll(ramp, i * 4)[None, :]
            pixels[..., 2] = ramp[:, None]
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode(None))
    return out.getvalue()
