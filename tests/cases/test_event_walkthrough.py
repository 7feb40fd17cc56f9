"""One event of each type, from the producer that emits it to the effects the case engine applies.

Each test goes through the real producer code (intake, the media matcher's report, the live
monitor's store sink, the panic endpoint's filing, finance's alert filing), the real store (the
event is written with its report, then read back by the engine) and the real sinks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from safestream.cases.engine import CaseEngine
from safestream.cases.review import get_case
from safestream.cases.sinks import KEEP_LIVE_BUFFER_CHANNEL
from safestream.core.banks import Classification, Match
from safestream.core.events import PanicPressed, RegionMatchFound
from safestream.core.principal import Principal
from safestream.core.reports import ReportIn
from safestream.finance.reporting import pattern_found, report_for
from safestream.live.alerts import Alert
from safestream.live.sinks import StoreReportSink
from safestream.media.reporting import report_matched_file
from safestream.reports.intake import DetectorSink, IntakeService
from safestream.store.database import Database
from safestream.store.models.cases import CaseMatchRow, OutboxRow
from safestream.store.models.reports import EventRow, EvidenceHoldRow
from safestream.store.reports import ReportRepository
from tests.reports.builders import account, org, report

PDQ = "f" * 64
SYSTEM = Principal.system("test")


def _kinds(db: Database, report_id: str) -> list[str]:
    with db.session() as s:
        return list(
            s.scalars(
                select(EventRow.kind).where(EventRow.report_id == report_id).order_by(EventRow.id)
            )
        )


def _case(db: Database, report_id: str) -> int:
    case_id = ReportRepository(db).get(report_id).case_id
    assert case_id is not None
    return case_id


def test_report_received_from_intake_opens_a_case_on_its_identifiers(database: Database) -> None:
    stored = IntakeService(database).receive(
        org(database), report(reported_accounts=[account("acme", "u1", email="p@x.org")])
    )
    assert _kinds(database, stored.report.id) == ["ReportReceived"]
    CaseEngine.for_settings(database).process_pending()
    case = get_case(database, SYSTEM, _case(database, stored.report.id))
    assert {e.value for e in case.entities} == {"acme:u1", "p@x.org"}


def test_match_found_by_the_media_matcher_is_kept_on_the_case(database: Database) -> None:
    sink = DetectorSink(database, detector="media")
    found = Match("known", 7, PDQ, 4, Classification.A1)
    stored = report_matched_file(sink, "clip.jpg", "0" * 32, "1" * 64, [found])
    assert _kinds(database, stored.id) == ["ReportReceived", "MatchFound"]
    with database.session() as s:
        rows = s.execute(select(CaseMatchRow.bank, CaseMatchRow.entry_id, CaseMatchRow.case_id))
        assert list(rows) == [("known", 7, stored.case_id)]
    assert "verified_hash_match" in [
        f.rule for f in get_case(database, SYSTEM, _case(database, stored.id)).fired
    ]


def _stored_events(db: Database, report_id: str) -> list[object]:
    from safestream.core.events import decode_event

    with db.session() as s:
        rows = s.execute(
            select(EventRow.kind, EventRow.version, EventRow.payload)
            .where(EventRow.report_id == report_id)
            .order_by(EventRow.id)
        ).all()
    return [decode_event(k, v, json.loads(p)) for k, v, p in rows]


def _local_match() -> Match:
    return Match(
        "known", 8, "2" * 64, 0, Classification.A2, variant="local",
        extra={"inliers": 33, "model": "homography", "bank_kind": "media"}, stage="local",
        region=(640, 0, 620, 400), coverage=0.97, frame_size=(1280, 720),
    )  # fmt: skip


def test_region_match_found_by_the_second_stage_is_stored_with_its_region(
    database: Database,
) -> None:
    sink = DetectorSink(database, detector="media")
    stored = report_matched_file(sink, "frame.jpg", "0" * 32, "3" * 64, [_local_match()])
    assert _kinds(database, stored.id) == ["ReportReceived", "RegionMatchFound"]
    event = _stored_events(database, stored.id)[1]
    assert isinstance(event, RegionMatchFound)
    assert (event.bank, event.entry_id, event.stage) == ("known", 8, "local")
    assert (event.region, event.frame_size, event.coverage) == (
        (640, 0, 620, 400), (1280, 720), 0.97,
    )  # fmt: skip
    assert (event.inliers, event.bank_kind, event.media_sha256) == (33, "media", "3" * 64)
    with database.session() as s:  # no hash to list: the case's hash matches stay empty
        assert list(s.scalars(select(CaseMatchRow.id))) == []
    fired = [f.rule for f in get_case(database, SYSTEM, _case(database, stored.id)).fired]
    assert "known_image_inside_media" in fired and "verified_hash_match" not in fired


def test_region_match_seen_by_the_live_monitor_holds_the_streams_evidence(
    database: Database,
) -> None:
    alert = Alert(
        alert_id="a-2", stream="rtmp://live.example/room-4", t=30.0, wall_time="", bank="rooms",
        entry_id=5, entry_hash="4" * 64, distance=0, label="unclassified", variant="local",
        latency_ms=90.0, frame_hash=PDQ, quality=80, stage="local", region=(0, 0, 500, 300),
        coverage=0.6, frame_size=(640, 360), inliers=52, bank_kind="room",
    )  # fmt: skip
    sink = StoreReportSink(database)
    try:
        assert sink.deliver(alert)
    finally:
        sink.close()
    (report_id,) = sink.report_ids
    assert _kinds(database, report_id) == ["ReportReceived", "StreamFlagged", "RegionMatchFound"]
    event = _stored_events(database, report_id)[2]
    assert isinstance(event, RegionMatchFound)
    assert (event.stream_id, event.bank_kind, event.region, event.t) == (
        "rtmp://live.example/room-4", "room", (0, 0, 500, 300), 30.0,
    )  # fmt: skip
    with database.session() as s:  # one hold per stream, whichever rule asked first
        held = set(s.scalars(select(EvidenceHoldRow.stream_id)))
    assert held == {"rtmp://live.example/room-4"}
    case = get_case(database, SYSTEM, _case(database, report_id))
    assert "known_room_seen" in [f.rule for f in case.fired]


def test_stream_flagged_by_the_live_monitor_holds_the_streams_evidence(database: Database) -> None:
    alert = Alert(
        alert_id="a-1", stream="rtmp://live.example/room-9", t=12.0, wall_time="", bank="known",
        entry_id=3, entry_hash=PDQ, distance=5, label="A1", variant="original", latency_ms=80.0,
        frame_hash=PDQ, quality=90,
    )  # fmt: skip
    sink = StoreReportSink(database)
    try:
        assert sink.deliver(alert)
    finally:
        sink.close()
    (report_id,) = sink.report_ids
    assert _kinds(database, report_id) == ["ReportReceived", "StreamFlagged", "MatchFound"]
    with database.session() as s:
        holds = s.execute(select(EvidenceHoldRow.stream_id, EvidenceHoldRow.rule)).all()
    assert ("rtmp://live.example/room-9", "preserve_on_flag") in holds


def test_panic_pressed_holds_evidence_and_asks_for_the_live_buffer_after_commit(
    database: Database,
) -> None:
    body = ReportIn.model_validate(
        {"source": "panic_button", "live_stream": {"stream_id": "call-7"}, "child_in_danger": True}
    )
    pressed = PanicPressed(at=datetime.now(UTC), stream_id="call-7", child_in_danger=True)
    owner = org(database)
    stored = IntakeService(database).receive(owner, body, events=[pressed])
    assert _kinds(database, stored.report.id) == ["ReportReceived", "PanicPressed"]
    CaseEngine.for_settings(database).process([stored.report.id])
    case_id = _case(database, stored.report.id)
    with database.session() as s:
        outbox = {row.channel: row for row in s.scalars(select(OutboxRow))}
        holds = list(s.scalars(select(EvidenceHoldRow.rule)))
    assert holds == ["preserve_on_panic"]
    keep = json.loads(outbox[KEEP_LIVE_BUFFER_CHANNEL].message)
    assert keep["stream_id"] == "call-7" and keep["requested_by"] == f"panic_button:org:{owner.id}"
    assert outbox[KEEP_LIVE_BUFFER_CHANNEL].case_id == case_id
    assert outbox["reviewers.urgent"].sent_at is None  # sent by the outbox sender, after commit


def test_payment_pattern_found_by_finance_reaches_triage_with_its_score(
    database: Database,
) -> None:
    alert = {"role": "payee", "account_id": "F1", "score": 9.0, "rank": 1,
             "reasons": "many small transfers", "first_flag_tx_id": "42"}  # fmt: skip
    sink = DetectorSink(database, detector="finance")
    stored = sink.emit(report_for(alert, ["P1"]), [pattern_found(alert, ["P1"], 4.0)])
    assert _kinds(database, stored.id) == ["ReportReceived", "PaymentPatternFound"]
    case = get_case(database, SYSTEM, _case(database, stored.id))
    assert "strong_payment_pattern" in [f.rule for f in case.fired]
