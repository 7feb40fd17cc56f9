"""Publishable panic-button keys in the store: hashed, bound to origins and a namespace."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from safestream.core.errors import Conflict, InvalidInput, NotFound
from safestream.store.access import create_org
from safestream.store.database import Database
from safestream.store.models.access import PanicKeyRow
from safestream.store.panic_keys import (
    issue_panic_key,
    list_panic_keys,
    normalize_origin,
    panic_key_info,
    revoke_panic_key,
    rotate_panic_key,
)

ORIGINS = ["https://calls.example"]


@pytest.fixture
def db(database: Database) -> Database:
    create_org(database, "Acme Calls")
    create_org(database, "Other Calls")
    return database


def test_key_names_its_organisation_origins_and_namespace(db: Database) -> None:
    issued = issue_panic_key(db, "Acme Calls", origins=ORIGINS, stream_prefix="acme-")
    info = panic_key_info(db, issued.key)
    assert info is not None and info.org.name == "Acme Calls"
    assert info.origins == ("https://calls.example",) and info.stream_prefix == "acme-"


def test_only_the_keys_hash_is_stored(db: Database) -> None:
    issued = issue_panic_key(db, "Acme Calls", origins=ORIGINS, stream_prefix="acme-")
    with db.session() as s:
        stored = s.scalars(select(PanicKeyRow.key_hash)).all()
    assert issued.key not in stored and len(stored) == 1


def test_each_issue_is_a_new_key(db: Database) -> None:
    first = issue_panic_key(db, "Acme Calls", origins=ORIGINS, stream_prefix="acme-")
    second = issue_panic_key(db, "Acme Calls", origins=ORIGINS, stream_prefix="acme-")
    assert first.key != second.key


@pytest.mark.parametrize("prefix", ["acme-", "acme-vip-", "acm"])
def test_namespace_overlapping_another_organisations_is_refused(db: Database, prefix: str) -> None:
    issue_panic_key(db, "Acme Calls", origins=ORIGINS, stream_prefix="acme-")
    with pytest.raises(Conflict, match="overlaps"):
        issue_panic_key(db, "Other Calls", origins=ORIGINS, stream_prefix=prefix)


def test_revoked_namespace_is_free_for_another_organisation(db: Database) -> None:
    issued = issue_panic_key(db, "Acme Calls", origins=ORIGINS, stream_prefix="acme-")
    revoke_panic_key(db, issued.info.id)
    issue_panic_key(db, "Other Calls", origins=ORIGINS, stream_prefix="acme-")


def test_revoked_key_is_no_key(db: Database) -> None:
    issued = issue_panic_key(db, "Acme Calls", origins=ORIGINS, stream_prefix="acme-")
    revoke_panic_key(db, issued.info.id)
    assert panic_key_info(db, issued.key) is None
    with pytest.raises(Conflict, match="revoked already"):
        revoke_panic_key(db, issued.info.id)


def test_rotation_keeps_origins_and_namespace_under_a_new_key(db: Database) -> None:
    old = issue_panic_key(db, "Acme Calls", origins=ORIGINS, stream_prefix="acme-")
    new = rotate_panic_key(db, old.info.id)
    assert panic_key_info(db, old.key) is None
    info = panic_key_info(db, new.key)
    assert info is not None and (info.origins, info.stream_prefix) == (old.info.origins, "acme-")
    assert [k.revoked_at is None for k in list_panic_keys(db, "Acme Calls")] == [False, True]


def test_key_without_origins_is_refused(db: Database) -> None:
    with pytest.raises(InvalidInput, match="origin"):
        issue_panic_key(db, "Acme Calls", origins=[], stream_prefix="acme-")


@pytest.mark.parametrize("prefix", ["", "   ", "acme\u200b-"])
def test_blank_or_disguised_namespace_is_refused(db: Database, prefix: str) -> None:
    with pytest.raises(InvalidInput, match="stream prefix"):
        issue_panic_key(db, "Acme Calls", origins=ORIGINS, stream_prefix=prefix)


def test_unknown_organisation_or_key_id_is_not_found(db: Database) -> None:
    with pytest.raises(NotFound):
        issue_panic_key(db, "Nobody", origins=ORIGINS, stream_prefix="x-")
    with pytest.raises(NotFound):
        revoke_panic_key(db, 999)


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("https://Calls.Example", "https://calls.example"),
        ("https://calls.example:443/", "https://calls.example"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_origins_are_compared_as_browsers_send_them(given: str, origin: str) -> None:
    assert normalize_origin(given) == origin


@pytest.mark.parametrize(
    "given", ["calls.example", "ftp://calls.example", "https://calls.example/page", "null", ""]
)
def test_anything_but_an_origin_is_refused(given: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_origin(given)


@pytest.mark.parametrize("text", ["", "ss_abc", "pk_panic_x_00", "pk_panic_1_" + "0" * 32])
def test_malformed_or_first_version_keys_are_no_keys(db: Database, text: str) -> None:
    assert panic_key_info(db, text) is None
