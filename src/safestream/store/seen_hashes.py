"""Hashes of recently seen content in the store: what retroactive matching searches.

Intake (report attachments), the live monitor (sampled frames) and the hashing and lookup routes
(files a platform hashed or matched, hashes it looked up, with the organisation as provenance)
record the PDQ hashes they computed or were given anyway; the media itself is never kept here.
Rows are numbered in arrival order, so a long-running matcher loads only the rows after the last
one it holds, and rows older than the operator's retention are deleted by `prune`. Only
SafeStream's own code (the system principal) records or reads them: they say what a platform
uploaded and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Float, cast, delete, func, select

from safestream.core.errors import InvalidInput, PermissionDenied
from safestream.core.principal import Principal
from safestream.store.database import Database
from safestream.store.models.media import SeenHashRow

KINDS = ("upload", "frame", "lookup")
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite
MAX_REF = 256


@dataclass(frozen=True)
class SeenHash:
    """One hash of seen content: an upload's (`ref` its SHA-256), a stream frame's, or a hash
    looked up (`ref` the hash)."""

    kind: str
    ref: str  # the upload's SHA-256, the stream id, or the hash looked up
    pdq: str  # 64 hex digits
    seen_at: datetime
    t: float | None = None  # seconds into the stream, for frames
    id: int = 0  # the store's row number (0 until stored)
    org_id: int | None = None  # whose API call showed it (None: an attachment or a frame)


@dataclass(frozen=True)
class SeenPage:
    """Rows in arrival order: ids, PDQ codes (32 bytes each, joined), unix times."""

    ids: list[int]
    codes: bytes
    times: list[float]


def _system(principal: Principal) -> None:
    if not principal.is_system:
        raise PermissionDenied("only SafeStream's own detectors record or read seen hashes")


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class SeenHashes:
    """Recently seen hashes: record, read in arrival order, forget by age."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, principal: Principal, hashes: Sequence[SeenHash]) -> int:
        """Store hashes just seen; return how many. Bad rows are refused before any is stored.

        Written with the driver's own `executemany` (SQLAlchemy's per-row parameter and type
        processing cost more than the insert): every hash a platform looks up comes here."""
        _system(principal)
        sqlite = self.db.url.startswith("sqlite")
        rows = []
        for h in hashes:
            if h.kind not in KINDS or not h.ref or len(h.ref) > MAX_REF:
                raise InvalidInput(f"seen hash: kind must be one of {KINDS}, ref 1-{MAX_REF}")
            try:
                code = bytes.fromhex(h.pdq)
            except ValueError as exc:
                raise InvalidInput(f"seen hash: not a PDQ hex {h.pdq!r}") from exc
            if len(code) != 32:
                raise InvalidInput(f"seen hash: not a PDQ hex {h.pdq!r}")
            at = _aware(h.seen_at)
            # SQLite keeps UTC as text in SQLAlchemy's format; PostgreSQL takes the datetime.
            when = at.astimezone(UTC).strftime(_SQLITE_TIME) if sqlite else at
            rows.append((h.kind, h.ref, h.t, code, when, h.org_id))
        if rows:
            mark = "?" if sqlite else "%s"
            sql = (
                "INSERT INTO seen_hashes (kind, ref, t, pdq, seen_at, org_id) "
                f"VALUES ({', '.join([mark] * 6)})"
            )
            with self.db.session() as s:
                s.connection().exec_driver_sql(sql, rows)
        return len(rows)

    def page(self, principal: Principal, after_id: int, limit: int) -> SeenPage:
        """Up to `limit` rows numbered above `after_id`, oldest first.

        Times come from the database as unix seconds: converting millions of datetimes in
        Python took most of a 10M-row load."""
        _system(principal)
        if self.db.url.startswith("sqlite"):
            epoch = (func.julianday(SeenHashRow.seen_at) - 2440587.5) * 86400.0
        else:
            epoch = cast(func.extract("epoch", SeenHashRow.seen_at), Float)
        with self.db.session() as s:
            found = (
                s.connection()
                .execute(
                    select(SeenHashRow.id, SeenHashRow.pdq, epoch)
                    .where(SeenHashRow.id > after_id)
                    .order_by(SeenHashRow.id)
                    .limit(limit)
                )
                .all()
            )
        return SeenPage(
            [r[0] for r in found],
            b"".join([bytes(r[1]) for r in found]),
            [float(r[2]) for r in found],
        )

    def details(self, principal: Principal, ids: Sequence[int]) -> dict[int, SeenHash]:
        """The rows with these numbers (those still kept)."""
        _system(principal)
        out: dict[int, SeenHash] = {}
        unique = sorted(set(ids))
        with self.db.session() as s:
            for start in range(0, len(unique), 500):
                for row in s.scalars(
                    select(SeenHashRow).where(SeenHashRow.id.in_(unique[start : start + 500]))
                ):
                    out[row.id] = SeenHash(row.kind, row.ref, bytes(row.pdq).hex(),
                                           _aware(row.seen_at), row.t, row.id,
                                           row.org_id)  # fmt: skip
        return out

    def prune(self, principal: Principal, before: datetime) -> int:
        """Forget rows seen before `before`; return how many went."""
        _system(principal)
        with self.db.session() as s:
            done = s.execute(delete(SeenHashRow).where(SeenHashRow.seen_at < before))
            return int(done.rowcount or 0)  # type: ignore[attr-defined]

    def count(self, principal: Principal) -> int:
        """How many rows are kept."""
        _system(principal)
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(SeenHashRow)) or 0)
