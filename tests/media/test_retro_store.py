"""Retroactive matching over the seen hashes in the store: what is raised, kept and refused."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from safestream.core.banks import BankEntry, Classification
from safestream.core.errors import PermissionDenied
from safestream.core.principal import Principal, Role
from safestream.live.alerts import SampledMatches
from safestream.live.seen_frames import SeenFrameRecorder
from safestream.media.retro import RetroMatcher
from safestream.reports.intake import DetectorSink
from safestream.store import Database
from safestream.store.access import create_org
from safestream.store.banks import BankRepository, NewEntry
from safestream.store.reports import ReportRepository
from safestream.store.seen_hashes import SeenHash, SeenHashes

SYSTEM = Principal.system("test")


def _near(pdq: str, bits: int) -> str:
    return f"{int(pdq, 16) ^ ((1 << bits) - 1):064x}"


def _matcher(db: Database, days: int = 30) -> RetroMatcher:
    return RetroMatcher(db, timedelta(days=days), DetectorSink(db, detector="retro"))


def _entry(db: Database, pdq: str, label: str = "A1", bank: str = "known") -> BankEntry:
    banks = BankRepository(db)
    banks.create(bank, negative=label == "benign")
    (entry_id,) = banks.add_entries(bank, [NewEntry("pdq", pdq, label=label)])
    return BankEntry(entry_id, bank, "pdq", pdq, Classification(label))


def test_a_live_frame_seen_before_its_hash_was_banked_is_raised_for_its_stream(
    database: Database,
) -> None:
    pdq = secrets.token_hex(32)
    recorder = SeenFrameRecorder(SeenHashes(database), flush_seconds=0.05)
    recorder(SampledMatches("call-4", 31.5, 0.0, _near(pdq, 9), 100, []))
    recorder.close()
    (finding,) = _matcher(database).match([_entry(database, pdq)])
    assert (finding.seen.kind, finding.seen.ref, finding.seen.t, finding.distance) == (
        "frame", "call-4", 31.5, 9,
    )  # fmt: skip
    report = ReportRepository(database).get(finding.report_id)
    assert report.body.live_stream is not None and report.body.live_stream.stream_id == "call-4"
    assert not report.body.live_now
    assert [(m.bank, m.entry_id) for m in report.body.matches] == [("known", finding.entry.id)]
    assert report.case_id is not None


def test_a_frame_too_flat_to_hash_reliably_is_not_kept(database: Database) -> None:
    recorder = SeenFrameRecorder(SeenHashes(database), flush_seconds=0.05)
    recorder(SampledMatches("call-4", 1.0, 0.0, secrets.token_hex(32), 10, []))
    recorder.close()
    assert SeenHashes(database).count(SYSTEM) == 0


def test_content_further_than_the_threshold_raises_nothing(database: Database) -> None:
    pdq = secrets.token_hex(32)
    now = datetime.now(UTC)
    SeenHashes(database).record(SYSTEM, [SeenHash("upload", "a" * 64, _near(pdq, 40), now)])
    assert _matcher(database).match([_entry(database, pdq)]) == []


def test_hashes_older_than_the_retention_are_forgotten_and_never_raised(
    database: Database,
) -> None:
    pdq = secrets.token_hex(32)
    old = datetime.now(UTC) - timedelta(days=8)
    SeenHashes(database).record(SYSTEM, [SeenHash("upload", "b" * 64, pdq, old)])
    assert _matcher(database, days=7).match([_entry(database, pdq)]) == []
    assert SeenHashes(database).count(SYSTEM) == 0


def test_a_benign_entry_raises_nothing(database: Database) -> None:
    pdq = secrets.token_hex(32)
    SeenHashes(database).record(SYSTEM, [SeenHash("upload", "c" * 64, pdq, datetime.now(UTC))])
    assert _matcher(database).match([_entry(database, pdq, label="benign")]) == []


def test_matching_the_same_entry_again_files_no_second_report(database: Database) -> None:
    pdq = secrets.token_hex(32)
    SeenHashes(database).record(SYSTEM, [SeenHash("upload", "d" * 64, pdq, datetime.now(UTC))])
    entry = _entry(database, pdq)
    matcher = _matcher(database)
    (first,) = matcher.match([entry])
    (again,) = _matcher(database).match([entry])
    assert first.report_id == again.report_id


def test_a_running_matcher_loads_hashes_seen_since_its_last_update(database: Database) -> None:
    matcher = _matcher(database)
    early, late = secrets.token_hex(32), secrets.token_hex(32)
    SeenHashes(database).record(SYSTEM, [SeenHash("upload", "e" * 64, early, datetime.now(UTC))])
    assert len(matcher.match([_entry(database, early, bank="first")])) == 1
    SeenHashes(database).record(SYSTEM, [SeenHash("upload", "f" * 64, late, datetime.now(UTC))])
    assert matcher.refresh() == 1  # only the hash recorded since the last update
    (finding,) = matcher.match([_entry(database, late, bank="second")])
    assert finding.seen.ref == "f" * 64
    assert len(matcher.seen) == 2


def test_only_safestream_itself_records_or_reads_seen_hashes(database: Database) -> None:
    org = create_org(database, "Platform A")
    admin = Principal(org=org.ref, user="admin@a", roles=frozenset({Role.ADMIN}))
    seen = SeenHashes(database)
    with pytest.raises(PermissionDenied):
        seen.record(admin, [SeenHash("upload", "a" * 64, "0" * 64, datetime.now(UTC))])
    with pytest.raises(PermissionDenied):
        seen.page(admin, 0, 10)
