"""A report is validated at the edge and names its identifiers in canonical form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from safestream.core.entities import Entity, EntityKind
from safestream.core.errors import InvalidInput
from safestream.core.reports import IncidentType
from tests.reports.builders import PDQ_A, account, live, report


def test_entities_cover_accounts_emails_ips_devices_payments_streams_and_hashes() -> None:
    r = report(
        reported_accounts=[
            account(
                "acme",
                "u1",
                email="Someone@Example.ORG",
                ip_events=[{"ip": "2001:DB8::0:1", "event": "login"}],
                devices=["dev-1"],
            )
        ],
        payment_accounts=["pay-9"],
        live_stream=live(
            "s-1", payments=[{"amount": 5, "currency": "USD", "payment_account": "pay-2"}]
        ),
        media_hashes=[{"signal_type": "pdq", "value": PDQ_A.upper()}],
    )
    assert set(r.entities()) == {
        Entity(EntityKind.ACCOUNT, "acme:u1"),
        Entity(EntityKind.EMAIL, "someone@example.org"),
        Entity(EntityKind.IP, "2001:db8::1"),
        Entity(EntityKind.DEVICE, "dev-1"),
        Entity(EntityKind.PAYMENT_ACCOUNT, "pay-9"),
        Entity(EntityKind.PAYMENT_ACCOUNT, "pay-2"),
        Entity(EntityKind.STREAM, "s-1"),
        Entity(EntityKind.MEDIA_HASH, f"pdq:{PDQ_A}"),
    }


def test_every_bad_field_is_named_in_one_error() -> None:
    with pytest.raises(ValidationError) as info:
        report(
            reported_accounts=[account("acme", "u1", email="not-an-address")],
            location_hints=[{"country": "Philippines"}],
            media_hashes=[{"signal_type": "pdq", "value": "abc"}],
        )
    fields = {".".join(str(p) for p in e["loc"]) for e in info.value.errors()}
    assert fields == {"reported_accounts.0.email", "location_hints.0.country", "media_hashes.0"}


def test_unknown_fields_are_refused_rather_than_dropped() -> None:
    with pytest.raises(ValidationError):
        report(reported_acounts=[account("acme", "u1")])


def test_stream_without_end_is_live_now() -> None:
    assert report(live_stream=live("s")).live_now
    assert not report(live_stream=live("s", ended_at="2026-01-01T00:00:00Z")).live_now


def test_stream_ending_before_it_started_is_invalid() -> None:
    with pytest.raises(ValidationError, match="ended_at is before started_at"):
        report(
            live_stream=live(
                "s", started_at="2026-01-02T00:00:00Z", ended_at="2026-01-01T00:00:00Z"
            )
        )


def test_incident_types_carry_the_exact_ncmec_wording() -> None:
    assert (
        IncidentType.ONLINE_ENTICEMENT.ncmec_label
        == "Online Enticement of Children for Sexual Acts"
    )
    assert len(IncidentType) == 8


@pytest.mark.parametrize("value", ["dev\x00ice", "line\nbreak", "tab\there"])
def test_an_identifier_with_a_control_character_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput, match="control character"):
        Entity.of(EntityKind.DEVICE, value)
