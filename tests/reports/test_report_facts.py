"""A report's fact columns (what triage and routing aggregate) are its ReportReceived's facts."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from safestream.core.errors import InvalidInput
from safestream.core.events import ReportReceived, decode_event
from safestream.store.database import Database
from safestream.store.models.reports import EventRow, ReportRow
from safestream.store.reports import NewReport, fact_columns
from tests.reports.builders import live, org, report, store


def test_stored_fact_columns_are_the_projection_of_the_stored_report_received(
    database: Database,
) -> None:
    acme = org(database)
    body = report(
        platform={"name": "Acme Video", "country": "GB"},
        location_hints=[{"country": "TH"}],
        live_stream=live("call-1", private=True, viewers=[{"account_id": "v", "country": "PH"}]),
    )
    report_id = store(database, acme, body)
    with database.session() as s:
        row = s.get(ReportRow, report_id)
        assert row is not None
        (kind, version, payload), *_ = s.execute(
            select(EventRow.kind, EventRow.version, EventRow.payload)
            .where(EventRow.report_id == report_id)
            .order_by(EventRow.id)
        ).all()
        event = decode_event(kind, version, json.loads(payload))
        assert isinstance(event, ReportReceived)
        stored = {name: getattr(row, name) for name in fact_columns([event])}
    assert stored == fact_columns([event])
    assert json.loads(stored["countries"]) == [
        ["TH", "location hint claimed by Acme Video"],
        ["PH", "stream viewer claimed by Acme Video"],
    ]
    assert (stored["viewer_count"], stored["private_stream"], stored["platform_country"]) == (
        1,
        True,
        "GB",
    )


def test_a_report_without_its_report_received_is_refused_before_the_store() -> None:
    with pytest.raises(InvalidInput, match="ReportReceived"):
        NewReport(1, "Acme Video", report(), None, events=())
