"""The panic button and the console in a real headless Chromium against the real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from safestream.store.access import add_user, create_org
from safestream.store.reports import ReportRepository
from tests.web.conftest import LIGHT_ARGON2, ORG, PASSWORD, email_of, photo_report
from tests.web.live_server import CHROMIUM, LiveServer, chromium, live_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One app for these tests (each uses its own stream ids), with a reviewer of each kind."""
    with live_server(tmp_path_factory.mktemp("browser") / "home") as running:
        create_org(running.db, ORG, kind="operator")  # the hotline running the installation
        for role in ("reviewer", "child_safety_reviewer"):
            add_user(
                running.db,
                email_of(role),
                org=ORG,
                role=role,
                password=PASSWORD,
                hasher=LIGHT_ARGON2,
            )
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless system Chromium."""
    with chromium() as running:
        yield running


def _log_in(page: Page, server: LiveServer, role: str) -> None:
    page.goto(f"{server.url}/console/login")
    page.fill("#email", email_of(role))
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header .who")).to_contain_text(email_of(role))


def test_panic_press_in_a_call_page_reaches_the_reviewer_queue(
    server: LiveServer, browser: Browser
) -> None:
    call = browser.new_page()
    call.goto(server.call_page(ORG, "call-77"))
    call.get_by_role("button", name="Report abuse").click()
    dialog = call.get_by_role("dialog", name="Report abuse in this call")
    expect(dialog).to_be_visible()
    dialog.get_by_label("What is happening?").fill("A child on this call may be at risk.")
    dialog.get_by_label("Yes").check()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_contain_text("Your report was sent")

    console = browser.new_page()
    _log_in(console, server, "reviewer")
    console.goto(f"{server.url}/console/queue?q=urgent")
    row = console.locator("table.queue tbody tr", has_text="call-77")
    expect(row.locator(".prio")).to_have_text("P1")
    row.get_by_role("link").click()
    expect(console.locator("h1")).to_contain_text("Case #")
    expect(console.locator(".report")).to_contain_text("A child on this call may be at risk.")
    expect(console.locator(".report")).to_contain_text("panic button")


def test_widget_shows_the_error_when_its_key_is_not_valid(
    server: LiveServer, browser: Browser
) -> None:
    call = browser.new_page()
    call.goto(f"{server.url}/demo/call?key=pk_panic_1_{'0' * 32}")
    call.get_by_role("button", name="Report abuse").click()
    dialog = call.get_by_role("dialog")
    dialog.get_by_label("What is happening?").fill("Something bad is happening.")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_contain_text("unknown or revoked panic-button key")


def test_opened_file_stays_blurred_until_the_reviewer_clicks_it(
    server: LiveServer, browser: Browser
) -> None:
    case_id = server.file(ORG, photo_report("call-88"))
    page = browser.new_page()
    _log_in(page, server, "child_safety_reviewer")
    page.goto(f"{server.url}/console/cases/{case_id}")
    expect(page.locator("img.preview")).to_be_visible()
    page.get_by_role("button", name="Open file").click()
    image = page.locator("img.full")
    expect(image).to_be_visible()
    assert "blur" in image.evaluate("e => getComputedStyle(e).filter")
    page.locator("[data-unblur]").click()
    assert "blur" not in image.evaluate("e => getComputedStyle(e).filter")


def test_panic_form_works_from_the_keyboard(server: LiveServer, browser: Browser) -> None:
    call = browser.new_page()
    call.goto(server.call_page(ORG, "call-keyboard-1"))
    opener = call.get_by_role("button", name="Report abuse")
    opener.focus()
    call.keyboard.press("Enter")
    dialog = call.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("What is happening?")).to_be_focused()
    call.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


def test_resending_after_a_lost_answer_files_the_report_once(
    server: LiveServer, browser: Browser
) -> None:
    call = browser.new_page()
    call.goto(server.call_page(ORG, "call-99"))
    delivered: list[str] = []

    def lose_the_answer(route: Route) -> None:
        # The server stores the report, but the viewer's network drops the answer.
        delivered.append(route.fetch().json()["report_id"])
        route.abort("internetdisconnected")

    reports_before = ReportRepository(server.db).count()
    call.route("**/v1/panic", lose_the_answer)
    call.get_by_role("button", name="Report abuse").click()
    dialog = call.get_by_role("dialog")
    dialog.get_by_label("What is happening?").fill("A child may be at risk.")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_contain_text("Network error")
    call.unroute("**/v1/panic")
    with call.expect_response("**/v1/panic") as retry:
        dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_contain_text("Your report was sent")
    assert retry.value.status == 200  # a replay, not a second report
    assert retry.value.json()["report_id"] == delivered[0]
    assert ReportRepository(server.db).count() == reports_before + 1


def test_review_loop_by_keyboard_moves_opens_and_shows_help(
    server: LiveServer, browser: Browser
) -> None:
    first = server.file(ORG, photo_report("call-keys-1"))
    page = browser.new_page()
    _log_in(page, server, "reviewer")
    page.goto(f"{server.url}/console/queue")
    page.keyboard.press("?")
    help_box = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_box).to_contain_text("claim the next case")
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()
    rows = page.locator("table.queue tbody tr")
    target = rows.filter(has_text=f"#{first}")
    index = [r.inner_text() for r in rows.all()].index(target.inner_text())
    for _ in range(index + 1):
        page.keyboard.press("j")
    expect(target).to_have_class("current")
    page.keyboard.press("o")
    expect(page).to_have_url(f"{server.url}/console/cases/{first}")


def test_dark_mode_and_phone_layout_follow_the_browser(
    server: LiveServer, browser: Browser
) -> None:
    server.file(ORG, photo_report("call-dark-1"))
    page = browser.new_page(color_scheme="dark", viewport={"width": 390, "height": 844})
    _log_in(page, server, "reviewer")
    page.goto(f"{server.url}/console/queue")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
    row = page.locator("table.queue tbody tr").first
    assert row.evaluate("e => getComputedStyle(e).display") == "block"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_panic_dialog_confirms_with_close_and_keeps_focus_after_sending(
    server: LiveServer, browser: Browser
) -> None:
    call = browser.new_page()
    call.goto(server.call_page(ORG, "call-confirm-1"))
    opener = call.get_by_role("button", name="Report abuse")
    opener.click()
    dialog = call.get_by_role("dialog")
    dialog.get_by_role("button", name="Send report").click()  # no description: still a report
    expect(dialog.get_by_role("status")).to_contain_text("Your report was sent")
    close = dialog.get_by_role("button", name="Close")
    expect(close).to_be_focused()
    expect(dialog.get_by_role("button", name="Send report")).to_be_hidden()
    call.keyboard.press("Tab")
    expect(close).to_be_focused()
    call.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


def test_reviewer_claims_decides_and_returns_to_the_queue_by_keyboard_alone(
    server: LiveServer, browser: Browser
) -> None:
    server.file(ORG, photo_report("call-loop-1"))
    page = browser.new_page()
    _log_in(page, server, "reviewer")
    page.goto(f"{server.url}/console/queue")
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(r"/console/cases/\d+\?flash=claimed$"))
    page.keyboard.press("d")
    expect(page.locator("#decision-reason")).to_be_focused()
    page.keyboard.type("Benign stand-in, nothing to act on.")
    page.keyboard.press("Tab")  # the agency list
    page.keyboard.press("Tab")  # the first decision button
    expect(page.locator("button[name=decision]").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Case #")
    expect(page.locator(".pill", has_text="decision:")).to_be_visible()
    page.keyboard.press("q")
    expect(page).to_have_url(f"{server.url}/console/queue")


def test_a_decision_key_only_focuses_its_button_and_c_goes_on_to_the_next_case(
    server: LiveServer, browser: Browser
) -> None:
    server.file(ORG, photo_report("call-loop-2", account="loop-2"))
    server.file(ORG, photo_report("call-loop-3", account="loop-3"))
    page = browser.new_page()
    _log_in(page, server, "reviewer")
    page.goto(f"{server.url}/console/queue")
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(r"/console/cases/\d+\?flash=claimed$"))
    first = page.url
    page.keyboard.press("2")
    dismiss = page.locator("button[name=decision][value=dismiss]")
    expect(dismiss).to_be_focused()
    expect(page.locator(".pill", has_text="decision:")).to_have_count(0)  # nothing decided yet
    page.keyboard.press("Enter")
    expect(page.locator(".pill", has_text="decision: dismiss")).to_be_visible()
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(r"/console/cases/\d+\?flash=claimed$"))
    assert page.url != first


def test_widget_sends_the_press_again_while_the_store_is_busy(
    server: LiveServer, browser: Browser
) -> None:
    """Two 503s with Retry-After (the store busy): the widget waits and resends the same press
    itself; the viewer sees it sent, and it is filed once."""
    call = browser.new_page()
    call.goto(server.call_page(ORG, "call-98"))
    refused: list[str] = []

    def store_busy_twice(route: Route) -> None:
        if len(refused) < 2:
            refused.append(route.request.post_data_json["idempotency_key"])
            headers = {"Retry-After": "1", "Access-Control-Allow-Origin": "*",
                       "Access-Control-Expose-Headers": "Retry-After"}  # fmt: skip
            route.fulfill(
                status=503, json={"error": "the database is unavailable"}, headers=headers
            )
        else:
            route.continue_()

    reports_before = ReportRepository(server.db).count()
    call.route("**/v1/panic", store_busy_twice)
    call.get_by_role("button", name="Report abuse").click()
    dialog = call.get_by_role("dialog")
    dialog.get_by_label("What is happening?").fill("A child may be at risk.")
    with call.expect_response(lambda r: r.url.endswith("/v1/panic") and r.ok, timeout=15_000):
        dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_contain_text("Your report was sent")
    assert len(refused) == 2 and len(set(refused)) == 1  # the same press, resent
    assert ReportRepository(server.db).count() == reports_before + 1
