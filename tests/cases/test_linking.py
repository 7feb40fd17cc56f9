"""Reports sharing an identifier join one case; one open case per subject; deconfliction."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from safestream.cases import engine as engine_module
from safestream.cases.engine import CaseEngine
from safestream.cases.linking import MAX_ACCOUNTS_PER_LINKING_IP
from safestream.cases.queues import list_cases
from safestream.cases.review import get_case, mark_claimed_elsewhere
from safestream.cases.rules import EventRules
from safestream.core.cases import CaseStatus
from safestream.core.effects import Effect
from safestream.core.principal import Principal
from safestream.core.reports import ReportIn, ReportSource, ReportStatus
from safestream.store.database import Database
from safestream.store.events import ClaimedReport
from safestream.store.models.cases import CaseRow
from safestream.store.models.reports import PENDING_PRESS
from safestream.store.reports import ReportRepository
from tests.reports.builders import account, live, org, report, store

SYSTEM = Principal.system("test")


def _link(db: Database) -> None:
    CaseEngine.for_settings(db).process_pending()


def _case_of(db: Database, report_id: str) -> int:
    case_id = ReportRepository(db).get(report_id).case_id
    assert case_id is not None
    return case_id


def test_reports_sharing_an_email_join_one_case(database: Database) -> None:
    acme = org(database)
    a = store(database, acme, report(reported_accounts=[account("acme", "u1", email="p@x.org")]))
    b = store(database, acme, report(reported_accounts=[account("other", "u7", email="P@x.org")]))
    _link(database)
    assert _case_of(database, a) == _case_of(database, b)


def test_reports_sharing_a_stream_id_join_one_case(database: Database) -> None:
    acme = org(database)
    a = store(database, acme, report(source="panic_button", live_stream=live("call-1")))
    b = store(
        database,
        acme,
        report(reported_accounts=[account("acme", "u2")], live_stream=live("call-1")),
    )
    _link(database)
    assert _case_of(database, a) == _case_of(database, b)


def test_unrelated_reports_open_separate_cases(database: Database) -> None:
    acme = org(database)
    a = store(database, acme, report(reported_accounts=[account("acme", "u1")]))
    b = store(database, acme, report(reported_accounts=[account("acme", "u2")]))
    _link(database)
    assert _case_of(database, a) != _case_of(database, b)


def test_report_bridging_two_cases_merges_them_into_the_oldest(database: Database) -> None:
    acme = org(database)
    a = store(database, acme, report(reported_accounts=[account("acme", "u1")]))
    b = store(database, acme, report(payment_accounts=["pay-1"]))
    _link(database)
    first, second = _case_of(database, a), _case_of(database, b)
    bridge = store(
        database,
        acme,
        report(reported_accounts=[account("acme", "u1")], payment_accounts=["pay-1"]),
    )
    _link(database)
    assert _case_of(database, a) == _case_of(database, b) == _case_of(database, bridge) == first
    merged = get_case(database, SYSTEM, second)
    assert merged.status is CaseStatus.MERGED and merged.merged_into == first
    kept = get_case(database, SYSTEM, first)
    assert len(kept.report_ids) == 3
    assert sorted(e.value for e in kept.entities) == ["acme:u1", "pay-1"]


def test_bridge_in_the_same_batch_merges_and_moves_every_report(database: Database) -> None:
    acme = org(database)
    a = store(database, acme, report(reported_accounts=[account("acme", "u1")]))
    b = store(database, acme, report(payment_accounts=["pay-1"]))
    bridge = store(
        database,
        acme,
        report(reported_accounts=[account("acme", "u1")], payment_accounts=["pay-1"]),
    )
    later = store(database, acme, report(payment_accounts=["pay-1"]))
    linked = CaseEngine.for_settings(database).process([a, b, bridge, later])
    case_id = _case_of(database, a)
    assert {_case_of(database, r) for r in (a, b, bridge, later)} == {case_id}
    assert set(linked.values()) == {case_id}
    case = get_case(database, SYSTEM, case_id)
    assert case.status is CaseStatus.OPEN and len(case.report_ids) == 4
    with database.session() as s:
        statuses = list(s.scalars(select(CaseRow.status)))
    assert statuses == [CaseStatus.OPEN.value]  # the case b opened in the batch is never written


def test_case_opened_in_a_batch_joins_a_stored_case_it_meets_later(database: Database) -> None:
    acme = org(database)
    first = store(database, acme, report(reported_accounts=[account("acme", "u1")]))
    _link(database)
    fresh = store(database, acme, report(reported_accounts=[account("acme", "u5")]))
    bridge = store(
        database, acme, report(reported_accounts=[account("acme", "u5"), account("acme", "u1")])
    )
    _link(database)
    case_id = _case_of(database, first)
    assert _case_of(database, fresh) == _case_of(database, bridge) == case_id
    entities = {e.value for e in get_case(database, SYSTEM, case_id).entities}
    assert {"acme:u1", "acme:u5"} <= entities
    with database.session() as s:
        assert list(s.scalars(select(CaseRow.id))) == [case_id]


def test_cases_of_one_batch_are_each_triaged_on_their_own_reports(database: Database) -> None:
    acme = org(database)
    urgent = store(
        database, acme, report(source="panic_button", child_in_danger=True, live_stream=live("c"))
    )
    calm = store(database, acme, report(reported_accounts=[account("acme", "u9")]))
    CaseEngine.for_settings(database).process([urgent, calm])
    assert get_case(database, SYSTEM, _case_of(database, urgent)).priority == 1
    assert get_case(database, SYSTEM, _case_of(database, calm)).priority > 1


def _with_ip(account_id: str, ip: str) -> ReportIn:
    return report(reported_accounts=[account("acme", account_id, ip_events=[{"ip": ip}])])


def test_reports_sharing_a_public_ip_join_one_case(database: Database) -> None:
    acme = org(database)
    a = store(database, acme, _with_ip("u1", "203.0.113.7"))
    b = store(database, acme, _with_ip("u2", "203.0.113.7"))
    _link(database)
    assert _case_of(database, a) == _case_of(database, b)


def test_carrier_nat_and_private_ips_never_join_unrelated_reports(database: Database) -> None:
    acme = org(database)
    ids = [
        store(database, acme, _with_ip(f"u{i}", ip))
        for i, ip in enumerate(
            [
                "100.64.3.9",
                "100.64.3.9",
                "192.168.1.1",
                "192.168.1.1",
                "::ffff:10.0.0.1",
                "10.0.0.1",
            ]
        )
    ]
    _link(database)
    assert len({_case_of(database, r) for r in ids}) == len(ids)


def test_ip_seen_with_many_accounts_stops_joining_cases(database: Database) -> None:
    acme = org(database)
    shared = "198.51.100.20"
    ids = [
        store(database, acme, _with_ip(f"u{i}", shared))
        for i in range(MAX_ACCOUNTS_PER_LINKING_IP + 1)
    ]
    _link(database)
    assert len({_case_of(database, r) for r in ids}) == len(ids)
    case = get_case(database, SYSTEM, _case_of(database, ids[0]))
    assert ("ip", shared) in {(e.kind.value, e.value) for e in case.entities}


def test_linked_case_is_triaged_and_routed(database: Database) -> None:
    acme = org(database)
    rid = store(
        database,
        acme,
        report(
            source="panic_button",
            child_in_danger=True,
            live_stream=live("call-2"),
            location_hints=[{"country": "PH"}],
            platform={"name": "Acme", "country": "US"},
        ),
    )
    _link(database)
    case = get_case(database, SYSTEM, _case_of(database, rid))
    assert case.priority == 1
    assert "child_in_danger_panic" in [f.rule for f in case.fired]
    assert [a.code for a in case.routing] == ["NCMEC", "PNP-WCPC"]


def test_linking_twice_does_not_duplicate(database: Database) -> None:
    acme = org(database)
    rid = store(database, acme, report(reported_accounts=[account("acme", "u1")]))
    engine = CaseEngine.for_settings(database)
    assert engine.process([rid]) != {}
    assert engine.process([rid]) == {}
    assert len(get_case(database, SYSTEM, _case_of(database, rid)).report_ids) == 1


def test_case_claimed_by_another_agency_takes_new_reports_but_leaves_the_queue(
    database: Database,
) -> None:
    acme = org(database)
    a = store(database, acme, report(reported_accounts=[account("acme", "u1")]))
    _link(database)
    case_id = _case_of(database, a)
    mark_claimed_elsewhere(database, SYSTEM, case_id, claimed_by="NCA", reference="X-1")
    b = store(database, acme, report(reported_accounts=[account("acme", "u1")]))
    _link(database)
    assert _case_of(database, b) == case_id
    case = get_case(database, SYSTEM, case_id)
    assert case.deconfliction is not None and case.deconfliction.claimed_by == "NCA"
    assert all(
        c.id != case_id
        for q in ("review", "urgent", "deconfliction")
        for c in list_cases(database, SYSTEM, q)
    )


def test_payment_flag_on_an_account_with_reports_raises_the_case_priority(
    database: Database,
) -> None:
    from safestream.core.events import PaymentPatternFound
    from safestream.reports.intake import DetectorSink
    from safestream.store.base import utcnow

    rid = store(
        database,
        org(database),
        report(reported_accounts=[account("acme", "u1")], payment_accounts=["pay-7"]),
    )
    _link(database)
    before = get_case(database, SYSTEM, _case_of(database, rid))
    pattern = PaymentPatternFound(
        at=utcnow(),
        payment_account="pay-7",
        role="payee",
        score=5.0,
        flag_threshold=4.0,
        reasons="structuring",
        counterparties=(),
    )
    flagged = DetectorSink(database, detector="finance").emit(
        report(payment_accounts=["pay-7"], description="structuring"), [pattern]
    )
    after = get_case(database, SYSTEM, _case_of(database, rid))
    assert flagged.case_id == after.id == before.id
    assert after.priority < before.priority
    assert "payment_flag_on_reported_account" in [f.rule for f in after.fired]


def _failing_for(report_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make linking raise for one report, as a report the rules cannot handle would."""
    real = engine_module.report_effects

    def report_effects(claimed: Sequence[ClaimedReport], event_rules: EventRules) -> list[Effect]:
        if any(c.report_id == report_id for c in claimed):
            raise RuntimeError("this report cannot be linked")
        return real(claimed, event_rules)

    monkeypatch.setattr(engine_module, "report_effects", report_effects)


