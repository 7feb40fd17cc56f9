"""Take the console screenshots with the system Chromium (light and dark, desktop and phone).

    .venv/bin/python -m tests.web.screenshots                      # into a new temporary folder
    .venv/bin/python -m tests.web.screenshots --out docs/screenshots  # update the documented ones

Without `--out` the files go to a fresh folder outside the source tree (printed), so a trial run
never changes tracked files. Serves the real app on a throwaway home seeded with benign stand-in
data (scikit-image sample photos as "evidence", invented accounts), then photographs the pages.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import Page
from skimage import data

from safestream.core.reports import (
    IpEvent,
    LiveStream,
    LocationHint,
    MatchedEntry,
    MediaFile,
    MediaHash,
    Payment,
    Platform,
    ReportedAccount,
    Reporter,
    ReportIn,
    ReportSource,
    Viewer,
)
from safestream.store.access import add_user, create_org
from safestream.store.banks import BankRepository, NewEntry
from tests.web.conftest import LIGHT_ARGON2, ORG, PASSWORD, email_of, png_base64
from tests.web.live_server import LiveServer, chromium, live_server

VIEWPORT = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def seed(server: LiveServer) -> dict[str, int]:
    """A handful of linked reports; returns the case ids worth photographing."""
    create_org(server.db, ORG, kind="operator")  # the hotline running the installation
    # A report's match counts only when SafeStream's own bank holds the entry.
    BankRepository(server.db).create("ncmec-industry")
    [known] = BankRepository(server.db).add_entries("ncmec-industry", [NewEntry("pdq", "ab" * 32)])
    for role in ("reviewer", "child_safety_reviewer", "auditor", "admin"):
        add_user(
            server.db, email_of(role), org=ORG, role=role, password=PASSWORD, hasher=LIGHT_ARGON2
        )
    host = ReportedAccount(
        platform="examplecall",
        id="host-5512",
        name="sunny_room",
        ip_events=[IpEvent(ip="203.0.113.45", event="stream")],
    )
    stream = LiveStream(
        stream_id="call-2041",
        private=True,
        viewers=[
            Viewer(account_id="viewer-9", country="AU"),
            Viewer(account_id="viewer-12", country="GB"),
        ],
        payments=[
            Payment(
                payer_account="viewer-9", payment_account="payee-ph-7731", amount=40, currency="USD"
            )
        ],
    )
    panic = ReportIn(
        source=ReportSource.PANIC_BUTTON,
        live_stream=LiveStream(stream_id="call-2041"),
        description="A viewer says a child on this call is at risk.\n\nChild in danger now: yes",
        child_in_danger=True,
        evidence_hold=True,
    )
    platform = ReportIn(
        source=ReportSource.PLATFORM,
        platform=Platform(name="ExampleCall", country="US"),
        reporter=Reporter(organisation="ExampleCall Trust & Safety"),
        reported_accounts=[host],
        live_stream=stream,
        description="Private paid stream flagged by our moderators.",
        location_hints=[LocationHint(country="PH", city="Cebu", source="ip")],
        media=[
            MediaFile(
                filename="frame-0001.png",
                content_type="image/png",
                data_base64=png_base64(data.chelsea()),
            )
        ],
        evidence_hold=True,
    )
    payment = ReportIn(
        source=ReportSource.TIP,
        payment_accounts=["payee-ph-7731"],
        description="Payment account seen paying for other private streams.",
        reported_accounts=[ReportedAccount(platform="examplecall", id="host-8820")],
    )
    matched = ReportIn(
        source=ReportSource.PLATFORM,
        platform=Platform(name="ExampleCall", country="US"),
        reported_accounts=[
            ReportedAccount(
                platform="examplecall", id="uploader-311", email="uploader311@example.net"
            )
        ],
        media_hashes=[MediaHash(signal_type="pdq", value="ab" * 32)],
        matches=[
            MatchedEntry(
                bank="ncmec-industry",
                entry_id=known,
                signal_type="pdq",
                value="ab" * 32,
                distance=6,
                label="A1",
                verified=True,
            )
        ],
        media=[
            MediaFile(
                filename="upload.png",
                content_type="image/png",
                data_base64=png_base64(data.coffee()),
            )
        ],
        evidence_hold=True,
        description="Upload matched a verified hash list.",
    )
    calm = ReportIn(
        source=ReportSource.PLATFORM,
        platform=Platform(name="ExampleCall", country="GB"),
        reported_accounts=[ReportedAccount(platform="examplecall", id="user-7")],
        description="User asked a teenager for their age and school.",
        incident_type="online_enticement",
    )
    paid = ReportIn(
        source=ReportSource.PLATFORM,
        platform=Platform(name="ExampleCall", country="AU"),
        reported_accounts=[ReportedAccount(platform="examplecall", id="host-9034")],
        live_stream=LiveStream(
            stream_id="call-1877",
            private=True,
            payments=[
                Payment(
                    payer_account="viewer-41",
                    payment_account="payee-th-220",
                    amount=25,
                    currency="USD",
                )
            ],
        ),
        description="Viewers tipping in a private stream with a young-looking host.",
        location_hints=[LocationHint(country="TH", source="ip")],
    )
    server.file(ORG, calm)
    server.file(ORG, paid)
    live_case = server.file(ORG, panic)
    server.file(ORG, platform)
    server.file(ORG, payment)
    matched_case = server.file(ORG, matched)
    return {"live": live_case, "matched": matched_case}


def log_in(page: Page, server: LiveServer, role: str) -> None:
    """Log in through the form."""
    page.goto(f"{server.url}/console/login")
    page.fill("#email", email_of(role))
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/**")


def take(out: Path) -> list[Path]:
    """Serve, seed and photograph; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp) / "home") as server:
        cases = seed(server)
        with chromium() as browser:
            page = browser.new_page(viewport=VIEWPORT)

            def shot(name: str, full_page: bool = False) -> None:
                path = out / f"{name}.png"
                page.screenshot(path=str(path), full_page=full_page)
                written.append(path)

            page.goto(f"{server.url}/console/login")
            page.fill("#email", email_of("child_safety_reviewer"))
            shot("login")
            log_in(page, server, "child_safety_reviewer")
            page.goto(f"{server.url}/console/queue?q=review")
            shot("queue")
            page.goto(f"{server.url}/console/cases/{cases['live']}")
            page.wait_for_load_state("networkidle")
            shot("case", full_page=True)
            page.goto(f"{server.url}/console/cases/{cases['matched']}#evidence")
            page.locator("#evidence").scroll_into_view_if_needed()
            shot("case-hash-first")
            page.goto(f"{server.url}/console/cases/{cases['live']}#evidence")
            page.get_by_role("button", name="Open file").first.click()
            page.wait_for_load_state("networkidle")
            shot("media-blurred")
            page.goto(f"{server.url}/console/preferences")
            shot("wellbeing")

            page.goto(f"{server.url}/console/queue?status=any&search=private+stream")
            shot("search")
            page.goto(f"{server.url}/console/cases/{cases['live']}")
            page.locator("figure.graph").screenshot(path=str(out / "graph.png"))
            written.append(out / "graph.png")
            page.goto(f"{server.url}/console/queue")
            for box in page.locator("input[name=case]").all()[:2]:
                box.check()
            page.get_by_role("button", name="Review and confirm").click()
            page.wait_for_load_state("networkidle")
            shot("bulk-confirm")

            page.emulate_media(color_scheme="dark")
            page.goto(f"{server.url}/console/queue")
            shot("queue-dark")
            page.goto(f"{server.url}/console/cases/{cases['live']}")
            shot("case-dark")
            page.locator("figure.graph").screenshot(path=str(out / "graph-dark.png"))
            written.append(out / "graph-dark.png")
            page.goto(f"{server.url}/console/queue?status=any&search=private+stream")
            shot("search-dark")
            page.emulate_media(color_scheme="light")

            phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
            log_in(phone, server, "reviewer")
            phone.goto(f"{server.url}/console/queue")
            path = out / "queue-phone.png"
            phone.screenshot(path=str(path), full_page=True)
            written.append(path)
            phone.goto(f"{server.url}/console/cases/{cases['live']}")
            path = out / "case-phone.png"
            phone.screenshot(path=str(path))
            written.append(path)
            path = out / "graph-phone.png"
            phone.locator("figure.graph").screenshot(path=str(path))
            written.append(path)
            phone.goto(f"{server.url}/console/queue?status=any&search=private+stream")
            path = out / "search-phone.png"
            phone.screenshot(path=str(path), full_page=True)
            written.append(path)
            phone.close()

            call = browser.new_page(viewport=VIEWPORT)
            call.goto(server.call_page(ORG, "call-3090"))
            call.wait_for_timeout(300)
            path = out / "panic-button.png"
            call.screenshot(path=str(path))
            written.append(path)
            call.get_by_role("button", name="Report abuse").click()
            dialog = call.get_by_role("dialog")
            dialog.get_by_label("What is happening?").fill(
                "An adult on this call is asking a child to take off their clothes."
            )
            dialog.get_by_label("Yes").check()
            path = out / "panic-form.png"
            call.screenshot(path=str(path))
            written.append(path)
            dialog.get_by_role("button", name="Send report").click()
            dialog.get_by_role("status").filter(has_text="sent").wait_for()
            path = out / "panic-sent.png"
            call.screenshot(path=str(path))
            written.append(path)

            log_in(page, server, "auditor")
            page.goto(f"{server.url}/console/audit")
            shot("audit")
            log_in(page, server, "admin")
            page.goto(f"{server.url}/console/banks")
            shot("banks")
    return written


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots and list them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, help="folder to write into (default: a new temporary folder)"
    )
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="safestream-screenshots-"))
    for path in take(out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
