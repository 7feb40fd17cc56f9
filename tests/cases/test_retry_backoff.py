"""Retry delays for reports that failed to link: seconds at first, doubling, capped."""

from __future__ import annotations

from safestream.cases.retry_backoff import RetryBackoff


def test_the_first_retry_comes_within_seconds() -> None:
    assert RetryBackoff().next_delay("r1") == 2.0


def test_each_further_failure_doubles_the_wait_up_to_the_cap() -> None:
    backoff = RetryBackoff()
    delays = [backoff.next_delay("r1", cap=30.0) for _ in range(6)]
    assert delays == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_a_success_starts_the_next_failure_from_the_first_delay_again() -> None:
    backoff = RetryBackoff()
    backoff.next_delay("r1")
    backoff.next_delay("r1")
    backoff.forget("r1")
    assert backoff.next_delay("r1") == 2.0


def test_reports_back_off_independently() -> None:
    backoff = RetryBackoff()
    backoff.next_delay("r1")
    assert backoff.next_delay("r2") == 2.0
