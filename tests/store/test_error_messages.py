"""Database errors never carry what was being written (a report's body) into logs."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from safestream.store.database import Database

SECRET = "examplecall:victim-account-7 description of abuse"


def test_a_failed_write_names_no_parameter_in_its_message(database: Database) -> None:
    with database.session() as s:
        s.execute(text("create table probe (id integer primary key, body text not null)"))
    with pytest.raises(IntegrityError) as caught, database.session() as s:
        s.execute(text("insert into probe (id, body) values (1, :b)"), {"b": SECRET})
        s.execute(text("insert into probe (id, body) values (1, :b)"), {"b": SECRET})
    assert SECRET not in str(caught.value)
    assert "parameters hidden" in str(caught.value)
