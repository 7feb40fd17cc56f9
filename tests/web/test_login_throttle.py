"""Login throttling: per account and per client address, and a bound on concurrent Argon2 work."""

from __future__ import annotations

import threading

from safestream.api.web.login_throttle import LoginThrottle
from tests.web.conftest import PASSWORD, Console, email_of


def _attempt(console: Console, email: str, password: str) -> int:
    token = console.csrf()
    data = {"email": email, "password": password, "csrf_token": token}
    return console.client.post("/console/login", data=data).status_code


def test_account_is_locked_after_repeated_wrong_passwords_even_for_the_right_one(
    console: Console,
) -> None:
    console.ensure_user("reviewer")
    email = email_of("reviewer")
    statuses = [_attempt(console, email, "wrong") for _ in range(LoginThrottle.ACCOUNT_FAILURES)]
    assert statuses == [401] * LoginThrottle.ACCOUNT_FAILURES
    answer_status = _attempt(console, email, PASSWORD)
    assert answer_status == 429


def test_address_is_throttled_across_many_accounts(console: Console) -> None:
    for i in range(LoginThrottle.ADDRESS_FAILURES):
        assert _attempt(console, f"guess{i}@example.org", "wrong") == 401
    assert _attempt(console, "another@example.org", "wrong") == 429


def test_failures_expire_after_the_window() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(LoginThrottle.ACCOUNT_FAILURES):
        throttle.failed("a@b.org", "10.0.0.1")
    assert throttle.retry_after("a@b.org", "10.0.0.2") > 0
    now[0] += LoginThrottle.WINDOW_SECONDS + 1
    assert throttle.retry_after("a@b.org", "10.0.0.2") == 0


def test_success_clears_the_account_count() -> None:
    throttle = LoginThrottle()
    for _ in range(LoginThrottle.ACCOUNT_FAILURES - 1):
        throttle.failed("a@b.org", "10.0.0.1")
    throttle.succeeded("a@b.org")
    throttle.failed("a@b.org", "10.0.0.1")
    assert throttle.retry_after("a@b.org", "10.0.0.3") == 0


def test_password_checks_run_at_most_the_bound_at_once() -> None:
    throttle = LoginThrottle(concurrent_hashes=2)
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
