"""Reviewers read a case, add notes and record decisions; each change is audited."""

from __future__ import annotations

import pytest

from safestream.cases.engine import CaseEngine
from safestream.cases.review import add_note, case_detail, get_case, record_decision
from safestream.core.cases import CaseStatus, Decision, Priority
from safestream.core.errors import Conflict, InvalidInput
from safestream.core.principal import Principal
from safestream.store import audit
from safestream.store.database import Database
from tests.reports.builders import account, banked_match, org, report, store, user

SYSTEM = Principal.system("test")


def _case(db: Database) -> int:
    rid = store(
        db, org(db), report(reported_accounts=[account("acme", "u1")], matches=[banked_match(db)])
    )
    CaseEngine.for_settings(db).process_pending()
    case = get_case(db, SYSTEM, 1)
    assert rid in case.report_ids
    return case.id


def test_case_detail_holds_reports_entities_matches_and_graph_links(database: Database) -> None:
    case_id = _case(database)
    detail = case_detail(database, user(database, "r@h.org", "reviewer").principal, case_id)
    assert len(detail.reports) == 1
    assert [str(e) for e in detail.entities] == ["account:acme:u1"]
    assert detail.matches[0].label == "A1"
    assert [(rid, str(e)) for rid, e in detail.links] == [(detail.reports[0].id, "account:acme:u1")]


def test_note_is_kept_and_audited(database: Database) -> None:
    case_id = _case(database)
    reviewer = user(database, "r@h.org", "reviewer")
    note = add_note(database, reviewer.principal, case_id, "  profile still live  ")
    assert note.body == "profile still live"
    assert case_detail(database, reviewer.principal, case_id).notes == (note,)
    assert "case.note" in [
        e.action for e in audit.entries(database, SYSTEM, subject=f"case:{case_id}")
    ]


def test_dismiss_closes_the_case(database: Database) -> None:
    case_id = _case(database)
    record_decision(
        database,
        user(database, "r@h.org", "reviewer").principal,
        case_id,
        "dismiss",
        reason="benign",
    )
    assert get_case(database, SYSTEM, case_id).status is CaseStatus.CLOSED


def test_escalate_makes_the_case_urgent_and_needs_a_reason(database: Database) -> None:
    case_id = _case(database)
    reviewer = user(database, "r@h.org", "reviewer")
    with pytest.raises(InvalidInput, match="reason"):
        record_decision(database, reviewer.principal, case_id, Decision.ESCALATE)
    record_decision(
        database, reviewer.principal, case_id, Decision.ESCALATE, reason="child visible"
    )
    case = get_case(database, SYSTEM, case_id)
    assert case.priority is Priority.URGENT and case.queue == "urgent"
    assert case.status is CaseStatus.OPEN


def test_refer_needs_an_agency_and_records_it(database: Database) -> None:
    case_id = _case(database)
    reviewer = user(database, "r@h.org", "reviewer")
    with pytest.raises(InvalidInput, match="agency"):
        record_decision(database, reviewer.principal, case_id, "refer")
    rec = record_decision(database, reviewer.principal, case_id, "refer", agency="PNP-WCPC")
    assert rec.agency == "PNP-WCPC"
    assert (
        case_detail(database, reviewer.principal, case_id).decisions[0].decision is Decision.REFER
    )


def test_decision_on_closed_case_is_refused(database: Database) -> None:
    case_id = _case(database)
    reviewer = user(database, "r@h.org", "reviewer")
    record_decision(database, reviewer.principal, case_id, "confirm")
    with pytest.raises(Conflict):
        record_decision(database, reviewer.principal, case_id, "dismiss")
