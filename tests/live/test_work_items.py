"""Work items and subject names of the JetStream distribution (no server needed)."""

from __future__ import annotations

import pytest

from safestream.core.errors import InvalidInput
from safestream.live.distribution import LiveSubjects, WorkItem, stream_token
from safestream.live.sampling import SamplingMode
from safestream.live.sources import SourceOptions


def test_work_item_round_trips_through_its_payload() -> None:
    item = WorkItem("room 7/a.b", "rtmp://origin/live/x", "keyframes", True)
    assert WorkItem.from_bytes(item.to_bytes()) == item


@pytest.mark.parametrize(
    "payload", [b"not json", b'{"url": "x"}', b'{"stream_id": "s", "url": "u", "baseline": "x"}']
)
def test_malformed_work_item_is_refused(payload: bytes) -> None:
    with pytest.raises(InvalidInput):
        WorkItem.from_bytes(payload)


def test_keyframes_item_gets_the_cheap_baseline_and_full_uses_the_workers_own() -> None:
    cheap = WorkItem("s", "rtmp://h/a/b", "keyframes").spec(SourceOptions())
    full = WorkItem("s", "rtmp://h/a/b", "full", realtime=True).spec(SourceOptions())
    assert cheap.baseline is not None and cheap.baseline.mode is SamplingMode.KEYFRAMES
    assert full.baseline is None
    assert full.source.realtime


def test_event_subjects_are_safe_for_any_stream_id() -> None:
    subjects = LiveSubjects("prod")
    subject = subjects.events("user 42 > stream.*")
    assert subject == f"prod.live.events.{stream_token('user 42 > stream.*')}"
    assert " " not in subject and ">" not in subject and "*" not in subject.split(".")[-1]


def test_prefix_with_subject_wildcards_is_refused() -> None:
    with pytest.raises(InvalidInput):
        LiveSubjects("a.b")
