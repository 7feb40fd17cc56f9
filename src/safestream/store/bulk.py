"""Statements over many rows with a few parameters: arrays on PostgreSQL, plain SQL elsewhere.

A statement with thousands of bound values (an `IN` list, a multi-row `VALUES`) costs the driver
more to convert than the server to run: psycopg rewrites every placeholder of a statement it has
not cached. On PostgreSQL these helpers pass each column as one array (`= any(...)`, `unnest`), so
a batch of a thousand reports is a handful of parameters; on SQLite they fall back to `IN` lists
and executemany. Arrays travel as their text form (`array_literal`), which costs a `join`
instead of the driver's per-element adaptation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    func,
    insert,
    not_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return repr(value)
    text_value = value.isoformat() if isinstance(value, datetime) else str(value)
    return '"' + text_value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_literal(values: Sequence[Any]) -> str:
    """PostgreSQL's text form of a one-dimensional array of these values."""
    kinds = set(map(type, values))
    # Columns of plain strings or ints are most of a linking batch's arrays: joined without a
    # call per element.
    if kinds <= {str}:
        quoted = ['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]
        return "{" + ",".join(quoted) + "}"
    if kinds <= {int}:
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join(map(_element, values)) + "}"


def postgres(s: Session) -> bool:
    """Whether the session's store is PostgreSQL."""
    return s.get_bind().dialect.name == "postgresql"


def one_of(
    s: Session, column: InstrumentedAttribute[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN values`, as one array parameter on PostgreSQL."""
    found: ColumnElement[bool]
    if postgres(s):
        # A subquery over the unnested array is evaluated once; `= any(cast(...))` recast the
        # whole array for every row a scan looked at.
        array = cast(bindparam(None, array_literal(values), type_=Text()), ARRAY(column.type))
        found = column.in_(select(func.unnest(array)).scalar_subquery())
    else:
        found = column.in_(list(values))
    return found


def _sql_type(s: Session, table: Table, column: str) -> str:
    return str(table.c[column].type.compile(dialect=s.get_bind().dialect))


def insert_rows(s: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (all naming the same columns) in one statement."""
    if not rows:
        return
    if not postgres(s):
        s.execute(insert(table), [dict(r) for r in rows])
        return
    columns = list(rows[0])
    arrays = ", ".join(f"cast(:c{i} as {_sql_type(s, table, c)}[])" for i, c in enumerate(columns))
    s.execute(
        text(f"insert into {table.name} ({', '.join(columns)}) select * from unnest({arrays})"),
        {f"c{i}": array_literal([r[c] for r in rows]) for i, c in enumerate(columns)},
    )


def update_rows(s: Session, table: Table, key: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Update rows found by `key` (every row names `key` and the same other columns) in one
    statement. Rows whose columns already hold these values are left alone: the linker sets the
    triage and routing of every case a batch touches, mostly to what they were, and each
    rewritten row is a new row version with all its index entries. Returns how many changed."""
    if not rows:
        return 0
    columns = [c for c in rows[0] if c != key]
    if not postgres(s):
        unchanged = and_(*(table.c[c].is_not_distinct_from(bindparam(f"_{c}")) for c in columns))
        changed = s.execute(
            update(table)
            .where(table.c[key] == bindparam("_key"), not_(unchanged))
            .values({c: bindparam(f"_{c}") for c in columns}),
            [{"_key": r[key], **{f"_{c}": r[c] for c in columns}} for r in rows],
            execution_options={"synchronize_session": False},
        )
        return int(changed.rowcount)  # type: ignore[attr-defined]
    names = [key, *columns]
    arrays = ", ".join(f"cast(:c{i} as {_sql_type(s, table, c)}[])" for i, c in enumerate(names))
    sets = ", ".join(f"{c} = v.{c}" for c in columns)
    # row() keeps a single column a row, so the comparison reads the same for one or many.
    current = "row(" + ", ".join(f"{table.name}.{c}" for c in columns) + ")"
    given = "row(" + ", ".join(f"v.{c}" for c in columns) + ")"
    result = s.execute(
        text(
            f"update {table.name} set {sets} from unnest({arrays}) as v({', '.join(names)}) "
            f"where {table.name}.{key} = v.{key} and {current} is distinct from {given}"
        ),
        {f"c{i}": array_literal([r[c] for r in rows]) for i, c in enumerate(names)},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def new_ids(s: Session, table: Table, count: int) -> list[int] | None:
    """`count` fresh values of the table's id sequence on PostgreSQL (None elsewhere), so rows
    inserted in bulk can be given their ids and need no `RETURNING` in order."""
    if not postgres(s) or count == 0:
        return None
    return list(
        s.scalars(
            text("select nextval(pg_get_serial_sequence(:t, 'id')) from generate_series(1, :n)"),
            {"t": table.name, "n": count},
        )
    )
