"""Full-text search over reports, the same on PostgreSQL and SQLite, inside the viewer's scope.

A report's words are indexed when the linker files it into a case (`index_reports`, in the
linking transaction), not at intake: intake stays as fast as it was, and search, which answers
cases, loses nothing, since a report joins a case only then. While the linker works a backlog it
queues the batch's reports instead (`queue_reports`) and indexes the queue once it has caught up
(`index_queued`): a burst's reports are searchable a little after their cases form, and linking,
which forms them, drains the backlog sooner. Only the body's string values are
indexed (description, names, account ids, emails, stream ids), never the JSON field names.

Every word the reviewer types must appear; no stemming, case and accents ignored. PostgreSQL
answers from `report_text.words` (tsvector, GIN index; `plainto_tsquery` parses the words with
the same parser as the index); SQLite from the FTS5 table `report_text`, each word as a quoted
phrase so nothing the reviewer types is read as FTS5 syntax. Both come from migration 0046.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, String, delete, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from safestream.core.principal import Principal
from safestream.store.bulk import array_literal, one_of, postgres
from safestream.store.models.reports import ReportRow, ReportTextQueueRow
from safestream.store.scope import reports_visible

# Built by migration 0046 for one dialect each and not in the models (SQLAlchemy has no portable
# form of them): schema comparisons leave these names out.
SEARCH_SCHEMA_NAMES = frozenset({"report_text", "ix_report_text_words"})
MAX_WORDS = 16  # each word is one more index probe; more narrows nothing in practice
_WORD = re.compile(r"\S+")
_HAS_LETTER_OR_DIGIT = re.compile(r"\w")

_POSTGRES_INDEX = text(
    "insert into report_text (report_id, words)"
    " select id, json_to_tsvector('simple', cast(body as json), '[\"string\"]') from reports"
    " where id = any(cast(:ids as varchar[])) on conflict (report_id) do nothing"
)
_SQLITE_INDEX = (
    "insert into report_text (report_id, text) select id,"
    " (select group_concat(value, ' ') from json_tree(reports.body) where type = 'text')"
    " from reports where id in ({marks})"
)
_POSTGRES_MATCH = (
    "select report_id from report_text where words @@ plainto_tsquery('simple', :words)"
)
_SQLITE_MATCH = "select report_id from report_text where report_text match :words"
_POSTGRES_QUEUE = text(
    "insert into report_text_queue (report_id) select unnest(cast(:ids as varchar[]))"
    " on conflict (report_id) do nothing"
)


def index_reports(s: Session, report_ids: Sequence[str]) -> None:
    """Index the words of reports being linked, in the caller's transaction."""
    if not report_ids:
        return
    if postgres(s):
        s.execute(_POSTGRES_INDEX, {"ids": array_literal(list(report_ids))})
        return
    for start in range(0, len(report_ids), 500):
        chunk = list(report_ids[start : start + 500])
        marks = ", ".join(f":r{i}" for i in range(len(chunk)))
        s.execute(
            text(_SQLITE_INDEX.format(marks=marks)), {f"r{i}": rid for i, rid in enumerate(chunk)}
        )


def queue_reports(s: Session, report_ids: Sequence[str]) -> None:
    """Queue linked reports for `index_queued`, in the caller's transaction."""
    if not report_ids:
        return
    if postgres(s):
        s.execute(_POSTGRES_QUEUE, {"ids": array_literal(list(report_ids))})
        return
    s.execute(
        sqlite_insert(ReportTextQueueRow).on_conflict_do_nothing(),
        [{"report_id": rid} for rid in report_ids],
    )


def index_queued(s: Session, limit: int) -> int:
    """Index the words of up to `limit` queued reports and take them off the queue, in the
    caller's transaction; returns how many were taken (0: the queue is empty). On SQLite the
    caller opens a write transaction first (`Database.session(write_first=True)`), so two
    indexers never take the same reports."""
    taken = select(ReportTextQueueRow.report_id).order_by(ReportTextQueueRow.report_id)
    if postgres(s):
        taken = taken.with_for_update(skip_locked=True)
    ids = list(s.scalars(taken.limit(limit)))
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        index_reports(s, chunk)
        s.execute(delete(ReportTextQueueRow).where(one_of(s, ReportTextQueueRow.report_id, chunk)))
    return len(ids)


def search_words(query: str) -> list[str]:
    """The words of a search that can match something (punctuation alone cannot)."""
    words = [w for w in _WORD.findall(query) if _HAS_LETTER_OR_DIGIT.search(w)]
    return words[:MAX_WORDS]


def _fts5_query(words: list[str]) -> str:
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in words)


def report_text_match(dialect: str, words: list[str]) -> ColumnElement[bool]:
    """A WHERE clause on `ReportRow`: reports whose text holds every word."""
    if dialect == "postgresql":
        matching = text(_POSTGRES_MATCH).bindparams(words=" ".join(words))
    else:
        matching = text(_SQLITE_MATCH).bindparams(words=_fts5_query(words))
    return ReportRow.id.in_(matching.columns(report_id=String()))


def cases_with_text(dialect: str, principal: Principal, query: str) -> Select[Any] | None:
    """Case ids of the reports the principal may see whose text holds every word of `query`;
    None when the query has no searchable word."""
    words = search_words(query)
    if not words:
        return None
    return select(ReportRow.case_id).where(
        report_text_match(dialect, words),
        reports_visible(principal),
        ReportRow.case_id.is_not(None),
    )
