"""Retroactive matching from the command line: bank updates search recently seen content.

`bank import` and `exchange pull` hand their new entries to a `RetroMatcher` (`media.retro`)
when the operator keeps recently seen hashes (`recent_seen_days` above 0); each match is filed
as a detector report ("retro") linked into the cases that hold the seen content.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from safestream.cli import context

if TYPE_CHECKING:
    from safestream.core.banks import BankEntry
    from safestream.media.retro import RetroMatcher
    from safestream.store.database import Database


def retro_matcher(db: Database) -> RetroMatcher | None:
    """A matcher over this installation's seen hashes, or None when none are kept."""
    from safestream.media.retro import RetroMatcher
    from safestream.reports.intake import DetectorSink

    settings = context.settings()
    if not settings.recent_seen_days:
        return None
    sink = DetectorSink(db, detector="retro", settings=settings)
    return RetroMatcher(db, timedelta(days=settings.recent_seen_days), sink)


def entries_of(db: Database, ids: Sequence[int]) -> list[BankEntry]:
    """The positive bank entries with these ids (negative banks never raise a match)."""
    from safestream.store.banks import BankRepository

    found = BankRepository(db).entries_by_id(list(set(ids)))
    return [entry for entry, bank in found.values() if not bank.negative]
