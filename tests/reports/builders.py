"""Builders of benign test reports, organisations and users for the reports, cases and API tests."""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher

from safestream.core.errors import BankNotFound, NotFound
from safestream.core.reports import ReportIn
from safestream.reports.intake import IntakeService
from safestream.store.access import Organisation, User, add_user, create_org, get_org
from safestream.store.banks import BankRepository, NewEntry
from safestream.store.database import Database

PASSWORD = "correct horse battery"
# Argon2id at its lowest cost keeps tests fast; verification reads the cost from the hash.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PDQ_A = "f" * 64
PDQ_B = "0f" * 32


def report(**fields: Any) -> ReportIn:
    """A valid report with only the given fields set."""
    return ReportIn.model_validate(fields)


def account(platform: str, account_id: str, **extra: Any) -> dict[str, Any]:
    """A reported account as JSON."""
    return {"platform": platform, "id": account_id, **extra}


def live(stream_id: str, **extra: Any) -> dict[str, Any]:
    """A live stream that has not ended, as JSON."""
    return {"stream_id": stream_id, **extra}


def match(value: str = PDQ_A, **extra: Any) -> dict[str, Any]:
    """A verified PDQ bank match as JSON."""
    return {
        "bank": "benign-standins",
        "entry_id": 1,
        "signal_type": "pdq",
        "value": value,
        "distance": 4,
        "label": "A1",
        **extra,
    }


def banked_match(db: Database, value: str = PDQ_A, **extra: Any) -> dict[str, Any]:
    """A match SafeStream's banks back: the entry is added to the bank "benign-standins"."""
    banks = BankRepository(db)
    try:
        banks.get("benign-standins")
    except BankNotFound:
        banks.create("benign-standins")
    existing = banks.find_exact("pdq", value)
    entry_id = (
        existing[0][0].id
        if existing
        else banks.add_entries("benign-standins", [NewEntry(signal_type="pdq", value=value)])[0]
    )
    return match(value, entry_id=entry_id, **extra)


def org(db: Database, name: str = "Acme Video") -> Organisation:
    """A fresh organisation."""
    return create_org(db, name)


def user(db: Database, email: str, role: str, org_name: str = "Hotline") -> User:
    """A console user in `org_name` (created as the installation's operator when missing)."""
    try:
        get_org(db, org_name)
    except NotFound:
        create_org(db, org_name, kind="operator")
    return add_user(db, email, org=org_name, role=role, password=PASSWORD, hasher=FAST_HASHER)


def store(db: Database, owner: Organisation, body: ReportIn, key: str | None = None) -> str:
    """Store a report through intake; return its id."""
    return IntakeService(db).receive(owner, body, idempotency_key=key).report.id
