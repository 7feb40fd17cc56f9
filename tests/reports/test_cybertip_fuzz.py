"""Hostile reports that intake accepts still make CyberTipline documents the XSD accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from safestream.core.reports import Report, ReportIn, ReportStatus
from safestream.reports.cybertip import ReportingCompany, build_cybertips
from safestream.reports.cybertip_schema import schema_errors

COMPANY = ReportingCompany(company="Acme\x00 Video", contact_email="safety@acme.example")
NOW = datetime(2026, 5, 2, 12, 0, tzinfo=UTC)

# Every code point Python can hold in a str except lone surrogates (which JSON cannot carry).
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
LETTERS = st.text(st.characters(min_codepoint=65, max_codepoint=90), min_size=2, max_size=2)
TIMES = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
) | st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1))
IPS = st.ip_addresses().map(str)


def _account() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"platform": ANY_TEXT, "id": ANY_TEXT},
        optional={
            "name": ANY_TEXT,
            "ip_events": st.lists(
                st.fixed_dictionaries({"ip": IPS}, optional={"at": TIMES}), max_size=3
            ),
            "devices": st.lists(ANY_TEXT, max_size=3),
        },
    )


def _stream() -> st.SearchStrategy[dict[str, Any]]:
    viewer = st.fixed_dictionaries(
        {}, optional={"account_id": ANY_TEXT, "country": LETTERS, "ip": IPS}
    )
    payment = st.fixed_dictionaries(
        {
            "amount": st.floats(min_value=0, max_value=1e12),
            "currency": st.text(min_size=3, max_size=3),
        },
        optional={"payer_account": ANY_TEXT, "payment_account": ANY_TEXT},
    )
    return st.fixed_dictionaries(
        {"stream_id": ANY_TEXT},
        optional={
            "started_at": TIMES,
            "private": st.booleans(),
            "viewers": st.lists(viewer, max_size=4),
            "payments": st.lists(payment, max_size=4),
        },
    )


BODIES = st.fixed_dictionaries(
    {},
    optional={
        "reported_accounts": st.lists(_account(), max_size=3),
        "payment_accounts": st.lists(ANY_TEXT, max_size=3),
        "incident_at": TIMES,
        "description": st.text(st.characters(exclude_categories=["Cs"]), max_size=5000),
        "child_in_danger": st.booleans(),
        "live_stream": _stream(),
        "platform": st.fixed_dictionaries({"name": ANY_TEXT}, optional={"country": LETTERS}),
        "location_hints": st.lists(
            st.fixed_dictionaries({"country": LETTERS}, optional={"city": ANY_TEXT}), max_size=2
        ),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies=st.lists(BODIES, min_size=1, max_size=3), now_offset=st.integers(-10, 10))
def test_whatever_intake_accepts_validates_against_the_xsd(
    bodies: list[dict[str, Any]], now_offset: int
) -> None:
    reports = []
    for i, body in enumerate(bodies):
        try:
            accepted = ReportIn.model_validate(body)
        except ValidationError:
            continue
        reports.append(
            Report(
                id=f"r-{i}",
                org="o",
                received_at=NOW + timedelta(days=now_offset),
                status=ReportStatus.LINKED,
                body=accepted,
            )
        )
    assume(reports)
    for draft in build_cybertips(reports, COMPANY, now=NOW):
        assert schema_errors(draft.xml) == []
