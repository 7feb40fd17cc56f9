"""The review loop by keyboard alone on a store of 100,000 cases (PostgreSQL), in a real Chromium.

Seeds the cases the way `bench/bench_console_queue.py` does (one report each, indexed as the
linker indexes them), then a reviewer logs in and, without the mouse, claims the most urgent case,
dismisses it, goes on to the next one, confirms it, and returns to the queue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from bench.bench_console_queue import seed_cases
from playwright.sync_api import Page, expect

from safestream.store.access import add_user, create_org
from safestream.store.database import Database
from tests.web.live_server import CHROMIUM, LiveServer, chromium, live_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]

CASES = 100_000
REVIEWER = "volume-reviewer@example.org"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    db = Database(database_url)
    db.migrate()
    seed_cases(db, CASES)
    create_org(db, "Volume Hotline", kind="operator")
    add_user(
        db, REVIEWER, org="Volume Hotline", role="reviewer", password=PASSWORD,
        hasher=PasswordHasher(time_cost=1, memory_cost=1024),
    )  # fmt: skip
    try:
        with live_server(tmp_path / "home", database=db) as running:
            yield running
    finally:
        db.dispose()


def _claimed_case(page: Page) -> int:
    expect(page).to_have_url(re.compile(r"/console/cases/\d+\?flash=claimed$"))
    found = re.search(r"/console/cases/(\d+)", page.url)
    assert found is not None
    return int(found.group(1))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_reviewer_works_the_queue_of_100000_cases_by_keyboard_alone(server: LiveServer) -> None:
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{server.url}/console/login")
        for _ in range(6):  # Tab through the header to the email field
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "email":
                break
        page.keyboard.type(REVIEWER)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator("header .who")).to_contain_text(REVIEWER)
        page.goto(f"{server.url}/console/queue")
        expect(page.locator("table.queue tbody tr")).to_have_count(50)
        expect(page.locator("table.queue tbody tr").first).to_contain_text("P1")

        page.keyboard.press("c")
        first = _claimed_case(page)
        expect(page.locator("h1")).to_contain_text("P1")
        page.keyboard.press("2")
        expect(page.locator("button[name=decision][value=dismiss]")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator(".pill", has_text="decision: dismiss")).to_be_visible()

        page.keyboard.press("c")
        second = _claimed_case(page)
        assert second != first
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        expect(page.locator(".pill", has_text="decision: confirm")).to_be_visible()

        page.keyboard.press("q")
        expect(page).to_have_url(f"{server.url}/console/queue")
        rows = page.locator("table.queue tbody").inner_text()
        listed = {int(n) for n in re.findall(r"#(\d+)\b", rows)}
        assert len(listed) == 50 and not {first, second} & listed
