"""A peer receives only what the organisation owning a collection shared with it.

Seen from an attacker's side: another organisation on the same installation, one of its
non-administrators, or a peer asking for more than it was granted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safestream.core.errors import Conflict, NotFound, PermissionDenied
from safestream.core.principal import Principal, Role
from safestream.core.shared_signals import NewSignal
from safestream.exchange.api import exchange_app, signed_headers
from safestream.exchange.bundle import read_bundle
from safestream.exchange.identity import Identity
from safestream.store import Database
from safestream.store.access import create_org
from safestream.store.exchange.peers import PeerRegistry
from safestream.store.exchange.shared_signals import SignalStore
from safestream.store.exchange_grants import SharingGrants
from safestream.store.models.audit import AuditEntryRow

ME = Identity.generate()
PEER = Identity.generate()
INSTALLATION = Principal.system("cli")


def _admin(db: Database, name: str, role: Role = Role.ADMIN) -> Principal:
    org = create_org(db, name)
    return Principal(org=org.ref, user=f"admin@{name}", roles=frozenset({role}))


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    PeerRegistry(database).add("peer", "http://peer.test", PEER.public_text)
    yield database


def _pulled(db: Database) -> set[str]:
    """Every value the peer receives from a full pull over the API."""
    client = TestClient(exchange_app(db, ME))
    target = "/exchange/v1/changes?after=0&limit=1000"
    response = client.get(target, headers=signed_headers(PEER, "GET", target))
    assert response.status_code == 200
    return {
        s.value
        for s in read_bundle(response.content, {ME.key_id: ME.private_key.public_key()}).signals
    }


def _own_collection(db: Database, admin: Principal, name: str, *values: str) -> None:
    SharingGrants(db).create_collection(admin, name)
    SignalStore(db).publish(name, [NewSignal("keyword", v) for v in values], principal=admin)


def test_a_peer_receives_the_collection_its_owner_granted_and_no_other(db: Database) -> None:
    a, b = _admin(db, "Platform A"), _admin(db, "Platform B")
    _own_collection(db, a, "a-finds", "a secret")
    _own_collection(db, b, "b-finds", "b secret")
    SharingGrants(db).grant(a, "a-finds", "peer")
    assert _pulled(db) == {"a secret"}


def test_another_organisation_cannot_grant_a_collection_it_does_not_own(db: Database) -> None:
    a, b = _admin(db, "Platform A"), _admin(db, "Platform B")
    _own_collection(db, a, "a-finds", "a secret")
    with pytest.raises(NotFound):  # as if no such collection existed
        SharingGrants(db).grant(b, "a-finds", "peer")
    assert _pulled(db) == set()


def test_a_grant_refused_to_a_stranger_reads_the_same_as_an_unknown_collection(
    db: Database,
) -> None:
    a, b = _admin(db, "Platform A"), _admin(db, "Platform B")
    _own_collection(db, a, "a-finds", "a secret")
    with pytest.raises(NotFound) as existing:
        SharingGrants(db).grant(b, "a-finds", "peer")
    with pytest.raises(NotFound) as missing:
        SharingGrants(db).grant(b, "nobody-has-this", "peer")
    assert str(existing.value).replace("a-finds", "X") == str(missing.value).replace(
        "nobody-has-this", "X"
    )


def test_another_organisation_cannot_publish_into_or_withdraw_from_a_collection(
    db: Database,
) -> None:
    a, b = _admin(db, "Platform A"), _admin(db, "Platform B")
    _own_collection(db, a, "a-finds", "a secret")
    SharingGrants(db).grant(a, "a-finds", "peer")
    store = SignalStore(db)
    with pytest.raises(NotFound):
        store.publish("a-finds", [NewSignal("keyword", "planted by b")], principal=b)
    with pytest.raises(NotFound):
        store.withdraw("a-finds", "keyword", "a secret", principal=b)
    assert _pulled(db) == {"a secret"}


def test_an_organisation_cannot_write_to_or_grant_the_installations_collections(
    db: Database,
) -> None:
    b = _admin(db, "Platform B")
    SignalStore(db).publish(
        "hotline-list", [NewSignal("keyword", "hotline")], principal=INSTALLATION
    )
    with pytest.raises(NotFound):
        SignalStore(db).publish("hotline-list", [NewSignal("keyword", "b")], principal=b)
    with pytest.raises(NotFound):
        SharingGrants(db).grant(b, "hotline-list", "peer")
    with pytest.raises(Conflict):  # nor take the name over
        SharingGrants(db).create_collection(b, "hotline-list")
    assert _pulled(db) == set()


def test_a_collection_named_by_one_organisation_cannot_be_claimed_by_another(
    db: Database,
) -> None:
    a, b = _admin(db, "Platform A"), _admin(db, "Platform B")
    SharingGrants(db).create_collection(a, "finds")
    with pytest.raises(Conflict):
        SharingGrants(db).create_collection(b, "finds")


def test_the_installation_cannot_grant_an_organisations_collection_for_it(db: Database) -> None:
    a = _admin(db, "Platform A")
    _own_collection(db, a, "a-finds", "a secret")
    with pytest.raises(NotFound):
        SharingGrants(db).grant(INSTALLATION, "a-finds", "peer")
    assert _pulled(db) == set()


def test_only_an_administrator_of_the_owner_grants(db: Database) -> None:
    a = _admin(db, "Platform A")
    reviewer = Principal(org=a.org, user="rev@a", roles=frozenset({Role.REVIEWER}))
    api_key = Principal(org=a.org, user="org:Platform A", roles=frozenset({Role.API_CLIENT}))
    _own_collection(db, a, "a-finds", "a secret")
    for someone in (reviewer, api_key):
        with pytest.raises(PermissionDenied):
            SharingGrants(db).grant(someone, "a-finds", "peer")
    assert _pulled(db) == set()


def test_a_revoked_grant_stops_what_the_peer_receives(db: Database) -> None:
    a = _admin(db, "Platform A")
    _own_collection(db, a, "a-finds", "a secret")
    grants = SharingGrants(db)
    grants.grant(a, "a-finds", "peer")
    grants.revoke(a, "a-finds", "peer")
    assert _pulled(db) == set()


def test_grants_and_revocations_are_audited_with_who_made_them(db: Database) -> None:
    a = _admin(db, "Platform A")
    _own_collection(db, a, "a-finds", "a secret")
    SharingGrants(db).grant(a, "a-finds", "peer")
    SharingGrants(db).revoke(a, "a-finds", "peer")
    with db.session() as s:
        rows = s.execute(
            select(AuditEntryRow.actor, AuditEntryRow.action).where(
                AuditEntryRow.subject == "collection:a-finds"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("admin@Platform A", "exchange.collection_create"),
        ("admin@Platform A", "exchange.grant"),
        ("admin@Platform A", "exchange.revoke"),
    ]


def test_a_peer_with_no_grant_receives_nothing_even_when_asking_for_everything(
    db: Database,
) -> None:
    a = _admin(db, "Platform A")
    _own_collection(db, a, "a-finds", "a secret")
    SignalStore(db).publish(
        "hotline-list", [NewSignal("keyword", "hotline")], principal=INSTALLATION
    )
    assert _pulled(db) == set()
