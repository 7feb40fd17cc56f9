"""The panic endpoint's rate limit: a window per client, others unaffected, slots come back."""

from __future__ import annotations

from safestream.api.web.rate_limit import RateLimiter


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_events_over_the_limit_in_one_window_are_refused() -> None:
    limiter = RateLimiter(3, 60, FakeClock())
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]


def test_other_clients_have_their_own_allowance() -> None:
    limiter = RateLimiter(1, 60, FakeClock())
    assert limiter.allow("a") and limiter.allow("b")
    assert not limiter.allow("a")


def test_allowance_returns_once_the_window_has_passed() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, 60, clock)
    assert limiter.allow("a")
    clock.now += 59
    assert not limiter.allow("a")
    clock.now += 2
    assert limiter.allow("a")


def test_an_event_given_back_frees_its_slot() -> None:
    limiter = RateLimiter(2, 60, FakeClock())
    assert limiter.allow("a") and limiter.allow("a")
    limiter.give_back("a")
    assert limiter.allow("a")
    assert not limiter.allow("a")


def test_wait_says_when_the_oldest_event_leaves_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 60, clock)
    assert limiter.wait("a") == 0
    limiter.allow("a")
    clock.now += 10
    limiter.allow("a")
    assert limiter.wait("a") == 50
