"""Set-based statements of linking: a whole batch of reports costs a handful of statements.

The case engine plans a batch in memory (which reports join which case, which cases merge) and
writes it with these functions inside its transaction: one query for the open cases holding the
batch's identifiers, one for the IPs shared by many accounts, one bulk merge however many cases
merge, one insert of the new cases, one of their identifiers, one assignment of reports to cases.
Updates of many rows by key go out as one statement on PostgreSQL (`unnest` of two arrays) and as
one executemany elsewhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Table,
    and_,
    case,
    delete,
    distinct,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, aliased

from safestream.core.cases import CaseStatus
from safestream.core.entities import EntityKind
from safestream.store.bulk import array_literal, insert_rows, new_ids, one_of
from safestream.store.models.cases import (
    CaseDecisionRow,
    CaseEntityRow,
    CaseMatchRow,
    CaseNoteRow,
    CaseRow,
)
from safestream.store.models.reports import EvidenceHoldRow, ReportEntityRow, ReportRow

Key = tuple[str, str]  # (entity kind, value)
CHUNK = 1000
# Rows that name a case and move with it when it is merged into another.
MOVED_ON_MERGE: tuple[Any, ...] = (
    CaseMatchRow,
    CaseNoteRow,
    CaseDecisionRow,
    ReportRow,
    EvidenceHoldRow,
)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def begin_linking(s: Session, lock_key: int, *, wait: bool = True) -> bool:
    """Start a linking transaction: one linker at a time, and plans made for this batch's data.

    On PostgreSQL a transaction-scoped advisory lock lets one linker run at a time across server
    workers, which keeps one open case per subject. psycopg prepares statements that run often,
    and PostgreSQL may then switch to a generic plan; one made while `case_entities` was empty
    (a new store, the first batches) joins by scanning the whole table, and it is kept until
    autoanalyze happens to run, so the linker fell ever further behind intake on a growing store.
    Custom plans cost a planning step per statement, which is small beside a batch.

    With `wait=False` the lock is only tried: False means another linker holds it (and will
    take these reports on its next round). SQLite has one writer anyway and always waits."""
    if s.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        s.execute(text("select pg_advisory_xact_lock(:k)"), {"k": lock_key})
    elif not s.execute(text("select pg_try_advisory_xact_lock(:k)"), {"k": lock_key}).scalar():
        return False
    s.execute(text("set local plan_cache_mode = force_custom_plan"))
    return True


def open_case_holders(s: Session, keys: Iterable[Key]) -> dict[Key, set[int]]:
    """The open cases holding each of these identifiers (identifiers nobody holds left out)."""
    wanted = set(keys)
    if s.get_bind().dialect.name == "postgresql":
        return _open_case_holders_postgres(s, wanted)
    kinds = sorted({k for k, _ in wanted})
    values = sorted({v for _, v in wanted})
    found: dict[Key, set[int]] = defaultdict(set)
    for chunk in _chunks(values):
        rows = s.execute(
            select(CaseEntityRow.case_id, CaseEntityRow.kind, CaseEntityRow.value)
            .join(CaseRow, CaseRow.id == CaseEntityRow.case_id)
            .where(
                CaseRow.status == CaseStatus.OPEN.value,
                CaseEntityRow.kind.in_(kinds),
                CaseEntityRow.value.in_(chunk),
            )
        )
        for case_id, kind, value in rows:
            if (kind, value) in wanted:
                found[(kind, value)].add(case_id)
    return dict(found)


# Driven by the batch's identifiers: one index probe per (kind, value), whatever the store holds.
_HOLDERS_POSTGRES = text(
    """
    select e.case_id, e.kind, e.value
    from unnest(cast(:kinds as text[]), cast(:values as text[])) as k(kind, value)
    join case_entities e on e.kind = k.kind and e.value = k.value
    join cases c on c.id = e.case_id
    where c.status = :open
    """
)


def _open_case_holders_postgres(s: Session, wanted: set[Key]) -> dict[Key, set[int]]:
    found: dict[Key, set[int]] = defaultdict(set)
    pairs = sorted(wanted)
    for chunk in _chunks(pairs, 5000):
        params = {
            "kinds": [k for k, _ in chunk],
            "values": [v for _, v in chunk],
            "open": CaseStatus.OPEN.value,
        }
        for case_id, kind, value in s.execute(_HOLDERS_POSTGRES, params):
            found[(kind, value)].add(case_id)
    return dict(found)


def ips_with_many_accounts(
    s: Session, ips: Sequence[str], most: int, crowded: Iterable[str] = ()
) -> set[str]:
    """Of these IPs, those that stored reports name together with more than `most` distinct
    accounts. `crowded` are IPs the caller saw named with many accounts in one report.

    A crowded IP has more than `most` accounts in its one report already, so it is in the answer
    without counting; of the others, only an IP named by more than one report can reach `most`,
    so accounts are counted for those few. (Counting a crowded report's IPs joined each of them
    with every account of that report: 10,000 IPs and 10,000 accounts held SQLite's write lock
    for 25 s.)"""
    ip, account = aliased(ReportEntityRow), aliased(ReportEntityRow)
    found: set[str] = set(crowded) & set(ips)
    for chunk in _chunks(sorted(set(ips) - found)):
        repeated = s.scalars(
            select(ip.value)
            .where(ip.kind == EntityKind.IP.value, ip.value.in_(chunk))
            .group_by(ip.value)
            .having(func.count() > 1)
        ).all()
        candidates = sorted(repeated)
        if not candidates:
            continue
        rows = s.execute(
            select(ip.value, func.count(distinct(account.value)))
            .join(
                account,
                and_(account.report_id == ip.report_id, account.kind == EntityKind.ACCOUNT.value),
            )
            .where(ip.kind == EntityKind.IP.value, ip.value.in_(candidates))
            .group_by(ip.value)
        )
        found.update(v for v, n in rows if n > most)
    return found


def merge_cases(s: Session, into: Mapping[int, int]) -> None:
    """Merge each stored case into another (`into`: merged case -> the case that keeps it), all
    in a few statements: identifiers move unless the keeping case (or an earlier row of the same
    merge) holds them already; matches, notes, decisions, reports and evidence holds move; the
    merged cases are marked merged and released from any reviewer's claim."""
    if not into:
        return
    merged = sorted(into)
    keeping = sorted(set(into.values()))
    rows: list[tuple[int, int, str, str]] = []
    for chunk in _chunks(merged):
        rows += s.execute(
            select(CaseEntityRow.id, CaseEntityRow.case_id, CaseEntityRow.kind, CaseEntityRow.value)
            .where(one_of(s, CaseEntityRow.case_id, chunk))
            .order_by(CaseEntityRow.id)
        ).all()
    held: set[tuple[int, str, str]] = set()
    values = sorted({value for _, _, _, value in rows})
    for chunk in _chunks(values):
        for case_id, kind, value in s.execute(
            select(CaseEntityRow.case_id, CaseEntityRow.kind, CaseEntityRow.value).where(
                one_of(s, CaseEntityRow.case_id, keeping), one_of(s, CaseEntityRow.value, chunk)
            )
        ):
            held.add((case_id, kind, value))
    duplicates = []
    for row_id, case_id, kind, value in rows:
        target = (into[case_id], kind, value)
        if target in held:
            duplicates.append(row_id)
        else:
            held.add(target)
    for chunk in _chunks(duplicates):
        s.execute(delete(CaseEntityRow).where(one_of(s, CaseEntityRow.id, chunk)))
    if s.get_bind().dialect.name == "postgresql":
        _merge_postgres(s, into)
        return
    for model in (CaseEntityRow, *MOVED_ON_MERGE):
        s.execute(
            update(model)
            .where(one_of(s, model.case_id, merged))
            .values(case_id=case(dict(into), value=model.case_id))
            .execution_options(synchronize_session=False)
        )
    s.execute(
        update(CaseRow)
        .where(CaseRow.id.in_(merged))
        .values(
            status=CaseStatus.MERGED.value,
            claimed_by_user=None,
            merged_into=case(dict(into), value=CaseRow.id),
        )
        .execution_options(synchronize_session=False)
    )


