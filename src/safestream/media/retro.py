"""Retroactive matching: new bank entries searched over the content seen before they arrived.

A `RetroMatcher` holds the store's recently seen hashes (`store.seen_hashes`) in a
`RecentlySeen` index, loading only the rows added since its last refresh and forgetting those
older than the retention, so a long-running process (a scheduled `exchange pull`) keeps the index
warm. For each new PDQ entry, the content within the match threshold is raised as matches: one
detector report per seen item and entry, with a `MatchFound` event, that links by the upload's
SHA-256 or the stream's id to the cases that already hold them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from safestream.core.banks import BankEntry, Classification
from safestream.core.errors import NotFound
from safestream.core.events import EventSink, MatchFound
from safestream.core.peer_banks import BankHit
from safestream.core.principal import Principal
from safestream.core.reports import IncidentType, LiveStream, MatchedEntry, MediaHash, ReportIn
from safestream.core.signals import PDQ_MATCH_MAX_BITS, SignalType
from safestream.exchange.entry_screen import PeerEntryScreen
from safestream.media.recent_seen import RecentlySeen, RetroMatch
from safestream.store.access import get_org_by_id
from safestream.store.banks import BankRepository
from safestream.store.database import Database
from safestream.store.seen_hashes import SeenHash, SeenHashes

SYSTEM = Principal.system("retro-match")
LOAD_PAGE = 200_000


@dataclass(frozen=True)
class RetroFinding:
    """Content seen before `entry` arrived that matches it, and the report raising it."""

    entry: BankEntry
    seen: SeenHash
    distance: int
    report_id: str


class RetroMatcher:
    """Recently seen hashes from the store, searched for each bank update."""

    def __init__(
        self,
        db: Database,
        retention: timedelta,
        sink: EventSink,
        *,
        radius: int = PDQ_MATCH_MAX_BITS,
    ) -> None:
        self.store = SeenHashes(db)
        self.screen = PeerEntryScreen(db)  # a peer's entry matching too much is quarantined
        self.seen = RecentlySeen(retention)
        self.sink = sink
        self.radius = radius
        self._last_id = 0
        self._orgs: dict[int, str] = {}

    def refresh(self, now: datetime | None = None) -> int:
        """Forget what is past the retention (store and index); load rows added since; return
        how many were loaded."""
        cutoff = (now or datetime.now(UTC)) - self.seen.retention
        self.store.prune(SYSTEM, cutoff)
        self.seen.prune(now)
        # Read every new page first and add them to the index at once: each bulk add rebuilds
        # the index, so adding 10M hashes page by page took 16 min instead of seconds.
        ids, codes, times = [], [], []
        last = self._last_id
        while True:
            page = self.store.page(SYSTEM, last, LOAD_PAGE)
            if not page.ids:
                break
            seen = np.asarray(page.times, dtype=np.float64)
            keep = seen >= cutoff.timestamp()
            ids.append(np.asarray(page.ids, dtype=np.int64)[keep])
            codes.append(np.frombuffer(page.codes, dtype=np.uint8).reshape(-1, 32)[keep])
            times.append(seen[keep])
            last = page.ids[-1]
        loaded = sum(len(i) for i in ids)
        if loaded:
            self.seen.observe_stored(np.concatenate(ids), np.concatenate(codes),
                                     np.concatenate(times))  # fmt: skip
        self._last_id = last
        return loaded

    def _org_name(self, org_id: int | None) -> str | None:
        """The name of the organisation that showed the content (None for attachments and
        frames, whose reports and streams say where they came from)."""
        if org_id is None:
            return None
        if org_id not in self._orgs:
            try:
                self._orgs[org_id] = get_org_by_id(self.store.db, org_id).name
            except NotFound:
                self._orgs[org_id] = f"#{org_id} (since deleted)"
        return self._orgs[org_id]

    def match_ids(self, ids: Sequence[int], now: datetime | None = None) -> list[RetroFinding]:
        """`match` for entries known by id (entries of negative banks are left out)."""
        found = BankRepository(self.store.db).entries_by_id(sorted(set(ids)))
        return self.match([e for e, bank in found.values() if not bank.negative], now)

    def match(
        self, entries: Sequence[BankEntry], now: datetime | None = None
    ) -> list[RetroFinding]:
        """Raise the past content each new entry matches; return what was raised.

        Negative (benign) entries suppress matches and never raise one; hashes other than PDQ
        are left to exact lookups."""
        wanted = {
            e.id: e
            for e in entries
            if e.signal_type == SignalType.PDQ.value and e.label is not Classification.BENIGN
        }
        self.refresh(now)
        found = self.seen.match_new_entries([(e.id, e.value) for e in wanted.values()],
                                            self.radius)  # fmt: skip
        details = self.store.details(SYSTEM, [m.source_id for m in found if m.source_id])
        best: dict[tuple[int, str, str, int], tuple[RetroMatch, SeenHash]] = {}
        for m in found:
            seen = details.get(m.source_id or 0)
            if seen is None:  # pruned meanwhile
                continue
            key = (m.entry_id, seen.kind, seen.ref, seen.org_id or 0)
            if key not in best or m.distance < best[key][0].distance:
                best[key] = (m, seen)
        pairs = sorted(best.items())
        verdicts = self.screen.allowed([
            BankHit(f"{seen.kind}:{seen.ref}", wanted[entry_id].bank, wanted[entry_id].source,
                    SignalType.PDQ.value, wanted[entry_id].value)
            for (entry_id, *_), (_, seen) in pairs
        ])  # fmt: skip
        raised = []
        for ((entry_id, *_), (m, seen)), ok in zip(pairs, verdicts, strict=True):
            if not ok:
                continue
            entry = wanted[entry_id]
            report = _report(entry, seen, m.distance, self._org_name(seen.org_id))
            stored = self.sink.emit(report, [_event(entry, seen, m)])
            raised.append(RetroFinding(entry, seen, m.distance, str(stored.id)))
        return raised


def _report(entry: BankEntry, seen: SeenHash, distance: int, org: str | None) -> ReportIn:
    if seen.kind == "frame":
        where = f"stream {seen.ref} at {seen.t or 0:.1f} s"
    elif seen.kind == "lookup":
        where = "a hash looked up"
    else:
        where = f"an upload (SHA-256 {seen.ref})"
    if org is not None:
        where += f" by organisation {org}"
    # Who showed it is part of the key: two platforms that saw the same content each raise one.
    whose = f"\0{seen.org_id}" if seen.org_id is not None else ""
    name = f"{seen.kind}\0{seen.ref}\0{entry.bank}\0{entry.id}{whose}"
    key = hashlib.sha256(name.encode()).hexdigest()
    hashes = [MediaHash(signal_type=SignalType.PDQ, value=seen.pdq)]
    if seen.kind == "upload":
        hashes.insert(0, MediaHash(signal_type=SignalType.SHA256, value=seen.ref))
    return ReportIn(
        description=(
            f"Retroactive match: {where}, seen {seen.seen_at.isoformat()}, matches bank "
            f"{entry.bank} entry {entry.id} (distance {distance}), which arrived later."
        ),
        incident_type=IncidentType.CHILD_PORNOGRAPHY,
        incident_at=seen.seen_at,
        # When the matched frame was seen, not the stream's known end: it is not claimed live.
        live_stream=(
            LiveStream(stream_id=seen.ref, ended_at=seen.seen_at) if seen.kind == "frame" else None
        ),
        media_hashes=hashes,
        matches=[
            MatchedEntry(
                bank=entry.bank,
                entry_id=entry.id,
                signal_type=SignalType.PDQ,
                value=entry.value,
                distance=distance,
                label=entry.label.value,
            )
        ],
        idempotency_key=f"retro:{key[:48]}",
    )


def _event(entry: BankEntry, seen: SeenHash, m: RetroMatch) -> MatchFound:
    return MatchFound(
        at=datetime.now(UTC),
        bank=entry.bank,
        entry_id=entry.id,
        signal_type=SignalType.PDQ,
        entry_hash=entry.value,
        distance=m.distance,
        label=entry.label,
        verified=True,
        stream_id=seen.ref if seen.kind == "frame" else None,
        t=seen.t,
    )
