"""CyberTipline reports: valid against NCMEC's XSD for anything intake accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree
from sqlalchemy import select

from safestream.core.banks import Classification, Match
from safestream.core.config import Settings
from safestream.core.reports import Report, ReportStatus
from safestream.demo import seed_console
from safestream.reports.cybertip import CybertipDraft, ReportingCompany, build_cybertips
from safestream.reports.cybertip_case import case_cybertips
from safestream.reports.cybertip_schema import schema_errors
from safestream.reports.ncmec_fields import ncmec_country, schema_countries
from safestream.store import Database
from safestream.store.models.cases import CaseRow
from tests.reports.builders import PDQ_A, account, live, report

COMPANY = ReportingCompany(company="Acme Video", contact_email="safety@acme.example")
NOW = datetime(2026, 5, 2, 12, 0, tzinfo=UTC)


def stored(body: dict[str, Any], report_id: str = "r-1") -> Report:
    return Report(
        id=report_id,
        org="Acme Video",
        received_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        status=ReportStatus.LINKED,
        body=report(**body),
    )


def drafts(*bodies: dict[str, Any]) -> list[CybertipDraft]:
    reports = [stored(b, f"r-{i}") for i, b in enumerate(bodies)]
    return build_cybertips(reports, COMPANY, now=NOW)


def only(*bodies: dict[str, Any]) -> etree._Element:
    (draft,) = drafts(*bodies)
    assert schema_errors(draft.xml) == []
    return etree.fromstring(draft.xml.encode())


def test_a_live_stream_report_validates_with_elements_in_schema_order() -> None:
    root = only(
        {
            "reported_accounts": [account("acme", "u1", email="u1@x.org", name="u one")],
            "live_stream": live("s-1", viewers=[{"account_id": "v1", "country": "AU"}]),
            "payment_accounts": ["pay-1"],
            "description": "seen in a private stream",
        }
    )
    assert [c.tag for c in root] == [
        "incidentSummary",
        "internetDetails",
        "reporter",
        "personOrUserReported",
        "intendedRecipient",
        "additionalInfo",
    ]


def test_incident_type_uses_ncmec_wording_and_time_is_utc() -> None:
    root = only({"incident_type": "online_enticement"})
    assert root.findtext("incidentSummary/incidentType") == (
        "Online Enticement of Children for Sexual Acts"
    )
    assert root.findtext("incidentSummary/incidentDateTime") == "2026-05-01T12:00:00Z"


def test_a_future_incident_time_is_clamped_to_just_before_now() -> None:
    root = only({"incident_at": (NOW + timedelta(days=400)).isoformat()})
    assert root.findtext("incidentSummary/incidentDateTime") == "2026-05-02T11:59:59Z"
    assert "in the future" in (root.findtext("additionalInfo") or "")


def test_live_abuse_now_is_escalated_and_an_ended_stream_is_not() -> None:
    now = only({"live_stream": live("s-1"), "child_in_danger": True})
    assert "child is in danger" in (now.findtext("incidentSummary/escalateToHighPriority") or "")
    ended = only({"live_stream": live("s-1", ended_at="2026-05-01T11:00:00Z")})
    assert ended.find("incidentSummary/escalateToHighPriority") is None


def test_uk_is_sent_as_gb_and_a_code_outside_the_schema_is_left_out_with_a_note() -> None:
    root = only(
        {
            "reported_accounts": [account("acme", "u1")],
            "location_hints": [{"country": "UK"}],
            "live_stream": live("s-1", viewers=[{"account_id": "v", "country": "ZZ"}]),
        }
    )
    assert root.findtext("personOrUserReported/estimatedLocation/countryCode") == "GB"
    assert root.find("intendedRecipient/estimatedLocation") is None
    assert "'ZZ' is not a country code" in (root.findtext("additionalInfo") or "")


def test_every_two_letter_code_intake_accepts_maps_to_a_schema_code_or_none() -> None:
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    codes = [a + b for a in letters for b in letters]
    mapped = {c: ncmec_country(c) for c in codes}
    assert all(v is None or v in schema_countries() for v in mapped.values())
    assert mapped["UK"] == "GB" and mapped["PH"] == "PH" and mapped["ZZ"] is None


def test_control_characters_are_removed_and_the_document_stays_valid() -> None:
    root = only(
        {
            "reported_accounts": [account("acme", "u1", name="bad\x00\x1b name\x85")],
            "description": "line one\x07\x0bline two\n\nnext",
        }
    )
    assert root.findtext("personOrUserReported/screenName") == "bad name"
    assert "line oneline two" in (root.findtext("additionalInfo") or "")


def test_additional_info_is_capped_at_three_thousand_characters_like_coop() -> None:
    root = only({"description": "x " * 10_000})
    info = root.findtext("additionalInfo") or ""
    assert len(info) <= 3000
    assert "[truncated]" in info and "cut from" in info


def test_each_reported_account_gets_its_own_report_with_only_its_own_billing() -> None:
    payments = [
        {"payer_account": f"u{i}", "payment_account": f"card-{i}", "amount": 5, "currency": "USD"}
        for i in range(100)
    ]
    made = drafts(
        {
            "reported_accounts": [account("acme", f"u{i}") for i in range(100)],
            "live_stream": live("s-1", payments=payments),
        }
    )
    assert len(made) == 100
    for i, draft in enumerate(made):
        assert schema_errors(draft.xml) == []
        root = etree.fromstring(draft.xml.encode())
        assert len(root.findall("personOrUserReported")) == 1
        assert root.findtext("personOrUserReported/espIdentifier") == f"u{i}"
        billing = root.findall("personOrUserReported/associatedAccount")
        assert [b.findtext("espIdentifier") for b in billing] == [f"card-{i}"]


def test_reports_naming_no_account_make_one_report_without_a_reported_person() -> None:
    made = drafts(
        {"reported_accounts": [account("acme", "u1")]},
        {"payment_accounts": ["wallet-1"], "incident_type": "child_sex_trafficking"},
    )
    subjects = [d.subject for d in made]
    assert subjects == ["acme:u1", None]
    orphan = etree.fromstring(made[1].xml.encode())
    assert orphan.find("personOrUserReported") is None
    assert orphan.findtext("incidentSummary/incidentType") == "Child Sex Trafficking"


def test_a_viewer_who_paid_is_an_intended_recipient_with_the_payment_described() -> None:
    stream = live(
        "s-1",
        viewers=[{"account_id": "v1"}],
        payments=[
            {"payer_account": "v1", "payment_account": "w-9", "amount": 25, "currency": "USD"}
        ],
    )
    root = only({"reported_accounts": [account("acme", "host")], "live_stream": stream})
    info = root.findtext("intendedRecipient/additionalInfo") or ""
    assert "25.00 USD from billing account w-9" in info


def test_every_demo_case_makes_valid_reports(settings: Settings) -> None:
    db = Database.from_settings(settings)
    db.migrate()
    clip = Match("known-demo", 1, PDQ_A, 3, Classification.A1)
    seed_console(settings, db, [("clip.mp4", clip)])
    with db.session() as s:
        case_ids = s.scalars(select(CaseRow.id).where(CaseRow.status == "open")).all()
    assert case_ids
    for case_id in case_ids:
        for draft in case_cybertips(db, case_id, COMPANY):
            assert schema_errors(draft.xml) == [], draft.xml
    db.dispose()


def test_a_document_out_of_schema_order_is_refused_by_the_validator() -> None:
    (draft,) = drafts({"description": "x"})
    root = etree.fromstring(draft.xml.encode())
    root.append(root[0])  # incidentSummary moved to the end
    assert schema_errors(etree.tostring(root)) != []
