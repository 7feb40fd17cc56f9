"""Provenance at intake: a client's asserted matches and detector names are stored as its claims."""

from __future__ import annotations

from safestream.cases.engine import CaseEngine
from safestream.cases.review import case_detail, get_case
from safestream.core.principal import Principal
from safestream.reports.intake import DetectorSink, IntakeService
from safestream.store.database import Database
from safestream.store.reports import ReportRepository
from tests.reports.builders import PDQ_B, account, banked_match, match, org, report, user

SYSTEM = Principal.system("test")


def _stored(db: Database, **fields: object) -> str:
    stored = IntakeService(db).receive(org(db), report(**fields))
    CaseEngine.for_settings(db).process_pending()
    return stored.report.id


def test_match_the_banks_do_not_hold_is_stored_unverified_and_raises_nothing(
    database: Database,
) -> None:
    rid = _stored(
        database,
        reported_accounts=[account("acme", "u1")],
        matches=[match(entry_id=4242, verified=True)],
    )
    stored = ReportRepository(database).get(rid)
    assert [m.verified for m in stored.body.matches] == [False]
    assert stored.case_id is not None
    case = get_case(database, SYSTEM, stored.case_id)
    assert "hash_match" not in {f.rule for f in case.fired}
    assert case.priority > 1
    reviewer = user(database, "r@h.org", "reviewer").principal
    assert [m.verified for m in case_detail(database, reviewer, case.id).matches] == [False]


def test_match_backed_by_a_bank_entry_is_verified(database: Database) -> None:
    backed = banked_match(database)
    rid = _stored(database, reported_accounts=[account("acme", "u2")], matches=[backed])
    assert [m.verified for m in ReportRepository(database).get(rid).body.matches] == [True]


def test_match_far_from_its_bank_entry_is_unverified(database: Database) -> None:
    backed = banked_match(database)
    far = {**backed, "value": PDQ_B}  # 128 bits from the entry, over the bank's threshold
    rid = _stored(database, reported_accounts=[account("acme", "u1")], matches=[far])
    assert [m.verified for m in ReportRepository(database).get(rid).body.matches] == [False]


def test_match_naming_another_bank_is_unverified(database: Database) -> None:
    backed = banked_match(database)
    rid = _stored(
        database,
        reported_accounts=[account("acme", "u1")],
        matches=[{**backed, "bank": "some-other-bank"}],
    )
    assert [m.verified for m in ReportRepository(database).get(rid).body.matches] == [False]


def test_detector_named_by_a_client_is_stored_as_its_claim_and_flags_nothing(
    database: Database,
) -> None:
    rid = _stored(
        database,
        source="detector",
        detector="finance",
        reported_accounts=[account("acme", "u1")],
        payment_accounts=["pay-1"],
    )
    stored = ReportRepository(database).get(rid)
    assert stored.body.detector == "claimed:finance"
    assert stored.case_id is not None
    fired = {f.rule for f in get_case(database, SYSTEM, stored.case_id).fired}
    assert not any("payment" in rule for rule in fired)


def test_safestreams_own_detector_findings_are_not_claims(database: Database) -> None:
    found = DetectorSink(database, detector="live").emit(
        report(reported_accounts=[account("acme", "u1")], matches=[match()]), []
    )
    assert found.body.detector == "live"
    assert [m.verified for m in found.body.matches] == [True]


def test_repeat_of_a_claimed_report_is_recognised_by_its_idempotency_key(
    database: Database,
) -> None:
    owner = org(database)
    body = report(reported_accounts=[account("acme", "u1")], matches=[match()], idempotency_key="k")
    first = IntakeService(database).receive(owner, body)
    again = IntakeService(database).receive(owner, body)
    assert again.report.id == first.report.id and not again.created


def test_location_hint_from_another_organisation_routes_as_its_claim(database: Database) -> None:
    """B names A's account with a Thai location hint: the routing says it is B's word."""
    owner = org(database, "Acme Video")
    other = org(database, "Other Platform")
    first = IntakeService(database).receive(
        owner, report(reported_accounts=[account("acme", "u1")])
    )
    IntakeService(database).receive(
        other,
        report(
            reported_accounts=[account("acme", "u1")],
            location_hints=[{"country": "TH", "source": "ip"}],
        ),
    )
    CaseEngine.for_settings(database).process_pending()
    case_id = ReportRepository(database).get(first.report.id).case_id
    assert case_id is not None
    reasons = [a.reason for a in get_case(database, SYSTEM, case_id).routing]
    assert reasons and all("claimed by Other Platform" in r for r in reasons if "TH" in r)
    assert any(r == "location hint claimed by Other Platform in TH" for r in reasons)


def test_stream_viewers_countries_are_the_senders_claim(database: Database) -> None:
    rid = _stored(
        database,
        reported_accounts=[account("acme", "u1")],
        live_stream={"stream_id": "s-1", "viewers": [{"account_id": "v1", "country": "PH"}]},
    )
    case_id = ReportRepository(database).get(rid).case_id
    assert case_id is not None
    reasons = [a.reason for a in get_case(database, SYSTEM, case_id).routing]
    assert "stream viewer claimed by Acme Video in PH" in reasons


def test_safestreams_own_location_hints_are_not_claims(database: Database) -> None:
    found = DetectorSink(database, detector="live").emit(
        report(
            reported_accounts=[account("acme", "u1")],
            location_hints=[{"country": "PH", "source": "ip"}],
        ),
        [],
    )
    CaseEngine.for_settings(database).process_pending()
    case_id = ReportRepository(database).get(found.id).case_id
    assert case_id is not None
    reasons = [a.reason for a in get_case(database, SYSTEM, case_id).routing]
    assert "location hint in PH" in reasons
