"""Retroactive matching: a new bank entry finds content seen before it arrived, within retention."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from safestream.media.recent_seen import RecentlySeen

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _near(pdq: str, bits: int) -> str:
    value = int(pdq, 16) ^ ((1 << bits) - 1)
    return f"{value:064x}"


def test_a_new_entry_finds_past_content_within_the_threshold() -> None:
    seen = RecentlySeen(timedelta(days=30))
    target = secrets.token_hex(32)
    seen.observe("upload:17", [_near(target, 12)], at=T0)
    seen.observe("stream:call-4@31.5", [secrets.token_hex(32) for _ in range(200)], at=T0)
    (match,) = seen.match_new_entries([(901, target)])
    assert (match.entry_id, match.item, match.distance, match.seen_at) == (901, "upload:17", 12, T0)


def test_content_further_than_the_threshold_is_not_raised() -> None:
    seen = RecentlySeen(timedelta(days=30))
    target = secrets.token_hex(32)
    seen.observe("upload:18", [_near(target, 40)], at=T0)
    assert seen.match_new_entries([(1, target)]) == []


def test_hashes_older_than_the_retention_are_forgotten() -> None:
    seen = RecentlySeen(timedelta(days=7))
    old, recent = secrets.token_hex(32), secrets.token_hex(32)
    seen.observe("upload:old", [old], at=T0)
    seen.observe("upload:new", [recent], at=T0 + timedelta(days=6))
    assert seen.prune(now=T0 + timedelta(days=8)) == 1
    assert seen.match_new_entries([(1, old)]) == []
    assert [m.item for m in seen.match_new_entries([(2, recent)])] == ["upload:new"]


def test_a_retention_of_zero_is_refused() -> None:
    with pytest.raises(ValueError):
        RecentlySeen(timedelta(0))