def test_a_report_that_fails_to_link_does_not_hold_up_the_reports_behind_it(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = org(database)
    bad = store(database, acme, report(reported_accounts=[account("acme", "u0")]))
    a = store(database, acme, report(reported_accounts=[account("acme", "u1", email="p@x.org")]))
    b = store(database, acme, report(reported_accounts=[account("acme", "u2", email="p@x.org")]))
    _failing_for(bad, monkeypatch)
    monkeypatch.setattr(engine_module, "BATCH", 1)  # the failing report fills a whole batch
    engine = CaseEngine.for_settings(database)
    assert engine.process_pending() == 2
    assert _case_of(database, a) == _case_of(database, b)
    assert ReportRepository(database).get(bad).case_id is None
    assert engine.held_back() == [bad]


def test_a_held_back_report_is_linked_once_its_retry_comes_and_the_fault_is_gone(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = org(database)
    bad = store(database, acme, report(reported_accounts=[account("acme", "u0")]))
    engine = CaseEngine.for_settings(database)
    engine.retry_failed_seconds = 0.0
    with monkeypatch.context() as patch:
        _failing_for(bad, patch)
        assert engine.process_pending() == 0
    assert engine.process_pending() == 1
    assert ReportRepository(database).get(bad).case_id is not None
    assert engine.held_back() == []


def test_a_report_that_failed_once_is_tried_again_within_seconds_not_minutes(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = org(database)
    bad = store(database, acme, report(reported_accounts=[account("acme", "u0")]))
    engine = CaseEngine.for_settings(database)
    with monkeypatch.context() as patch:
        _failing_for(bad, patch)
        assert engine.process_pending() == 0
    assert engine.held_back() == [bad]
    now = engine_module.time.monotonic()
    monkeypatch.setattr(engine_module.time, "monotonic", lambda: now + 2.5)
    assert engine.held_back() == []
    assert engine.process_pending() == 1


def test_the_linker_takes_a_panic_press_before_an_older_backlog(database: Database) -> None:
    acme = org(database)
    backlog = [
        store(database, acme, report(reported_accounts=[account("acme", f"u{i}")]))
        for i in range(3)
    ]
    press = store(database, acme, report(source="panic_button", live_stream=live("call-9")))
    assert ReportRepository(database).pending_ids(2) == [press, backlog[0]]


def test_pending_press_index_names_the_statuses_it_stands_for() -> None:
    received, press = ReportStatus.RECEIVED.value, ReportSource.PANIC_BUTTON.value
    assert PENDING_PRESS.text == f"status = '{received}' and source = '{press}'"
