"""CyberTipline export: XML in the schema's element order, with live-stream hooks filled."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from safestream.core.reports import Report, ReportStatus
from safestream.reports.cybertip import ReportingCompany, cybertip_xml
from tests.reports.builders import account, live, report

COMPANY = ReportingCompany(company="Acme Video", contact_email="safety@acme.example")


def _xml(**fields: object) -> ET.Element:
    stored = Report(
        id="r-1",
        org="Acme Video",
        received_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        status=ReportStatus.LINKED,
        body=report(**fields),
    )
    return ET.fromstring(cybertip_xml(stored, COMPANY))


def test_top_level_elements_follow_the_xsd_sequence() -> None:
    root = _xml(
        reported_accounts=[account("acme", "u1")],
        live_stream=live("s-1", viewers=[{"country": "AU"}]),
        description="seen in a private stream",
    )
    order = [child.tag for child in root]
    assert order == [
        "incidentSummary",
        "internetDetails",
        "reporter",
        "personOrUserReported",
        "intendedRecipient",
        "additionalInfo",
    ]


def test_incident_type_uses_ncmec_wording_and_time_is_utc() -> None:
    summary = _xml(incident_type="online_enticement").find("incidentSummary")
    assert summary is not None
    assert summary.findtext("incidentType") == "Online Enticement of Children for Sexual Acts"
    assert summary.findtext("incidentDateTime") == "2026-05-01T12:00:00Z"


def test_live_abuse_now_is_escalated() -> None:
    summary = _xml(live_stream=live("s-1"), child_in_danger=True).find("incidentSummary")
    assert summary is not None
    assert "child is in danger" in (summary.findtext("escalateToHighPriority") or "")


def test_ended_stream_without_danger_is_not_escalated() -> None:
    root = _xml(live_stream=live("s-1", ended_at="2026-05-01T11:00:00Z"))
    assert root.find("incidentSummary/escalateToHighPriority") is None


def test_payment_accounts_become_billing_associated_accounts() -> None:
    root = _xml(reported_accounts=[account("acme", "u1")], payment_accounts=["pay-1"])
    billing = root.find("personOrUserReported/associatedAccount")
    assert billing is not None and billing.get("type") == "Billing"
    assert billing.findtext("espIdentifier") == "pay-1"


def test_reported_user_children_follow_the_xsd_sequence() -> None:
    root = _xml(
        reported_accounts=[
            account("acme", "u1", email="u1@x.org", name="u one", ip_events=[{"ip": "192.0.2.1"}])
        ],
        location_hints=[{"country": "PH"}],
        payment_accounts=["pay-1"],
    )
    user = root.find("personOrUserReported")
    assert user is not None
    assert [c.tag for c in user] == [
        "personOrUserReportedPerson",
        "espIdentifier",
        "espService",
        "screenName",
        "ipCaptureEvent",
        "estimatedLocation",
        "associatedAccount",
    ]
