"""Stream context events and the transparent risk score."""

from __future__ import annotations

import pytest

from safestream.core.errors import InvalidInput
from safestream.live.risk import RiskBook, StreamEvent
from safestream.live.sampling import SamplingMode, SamplingPolicy

LOW = SamplingPolicy(SamplingMode.KEYFRAMES)


def names(book: RiskBook, stream: str) -> list[str]:
    return [r.name for r in book.assess(stream).reasons]


def test_stream_with_nothing_known_keeps_its_baseline() -> None:
    book = RiskBook(LOW)
    assert book.assess("s").policy == LOW
    assert book.assess("s").score == 0


def test_private_new_account_with_paying_viewer_abroad_samples_at_two_fps() -> None:
    book = RiskBook(LOW)
    book.apply(StreamEvent("stream_started", "s", private=True, account_age_days=5, country="PH"))
    book.apply(StreamEvent("viewer_joined", "s", viewer_id="v", country="AU"))
    result = book.apply(StreamEvent("payment", "s", viewer_id="v", amount=50, currency="USD"))
    assert result.policy == SamplingPolicy(SamplingMode.FULL, 2.0)
    assert [r.name for r in result.reasons] == [
        "private_stream",
        "new_broadcaster_account",
        "viewer_abroad",
        "paying_viewer_abroad",
    ]
    assert result.score == 7


def test_public_stream_of_an_old_account_stays_low() -> None:
    book = RiskBook(LOW)
    book.apply(StreamEvent("stream_started", "s", private=False, account_age_days=900))
    assert book.assess("s").policy == LOW


def test_one_user_report_switches_to_full_sampling() -> None:
    book = RiskBook(LOW)
    result = book.apply(StreamEvent("user_report", "s", reporter="viewer9"))
    assert result.policy.mode is SamplingMode.FULL
    assert names(book, "s") == ["user_report"]


def test_rising_risk_keeps_a_baseline_that_decodes_every_reference_frame() -> None:
    book = RiskBook(SamplingPolicy(skip_to_keyframe=False))
    result = book.apply(StreamEvent("user_report", "s", reporter="viewer9"))
    assert not result.policy.skip_to_keyframe


def test_high_classifier_score_is_a_named_reason() -> None:
    book = RiskBook(LOW)
    result = book.apply(StreamEvent("classifier_score", "s", classifier="m", score=0.93))
    assert result.reasons[0].name == "classifier_flag"
    assert "0.93" in result.reasons[0].detail


def test_event_json_round_trips() -> None:
    event = StreamEvent("payment", "s", viewer_id="v", amount=3.5, currency="EUR")
    assert StreamEvent.from_json(event.to_json()) == event


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "nonsense", "stream_id": "s"}, "event type"),
        ({"type": "payment", "stream_id": ""}, "stream_id"),
        ({"type": "stream_started", "stream_id": "s", "country": "Philippines"}, "alpha-2"),
        ({"type": "classifier_score", "stream_id": "s", "score": 3}, "between 0 and 1"),
        ({"type": "payment", "stream_id": "s", "amount": "ten"}, "number"),
        ({"type": "payment", "stream_id": "s", "amount": 1, "colour": "red"}, "unknown"),
    ],
)
def test_bad_events_are_refused_with_a_message(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        StreamEvent.from_json(data)


def test_a_stream_can_have_its_own_low_risk_baseline() -> None:
    book = RiskBook(SamplingPolicy())
    book.set_baseline("cheap", LOW)
    assert book.assess("cheap").policy == LOW
    assert book.assess("other").policy == SamplingPolicy()
    assert book.apply(StreamEvent("user_report", "cheap")).policy.mode is SamplingMode.FULL
