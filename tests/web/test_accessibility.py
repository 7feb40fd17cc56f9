"""WCAG 2.1 AA in a real Chromium: axe-core finds no serious or critical violation on any console
page, in light and in dark mode (and on the panic widget), and it does find one that is planted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.web.conftest import ORG
from tests.web.live_server import CHROMIUM, LiveServer, chromium, live_server
from tests.web.screenshots import VIEWPORT, log_in, seed

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]

AXE = Axe()
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, int]]]:
    """The app with the screenshots' stand-in cases, and an administrator who sees every page."""
    with live_server(tmp_path_factory.mktemp("a11y") / "home") as server:
        yield server, seed(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless system Chromium."""
    with chromium() as running:
        yield running


def blocking_violations(page: Page) -> list[str]:
    """The serious and critical WCAG 2.1 A/AA violations of the page as shown now."""
    found: list[dict[str, Any]] = AXE.run(page, options=WCAG_AA).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in found
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_console_page_has_a_serious_or_critical_violation(
    world: tuple[LiveServer, dict[str, int]], browser: Browser, scheme: str
) -> None:
    server, cases = world
    page = browser.new_page(viewport=VIEWPORT, color_scheme=scheme)  # type: ignore[arg-type]
    found: dict[str, list[str]] = {}
    page.goto(f"{server.url}/console/login")
    found["login"] = blocking_violations(page)
    log_in(page, server, "admin")
    pages = {
        "queue": "/console/queue",
        "search": "/console/queue?status=any&search=private+stream",
        "case": f"/console/cases/{cases['live']}",
        "case, hash-first": f"/console/cases/{cases['matched']}",
        "preferences": "/console/preferences",
        "break": "/console/break",
        "audit": "/console/audit",
        "banks": "/console/banks",
    }
    for name, path in pages.items():
        page.goto(server.url + path)
        found[name] = blocking_violations(page)
    page.goto(f"{server.url}/console/queue")
    page.locator("input[name=case]").first.check()
    page.get_by_role("button", name="Review and confirm").click()
    found["bulk confirmation"] = blocking_violations(page)
    page.goto(f"{server.url}/console/cases/{cases['live']}")
    page.get_by_role("button", name="Open file").first.click()
    found["opened file"] = blocking_violations(page)
    call = browser.new_page(viewport=VIEWPORT, color_scheme=scheme)  # type: ignore[arg-type]
    call.goto(server.call_page(ORG, "call-a11y"))
    call.get_by_role("button", name="Report abuse").click()
    found["panic dialog"] = blocking_violations(call)
    assert {name: v for name, v in found.items() if v} == {}


def test_the_checker_finds_a_planted_violation(
    world: tuple[LiveServer, dict[str, int]], browser: Browser
) -> None:
    server, _ = world
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{server.url}/console/login")
    page.evaluate(
        "document.querySelector('main').append("
        "Object.assign(document.createElement('img'), {src: '/static/console.css'}))"
    )
    assert any(v.startswith("image-alt (critical)") for v in blocking_violations(page))
