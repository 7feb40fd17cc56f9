"""Saved queue views: each person's own named filters, never seen or changed by anyone else.

A view is the queue page's query string (filters and search, never a page cursor), so opening
it re-runs the search on today's cases; it holds no case data. Saving under a name the person
used before replaces that view.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from safestream.core.errors import Conflict, InvalidInput, NotFound
from safestream.core.principal import Principal
from safestream.store.database import Database
from safestream.store.models.cases import SavedViewRow

MAX_VIEWS = 50
MAX_NAME = 64
MAX_QUERY = 2000


@dataclass(frozen=True)
class SavedView:
    """One saved view of a person's."""

    id: int
    name: str
    query: str


def _person(principal: Principal) -> int:
    if principal.user_id is None:
        raise Conflict("only a person has saved views")
    return principal.user_id


class SavedViewRepository:
    """The saved views of the acting person."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, principal: Principal) -> list[SavedView]:
        """The person's views, by name."""
        if principal.user_id is None:
            return []
        with self.db.session() as s:
            rows = s.scalars(
                select(SavedViewRow)
                .where(SavedViewRow.user_id == principal.user_id)
                .order_by(SavedViewRow.name)
            )
            return [SavedView(r.id, r.name, r.query) for r in rows]

    def save(self, principal: Principal, name: str, query: str) -> SavedView:
        """Save (or replace, by name) a view of the person's."""
        user_id = _person(principal)
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME:
            raise InvalidInput(f"name: give the view a name of 1 to {MAX_NAME} characters")
        if len(query) > MAX_QUERY:
            raise InvalidInput(f"query: a view's filter is at most {MAX_QUERY} characters")
        with self.db.session() as s:
            row = s.scalar(
                select(SavedViewRow).where(
                    SavedViewRow.user_id == user_id, SavedViewRow.name == name
                )
            )
            if row is None:
                count = s.scalar(select(func.count()).where(SavedViewRow.user_id == user_id))
                if (count or 0) >= MAX_VIEWS:
                    raise InvalidInput(f"name: at most {MAX_VIEWS} saved views; delete one first")
                row = SavedViewRow(user_id=user_id, name=name, query=query)
                s.add(row)
            else:
                row.query = query
            s.flush()
            return SavedView(row.id, row.name, row.query)

    def delete(self, principal: Principal, view_id: int) -> None:
        """Delete one of the person's views (`NotFound` for anyone else's)."""
        user_id = _person(principal)
        with self.db.session() as s:
            done = s.execute(
                delete(SavedViewRow)
                .where(SavedViewRow.id == view_id, SavedViewRow.user_id == user_id)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise NotFound(f"no saved view {view_id}")
