"""Events and effects are typed records: built by keyword, every field required and checked."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from safestream.core.banks import Classification
from safestream.core.effects import KeepLiveBuffer, PreserveEvidence
from safestream.core.entities import Entity, EntityKind
from safestream.core.errors import InvalidInput
from safestream.core.events import (
    EVENT_TYPES,
    CountryHint,
    Event,
    MatchFound,
    PanicPressed,
    PaymentPatternFound,
    RegionMatchFound,
    ReportReceived,
    StreamFlagged,
    decode_event,
    encode_event,
    submitted,
)
from safestream.core.records import decode, encode
from safestream.core.reports import ReportIn, ReportSource
from safestream.core.signals import SignalType

AT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _pattern(**changes: Any) -> PaymentPatternFound:
    fields: dict[str, Any] = {
        "at": AT,
        "payment_account": "wallet-1",
        "role": "payee",
        "score": 9.0,
        "flag_threshold": 4.0,
        "reasons": "many small transfers",
        "counterparties": ("payer-1", "payer-2"),
    }
    return PaymentPatternFound(**{**fields, **changes})


ONE_OF_EACH: list[Event] = [
    ReportReceived(
        at=AT,
        source=ReportSource.PLATFORM,
        entities=(
            Entity.of(EntityKind.ACCOUNT, "acme:u1"),
            Entity.of(EntityKind.IP, "2001:db8::1"),
        ),
        live_now=True,
        child_in_danger=False,
        private_stream=True,
        viewer_count=2,
        payment_count=1,
        platform_country="GB",
        countries=(CountryHint(country="PH", how="stream viewer claimed by Acme Video"),),
    ),
    MatchFound(
        at=AT,
        bank="known",
        entry_id=7,
        signal_type=SignalType.PDQ,
        entry_hash="f" * 64,
        distance=3,
        label=Classification.A1,
        verified=True,
        stream_id="call-1",
        t=2.0,
    ),
    StreamFlagged(at=AT, stream_id="call-1", reason="matched bank known", live_now=True),
    PanicPressed(at=AT, stream_id=None, child_in_danger=True),
    _pattern(),
]


def _region_match(**changes: Any) -> RegionMatchFound:
    fields: dict[str, Any] = {
        "at": AT,
        "bank": "rooms",
        "entry_id": 12,
        "bank_kind": "room",
        "label": Classification.UNCLASSIFIED,
        "verified": True,
        "stream_id": "call-1",
        "stage": "local",
        "region": (320, 180, 640, 360),
        "frame_size": (1280, 720),
        "coverage": 0.92,
        "inliers": 41,
        "media_sha256": None,
        "t": 12.5,
    }
    return RegionMatchFound(**{**fields, **changes})


ONE_OF_EACH.insert(2, _region_match())


def test_every_event_type_has_an_example_here() -> None:
    assert {type(e).__name__ for e in ONE_OF_EACH} == set(EVENT_TYPES)


def test_a_missing_field_fails_at_construction() -> None:
    with pytest.raises(TypeError, match="reason"):
        StreamFlagged(at=AT, stream_id="call-1", live_now=True)  # type: ignore[call-arg]


def test_fields_cannot_be_given_by_position() -> None:
    with pytest.raises(TypeError):
        PanicPressed(AT, "call-1", True)  # type: ignore[misc]


def test_a_value_given_to_the_wrong_field_fails_at_construction() -> None:
    # The account and the score swapped: the first field checked names the misfit.
    with pytest.raises(TypeError, match="payment_account must be str"):
        _pattern(score="wallet-1", payment_account=9.0)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(TypeError, match="timezone-aware"):
        PanicPressed(at=datetime(2026, 12, 4), stream_id=None, child_in_danger=False)


def test_a_bool_is_not_taken_for_a_number() -> None:
    with pytest.raises(TypeError, match="distance"):
        dataclasses.replace(ONE_OF_EACH[1], distance=True)  # type: ignore[type-var]


def test_no_field_of_any_event_or_effect_has_a_default() -> None:
    for cls in [*EVENT_TYPES.values(), PreserveEvidence, KeepLiveBuffer]:
        for f in dataclasses.fields(cls):
            assert f.default is dataclasses.MISSING, (cls.__name__, f.name)
            assert f.default_factory is dataclasses.MISSING, (cls.__name__, f.name)


def test_events_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ONE_OF_EACH[3].stream_id = "other"  # type: ignore[misc]


def test_payment_pattern_keeps_its_score_and_says_how_far_above_the_threshold() -> None:
    assert _pattern(score=10.0, flag_threshold=4.0).strength == 2.5
    with pytest.raises(ValueError, match="finite"):
        _pattern(score=float("nan"))
    with pytest.raises(ValueError, match="above 0"):
        _pattern(flag_threshold=0.0)


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: type(e).__name__)
def test_each_event_survives_the_store_round_trip(event: Any) -> None:
    kind, version, payload = encode_event(event)
    assert (kind, version) == (type(event).__name__, type(event).VERSION)
    assert decode_event(kind, version, payload) == event


def test_an_unknown_kind_or_version_is_refused_by_name() -> None:
    kind, version, payload = encode_event(ONE_OF_EACH[3])
    with pytest.raises(InvalidInput, match="unknown event kind"):
        decode_event("PanicPresed", version, payload)
    with pytest.raises(InvalidInput, match="version 2"):
        decode_event(kind, 2, payload)
    with pytest.raises(InvalidInput, match="does not fit"):
        decode_event(kind, version, {**payload, "child_in_danger": "yes"})


def test_a_match_stored_before_it_had_a_time_still_decodes_with_the_time_unknown() -> None:
    kind, _, payload = encode_event(ONE_OF_EACH[1])
    del payload["t"]
    event = decode_event(kind, 1, payload)
    assert isinstance(event, MatchFound) and event.t is None
    assert dataclasses.replace(event, t=2.0) == ONE_OF_EACH[1]


def test_a_report_received_before_it_carried_facts_still_decodes_standing_for_none() -> None:
    kind, _, payload = encode_event(ONE_OF_EACH[0])
    for name in ("private_stream", "viewer_count", "payment_count", "platform_country"):
        del payload[name]
    del payload["countries"]
    event = decode_event(kind, 1, payload)
    assert isinstance(event, ReportReceived)
    assert (event.viewer_count, event.platform_country, event.countries) == (0, None, ())


def test_report_received_carries_the_stream_and_place_facts_as_the_senders_claim() -> None:
    body = ReportIn.model_validate(
        {
            "source": "platform",
            "platform": {"name": "Acme Video", "country": "GB"},
            "location_hints": [{"country": "TH"}],
            "live_stream": {
                "stream_id": "call-9",
                "private": True,
                "viewers": [{"account_id": "v1", "country": "PH"}, {"account_id": "v2"}],
            },
        }
    )
    (event,) = submitted(body, AT, claimed_by="Acme Video")
    assert isinstance(event, ReportReceived)
    assert (event.private_stream, event.viewer_count, event.platform_country) == (True, 2, "GB")
    assert event.countries == (
        CountryHint(country="TH", how="location hint claimed by Acme Video"),
        CountryHint(country="PH", how="stream viewer claimed by Acme Video"),
    )


def test_an_effect_survives_the_outbox_round_trip() -> None:
    effect = KeepLiveBuffer(
        rule="keep_buffer_on_panic",
        report_id="r-1",
        stream_id="call-1",
        requested_by="panic_button:org:1",
        reason="panic_report",
    )
    assert decode(KeepLiveBuffer, encode(effect)) == effect


def test_a_submitted_panic_report_stands_for_a_press_and_its_matches() -> None:
    body = ReportIn.model_validate(
        {
            "source": "panic_button",
            "live_stream": {"stream_id": "call-9"},
            "child_in_danger": True,
            "matches": [
                {"bank": "b", "entry_id": 1, "signal_type": "pdq", "value": "0" * 64, "distance": 2}
            ],
        }
    )
    kinds = [type(e).__name__ for e in submitted(body, AT)]
    assert kinds == ["ReportReceived", "PanicPressed", "MatchFound"]


def test_a_region_match_keeps_where_it_was_seen_and_how_much() -> None:
    event = _region_match()
    assert (event.region, event.frame_size, event.coverage) == (
        (320, 180, 640, 360),
        (1280, 720),
        0.92,
    )


def test_a_region_outside_its_frame_is_refused() -> None:
    with pytest.raises(ValueError, match="not inside the frame"):
        _region_match(region=(1000, 500, 640, 360))
    with pytest.raises(ValueError, match="frame_size must be positive"):
        _region_match(frame_size=(0, 720))


def test_a_region_match_coverage_is_a_share() -> None:
    with pytest.raises(ValueError, match=r"coverage must be 0\.\.1"):
        _region_match(coverage=1.5)
