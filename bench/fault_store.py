"""Store faults, shared by the fault tests (short forms) and `bench_faults` (long forms): a
PostgreSQL restart under intake load, and a disk that fills up under it.

Both post reports through the real app (group commit, background linker) from a client
thread, each with its own idempotency key, and afterwards compare what was acknowledged (2xx)
with what is stored, check every refusal was a 503/507 with Retry-After, and time how long
after the fault ended intake served again and linking caught up.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from bench.fault_harness import PrivatePostgres, wait_until
from safestream.api.app import create_app
from safestream.core.config import Settings
from safestream.store.access import create_api_key, create_org
from safestream.store.database import Database

REPORT: dict[str, Any] = {
    "source": "platform",
    "platform": {"name": "Acme Video", "country": "US"},
    "incident_type": "child_pornography",
    "location_hints": [{"country": "PH"}],
}


@dataclass
class Answer:
    """One intake request: when it was answered, its status, Retry-After and report id."""

    at: float
    status: int
    retry_after: str | None
    report_id: str | None


@dataclass
class StoreFaultResult:
    """What a store fault did to intake."""

    fault: str
    acknowledged: int
    stored: int
    refused: int
    refused_statuses: dict[int, int]
    refused_without_retry_after: int
    serving_after_s: float | None  # fault ended -> first acknowledged report
    linked_after_s: float | None  # fault ended -> every acknowledged report in a case
    ready_during: int | None = None  # /readyz status while the fault lasted
    answers: list[Answer] = field(default_factory=list, repr=False)

    @property
    def lost(self) -> int:
        """Acknowledged reports that are not stored (must be 0)."""
        return self.acknowledged - self.stored


class IntakeLoad:
    """Posts reports one after another from a thread until stopped."""

    def __init__(self, client: TestClient, headers: dict[str, str], media: bool = False) -> None:
        self.client = client
        self.headers = headers
        self.media = media
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        number = 0
        while not self._stop.is_set():
            number += 1
            headers = {**self.headers, "Idempotency-Key": f"load-{number}"}
            body = {**REPORT, "reported_accounts": [{"platform": "acme", "id": f"u{number % 50}"}]}
            if self.media and number % 2:
                body |= {"evidence_hold": True, "media": [_media(number)]}
            reply = self.client.post("/v1/reports", json=body, headers=headers)
            payload = (
                reply.json()
                if reply.headers.get("content-type", "").startswith("application/json")
                else {}
            )
            report_id = payload.get("id") if reply.status_code < 300 else None
            retry = reply.headers.get("retry-after")
            self.answers.append(Answer(time.monotonic(), reply.status_code, retry, report_id))

    def __enter__(self) -> IntakeLoad:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)


def _media(number: int) -> dict[str, str]:
    import base64

    data = os.urandom(256 * 1024) + number.to_bytes(4, "big")
    return {"filename": f"f{number}.bin", "content_type": "application/octet-stream",
            "data_base64": base64.b64encode(data).decode()}  # fmt: skip


@contextmanager
def running_app(settings: Settings) -> Iterator[tuple[TestClient, Database, dict[str, str]]]:
    """The app on `settings`, with the background linker on, and an organisation's headers."""
    app = create_app(settings, link_in_background=True)
    with TestClient(app) as client:
        db: Database = app.state.db
        create_org(db, "Acme Video")
        key = create_api_key(db, "Acme Video").key
        yield client, db, {"Authorization": f"Bearer {key}"}
    app.state.db.dispose()


def _summary(
    fault: str, answers: list[Answer], db: Database, ended_at: float, link_timeout: float
) -> StoreFaultResult:
    acknowledged = {a.report_id for a in answers if a.status < 300 and a.report_id}
    refused = [a for a in answers if a.status >= 300]
    statuses: dict[int, int] = {}
    for a in refused:
        statuses[a.status] = statuses.get(a.status, 0) + 1
    serving = [a.at - ended_at for a in answers if a.at >= ended_at and a.status < 300]

    def stored_and_linked() -> tuple[int, int]:
        with db.engine.connect() as conn:
            rows = conn.execute(text("select id, case_id from reports")).all()
        ids = {str(r[0]): r[1] for r in rows}
        stored = sum(1 for rid in acknowledged if rid in ids)
        linked = sum(1 for rid in acknowledged if ids.get(rid) is not None)
        return stored, linked

    linked_at = wait_until(lambda: stored_and_linked()[1] == len(acknowledged), link_timeout, 0.2)
    stored, _ = stored_and_linked()
    linked_after = None
    if linked_at is not None:
        linked_after = max(0.0, time.monotonic() - ended_at)
    return StoreFaultResult(
        fault, len(acknowledged), stored, len(refused), statuses,
        sum(1 for a in refused if not a.retry_after), serving[0] if serving else None,
        linked_after, answers,
    )  # fmt: skip


def db_restart(folder: Path, down_s: float = 2.0, link_timeout: float = 60.0) -> StoreFaultResult:
    """Stop a private PostgreSQL under intake load for `down_s`, then start it again."""
    server = PrivatePostgres()
    server.init()
    server.start()
    try:
        settings = Settings(home=folder / "home", database_url=server.url)
        with running_app(settings) as (client, db, headers):
            with IntakeLoad(client, headers) as load:
                time.sleep(1.5)
                server.stop("fast")
                time.sleep(down_s)
                ready = client.get("/readyz").status_code
                server.start()
                ended_at = time.monotonic()
                time.sleep(3.0)
            result = _summary("database restart", load.answers, db, ended_at, link_timeout)
            result.ready_during = ready
            return result
    finally:
        server.remove()


def can_mount() -> bool:
    """True when this process may mount a small tmpfs (root in most CI containers)."""
    return os.geteuid() == 0 and Path("/proc/filesystems").read_text().count("tmpfs") > 0


@contextmanager
def small_disk(folder: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of `megabytes` mounted at `folder` for the duration (a real full disk)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
                   check=True)  # fmt: skip
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave_bytes: int) -> Path:
    """Fill the file system of `folder` until `leave_bytes` are free; return the filler."""
    filler = folder / "filler"
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with filler.open("wb") as out:
        out.write(b"\0" * max(0, free - leave_bytes))
    return filler


def disk_full(
    folder: Path, full_s: float = 2.0, link_timeout: float = 60.0, megabytes: int = 160
) -> StoreFaultResult:
    """Fill the disk of a SQLite home under intake load (half the reports carry evidence),
    keep it full for `full_s` after the first refusal, then free space.

    The disk is large enough that the load's last seconds after the fault (evidence included)
    cannot fill it again: with 48 MB, a faster intake refilled it before the linker's next try,
    and the test measured a second fault instead of the recovery from the first."""
    with small_disk(folder / "disk", megabytes) as disk:
        settings = Settings(home=disk / "home")
        with running_app(settings) as (client, db, headers):
            filler = fill(disk, leave_bytes=4 * 1024 * 1024)
            with IntakeLoad(client, headers, media=True) as load:
                refused: Callable[[], bool] = lambda: any(a.status >= 300 for a in load.answers)  # noqa: E731
                wait_until(refused, 60)
                time.sleep(full_s)
                ready = client.get("/readyz").status_code
                filler.unlink()
                ended_at = time.monotonic()
                time.sleep(3.0)
            result = _summary("disk full", load.answers, db, ended_at, link_timeout)
            result.ready_during = ready
            leftovers = list((disk / "home").rglob("*.tmp"))
            if leftovers:
                raise AssertionError(f"temporary files left behind: {leftovers[:5]}")
            return result