def _merge_postgres(s: Session, into: Mapping[int, int]) -> None:
    # A join with the (merged, keeping) pairs: a CASE with a branch per merged case is compiled
    # anew for each batch and tried branch by branch for every row it updates.
    pairs = {
        "merged": array_literal(list(into)),
        "keeping": array_literal(list(into.values())),
    }
    moves = "unnest(cast(:merged as integer[]), cast(:keeping as integer[])) as m(merged, keeping)"
    for model in (CaseEntityRow, *MOVED_ON_MERGE):
        table = model.__tablename__
        s.execute(
            text(
                f"update {table} set case_id = m.keeping from {moves} "
                f"where {table}.case_id = m.merged"
            ),
            pairs,
        )
    s.execute(
        text(
            f"update cases set status = :merged_status, claimed_by_user = null, "
            f"merged_into = m.keeping from {moves} where cases.id = m.merged"
        ),
        {**pairs, "merged_status": CaseStatus.MERGED.value},
    )


def insert_cases(s: Session, rows: Sequence[dict[str, object]]) -> list[int]:
    """Insert new cases in one statement; their ids, in the order of `rows`."""
    if not rows:
        return []
    table: Table = CaseRow.__table__  # type: ignore[assignment]
    ids = new_ids(s, table, len(rows))
    if ids is None:
        return list(
            s.scalars(
                insert(CaseRow).returning(CaseRow.id, sort_by_parameter_order=True), list(rows)
            ).all()
        )
    defaults = {"status": CaseStatus.OPEN.value, "priority": 3, "score": 0, "queue": "review"}
    full = [
        {"id": i, **defaults, "fired": "[]", "routing": "[]", **r}
        for i, r in zip(ids, rows, strict=True)
    ]
    insert_rows(s, table, full)
    return ids


def insert_case_entities(s: Session, rows: Sequence[dict[str, object]]) -> None:
    """Insert identifiers of cases (`case_id`, `kind`, `value`, `first_report_id`) in bulk."""
    insert_rows(s, CaseEntityRow.__table__, rows)  # type: ignore[arg-type]


def touch_cases(s: Session, case_ids: Sequence[int], at: datetime) -> None:
    """Mark cases as changed at `at`."""
    if case_ids:
        s.execute(
            update(CaseRow)
            .where(one_of(s, CaseRow.id, sorted(case_ids)))
            .values(updated_at=at)
            .execution_options(synchronize_session=False)
        )
