"""Case rules are pure: an event and a read-only view in, effects naming their rule out."""

from __future__ import annotations

from datetime import UTC, datetime

from safestream.cases.rules import (
    EventRules,
    ReportView,
    default_rules,
    notify_on_urgent,
    triage,
)
from safestream.cases.triage import load_rules
from safestream.cases.view import CaseView
from safestream.core.banks import Classification
from safestream.core.cases import Priority
from safestream.core.effects import (
    AttachMatch,
    Effect,
    KeepLiveBuffer,
    Notify,
    OpenOrJoinCase,
    PreserveEvidence,
    SetPriority,
)
from safestream.core.entities import Entity, EntityKind
from safestream.core.events import (
    MatchFound,
    PanicPressed,
    PaymentPatternFound,
    RegionMatchFound,
    ReportReceived,
    StreamFlagged,
)
from safestream.core.reports import ReportSource
from safestream.core.signals import SignalType

AT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
VIEW = ReportView(report_id="r-1", org_id=3)
RULES = default_rules()


def _match(*, verified: bool, stream_id: str | None) -> MatchFound:
    return MatchFound(
        at=AT,
        bank="known",
        entry_id=7,
        signal_type=SignalType.PDQ,
        entry_hash="a" * 64,
        distance=4,
        label=Classification.A1,
        verified=verified,
        stream_id=stream_id,
        t=None,
    )


def _facts(**changes: object) -> CaseView:
    facts: dict[str, object] = {
        "live_now": False, "hash_match": False, "child_in_danger": False, "panic": False,
        "payment_flag": False, "payment_score": 0.0, "private_stream": False,
        "claimed_elsewhere": False, "report_count": 1, "reporting_orgs": 1, "account_count": 0,
        "viewer_count": 0, "payment_count": 0, "match_count": 0, "incident_types": [],
        "sources": ["detector"],
    }  # fmt: skip
    facts.update(changes)
    return CaseView(case_id=5, priority=3, facts_=facts)  # type: ignore[arg-type]


def test_received_report_joins_or_opens_a_case_on_its_identifiers() -> None:
    entities = (Entity.of(EntityKind.EMAIL, "p@x.org"),)
    event = ReportReceived(
        at=AT, source=ReportSource.PLATFORM, entities=entities, live_now=False,
        child_in_danger=False, private_stream=False, viewer_count=0, payment_count=0,
        platform_country=None, countries=(),
    )  # fmt: skip
    assert RULES.effects(event, VIEW) == [
        OpenOrJoinCase(rule="link_shared_identifiers", report_id="r-1", entities=entities)
    ]


def test_a_verified_match_on_a_stream_is_attached_and_holds_the_stream() -> None:
    effects = RULES.effects(_match(verified=True, stream_id="call-1"), VIEW)
    assert [type(e) for e in effects] == [AttachMatch, PreserveEvidence]
    assert {e.rule for e in effects} == {"attach_match", "preserve_on_match"}
    hold = effects[1]
    assert isinstance(hold, PreserveEvidence) and hold.stream_id == "call-1"


def test_an_unverified_match_is_attached_but_holds_nothing() -> None:
    effects = RULES.effects(_match(verified=False, stream_id="call-1"), VIEW)
    assert [type(e) for e in effects] == [AttachMatch]


def _region_match(stream_id: str | None) -> RegionMatchFound:
    return RegionMatchFound(
        at=AT, bank="rooms", entry_id=9, bank_kind="room", label=Classification.UNCLASSIFIED,
        verified=True, stream_id=stream_id, stage="local", region=(10, 20, 300, 200),
        frame_size=(640, 360), coverage=0.8, inliers=30, media_sha256=None, t=None,
    )  # fmt: skip


def test_a_region_match_in_a_stream_holds_the_stream() -> None:
    (effect,) = RULES.effects(_region_match("call-3"), VIEW)
    assert isinstance(effect, PreserveEvidence)
    assert effect.rule == "preserve_on_region_match" and effect.stream_id == "call-3"
    assert "room" in effect.reason


def test_a_region_match_in_a_file_holds_nothing() -> None:
    assert RULES.effects(_region_match(None), VIEW) == []


def test_a_flagged_stream_is_held_with_the_reason() -> None:
    event = StreamFlagged(at=AT, stream_id="call-2", reason="matched bank known", live_now=True)
    (effect,) = RULES.effects(event, VIEW)
    assert isinstance(effect, PreserveEvidence)
    assert effect.rule == "preserve_on_flag" and "matched bank known" in effect.reason


def test_a_panic_press_holds_the_stream_and_asks_its_worker_to_keep_the_buffer() -> None:
    effects = RULES.effects(PanicPressed(at=AT, stream_id="call-3", child_in_danger=True), VIEW)
    assert [type(e) for e in effects] == [PreserveEvidence, KeepLiveBuffer]
    keep = effects[1]
    assert isinstance(keep, KeepLiveBuffer)
    assert keep.stream_id == "call-3" and keep.requested_by == "panic_button:org:3"


def test_a_panic_press_without_a_stream_asks_for_no_buffer() -> None:
    assert RULES.effects(PanicPressed(at=AT, stream_id=None, child_in_danger=True), VIEW) == []


def test_a_strong_payment_pattern_raises_the_case_score_by_its_own_rule() -> None:
    rules = load_rules()
    weak = triage(_facts(payment_flag=True, payment_score=1.2), rules)[0]
    strong = triage(_facts(payment_flag=True, payment_score=2.5), rules)[0]
    assert isinstance(weak, SetPriority) and isinstance(strong, SetPriority)
    assert "strong_payment_pattern" in [f.rule for f in strong.fired]
    assert "strong_payment_pattern" not in [f.rule for f in weak.fired]
    assert strong.score > weak.score


def test_a_payment_pattern_event_reaches_triage_through_the_case_facts_only() -> None:
    event = PaymentPatternFound(
        at=AT, payment_account="w", role="payee", score=9.0, flag_threshold=4.0, reasons="r",
        counterparties=(),
    )  # fmt: skip
    assert RULES.effects(event, VIEW) == []
    assert event.strength == 2.25


def test_an_organisation_registers_its_own_rule_for_an_event_type() -> None:
    def notify_on_any_flag(event: StreamFlagged, view: ReportView) -> list[Effect]:
        return [Notify(rule="notify_on_any_flag", case_id=0, channel="ops", message=event.reason)]

    rules = EventRules()
    rules.register(StreamFlagged, notify_on_any_flag)
    event = StreamFlagged(at=AT, stream_id="s", reason="why", live_now=False)
    assert [e.rule for e in rules.effects(event, VIEW)] == ["notify_on_any_flag"]
    assert rules.names(StreamFlagged) == ["notify_on_any_flag"]
    assert rules.effects(PanicPressed(at=AT, stream_id="s", child_in_danger=False), VIEW) == []


def test_an_urgent_priority_alerts_the_reviewers_once() -> None:
    view = _facts(panic=True, child_in_danger=True)
    found = triage(view, load_rules())
    (alert,) = notify_on_urgent(view, found)
    assert isinstance(alert, Notify) and alert.channel == "reviewers.urgent"
    already_urgent = CaseView(case_id=5, priority=Priority.URGENT, facts_=view.facts())
    assert notify_on_urgent(already_urgent, found) == []
