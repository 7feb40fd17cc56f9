"""Login throttling: per account and per client address, counted in the store so that every server
process shares one count, and a bound on concurrent Argon2 work."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from safestream.api.app import create_app
from safestream.api.web.login_throttle import LoginThrottle
from safestream.core.config import Settings
from safestream.store import Database
from tests.web.conftest import PASSWORD, Console, email_of, serving

START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _attempt(client: TestClient, email: str, password: str) -> int:
    page = client.get("/console/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post("/console/login", data=data, follow_redirects=False).status_code


def test_account_is_locked_after_repeated_wrong_passwords_even_for_the_right_one(
    console: Console,
) -> None:
    console.ensure_user("reviewer")
    email = email_of("reviewer")
    statuses = [
        _attempt(console.client, email, "wrong") for _ in range(LoginThrottle.ACCOUNT_FAILURES)
    ]
    assert statuses == [401] * LoginThrottle.ACCOUNT_FAILURES
    assert _attempt(console.client, email, PASSWORD) == 429


def test_address_is_throttled_across_many_accounts(console: Console) -> None:
    for i in range(LoginThrottle.ADDRESS_FAILURES):
        assert _attempt(console.client, f"guess{i}@example.org", "wrong") == 401
    assert _attempt(console.client, "another@example.org", "wrong") == 429


@pytest.fixture
def two_servers(settings: Settings, database_url: str) -> Iterator[tuple[Console, TestClient]]:
    """Two app instances on one store, as two worker processes of `serve --workers 2` are."""
    first, second = Database(database_url), Database(database_url)
    try:
        with serving(settings, first) as console:
            app = create_app(settings, database=second, link_in_background=False)
            with TestClient(app) as other:
                yield console, other
    finally:
        first.dispose()
        second.dispose()


def test_two_server_processes_count_one_accounts_failures_together(
    two_servers: tuple[Console, TestClient],
) -> None:
    """An attacker spreading guesses over the workers gets the limit once, not once per worker."""
    console, other = two_servers
    console.ensure_user("reviewer")
    email = email_of("reviewer")
    servers = [console.client, other]
    statuses = [
        _attempt(servers[i % 2], email, f"guess {i}") for i in range(LoginThrottle.ACCOUNT_FAILURES)
    ]
    assert statuses == [401] * LoginThrottle.ACCOUNT_FAILURES
    assert [_attempt(s, email, "another guess") for s in servers] == [429, 429]
    assert [_attempt(s, email, PASSWORD) for s in servers] == [429, 429]


def test_two_server_processes_count_one_addresss_failures_together(
    two_servers: tuple[Console, TestClient],
) -> None:
    console, other = two_servers
    servers = [console.client, other]
    for i in range(LoginThrottle.ADDRESS_FAILURES):
        assert _attempt(servers[i % 2], f"guess{i}@example.org", "wrong") == 401
    assert [_attempt(s, "another@example.org", "wrong") for s in servers] == [429, 429]


def test_a_right_password_on_one_server_clears_the_count_on_the_other(
    two_servers: tuple[Console, TestClient],
) -> None:
    console, other = two_servers
    console.ensure_user("reviewer")
    email = email_of("reviewer")
    for _ in range(LoginThrottle.ACCOUNT_FAILURES - 1):
        assert _attempt(other, email, "wrong") == 401
    assert _attempt(console.client, email, PASSWORD) == 303
    for _ in range(LoginThrottle.ACCOUNT_FAILURES):
        assert _attempt(other, email, "wrong") == 401


def test_guesses_still_being_checked_count_against_the_limit(database: Database) -> None:
    """Parallel guesses cannot all pass the check before the first is counted as failed."""
    throttle = LoginThrottle(database, clock=lambda: START)
    open_attempts = [
        throttle.admit("a@b.org", f"10.0.0.{i}") for i in range(LoginThrottle.ACCOUNT_FAILURES)
    ]
    assert not any(a.refused for a in open_attempts)
    assert throttle.admit("a@b.org", "10.0.0.99").refused


def test_concurrent_attempts_through_separate_connections_admit_exactly_the_limit(
    database: Database, database_url: str
) -> None:
    """Two connection pools stand for two processes; the admissions are serialised."""
    other = Database(database_url)
    throttles = [LoginThrottle(database), LoginThrottle(other)]
    admitted: list[bool] = []
    lock = threading.Lock()

    def guess(i: int) -> None:
        attempt = throttles[i % 2].admit("a@b.org", f"10.0.1.{i}")
        with lock:
            admitted.append(not attempt.refused)

    workers = [threading.Thread(target=guess, args=(i,)) for i in range(16)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    other.dispose()
    assert admitted.count(True) == LoginThrottle.ACCOUNT_FAILURES


def test_failures_expire_after_the_window(database: Database) -> None:
    now = [START]
    throttle = LoginThrottle(database, clock=lambda: now[0])
    for _ in range(LoginThrottle.ACCOUNT_FAILURES):
        assert not throttle.admit("a@b.org", "10.0.0.1").refused
    refused = throttle.admit("a@b.org", "10.0.0.2")
    assert refused.refused and refused.wait == pytest.approx(LoginThrottle.WINDOW_SECONDS)
    now[0] += timedelta(seconds=LoginThrottle.WINDOW_SECONDS + 1)
    assert not throttle.admit("a@b.org", "10.0.0.2").refused


def test_success_clears_the_account_count_but_not_the_address(database: Database) -> None:
    throttle = LoginThrottle(database, clock=lambda: START)
    for _ in range(LoginThrottle.ACCOUNT_FAILURES - 1):
        throttle.admit("a@b.org", "10.0.0.1")
    throttle.succeeded(throttle.admit("a@b.org", "10.0.0.1"))
    for _ in range(LoginThrottle.ACCOUNT_FAILURES):
        assert not throttle.admit("a@b.org", "10.0.0.3").refused
    # The address's earlier failures still count: 4 from before, the success taken back.
    for i in range(LoginThrottle.ADDRESS_FAILURES - LoginThrottle.ACCOUNT_FAILURES + 1):
        assert not throttle.admit(f"x{i}@b.org", "10.0.0.1").refused
    assert throttle.admit("y@b.org", "10.0.0.1").refused


def test_an_attempt_never_checked_is_taken_back(database: Database) -> None:
    throttle = LoginThrottle(database, clock=lambda: START)
    for _ in range(LoginThrottle.ACCOUNT_FAILURES * 2):
        throttle.unchecked(throttle.admit("a@b.org", "10.0.0.1"))
    assert not throttle.admit("a@b.org", "10.0.0.1").refused


def test_the_store_keeps_no_typed_account_or_address(database: Database) -> None:
    from sqlalchemy import text

    LoginThrottle(database).admit("someone@example.org", "192.0.2.7")
    with database.session() as s:
        kept = " ".join(
            str(v) for row in s.execute(text("select * from login_attempts")) for v in row
        )
    assert "someone" not in kept and "192.0.2.7" not in kept


def test_password_checks_run_at_most_the_bound_at_once(database: Database) -> None:
    throttle = LoginThrottle(database, concurrent_hashes=2)
    inside, most, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def check() -> None:
        with throttle.hashing():
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            release.wait(0.05)
            with lock:
                inside[0] -= 1

    workers = [threading.Thread(target=check) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert most[0] == 2
