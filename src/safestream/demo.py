"""`make demo`: SafeStream's main job on the embedded defaults, with benign stand-ins only.

1. writes benign media into the demo home: "known" photos (a cat, a rocket, an astronaut, coffee
   from scikit-image), altered copies of them (mirrored, pillarboxed, recompressed), an unrelated
   photo, a colour-bar test card and a short clip that shows the rocket for a few seconds;
2. banks the known photos and the test card (as a negative bank, an allowlist);
3. matches the altered copies, the unrelated photo and the clip, and prints what matched;
4. seeds the review console (reports from the panic button and from a live-stream match, linked
   into cases) and serves it on http://127.0.0.1:8000/console (or $PORT; a free port when that
   one is taken, printed) with a printed demo login.

    python -m safestream.demo [--no-serve] [--port 8000]      PORT=9000 make demo
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from PIL import Image, ImageOps
from rich.console import Console
from rich.table import Table

from safestream.core.banks import Match
from safestream.core.config import Settings
from safestream.media.bank_index import BankIndex
from safestream.media.file_hashes import entries_from_media
from safestream.media.matching import Matcher
from safestream.media.synthetic import sample_photo
from safestream.store import Database
from safestream.store.banks import BankRepository

console = Console()


@dataclass(frozen=True)
class DemoMedia:
    """Where the demo wrote its benign media."""

    known: Path
    testcards: Path
    queries: Path


def colour_bars(width: int = 640, height: int = 360) -> np.ndarray:
    """A colour-bar test card, the kind of benign frame a negative bank exists for."""
    colours = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192),
               (192, 0, 0), (0, 0, 192)]  # fmt: skip
    card = np.zeros((height, width, 3), dtype=np.uint8)
    for i, colour in enumerate(colours):
        card[: height * 3 // 4, i * width // 7 : (i + 1) * width // 7] = colour
    ramp = np.linspace(0, 255, width, dtype=np.uint8)
    card[height * 3 // 4 :] = ramp[None, :, None]
    return card


def write_media(root: Path) -> DemoMedia:
    """Write the demo's benign known photos, test card and query files."""
    known, cards, queries = root / "known", root / "testcards", root / "queries"
    for folder in (known, cards, queries):
        folder.mkdir(parents=True, exist_ok=True)
    cat, rocket = Image.fromarray(sample_photo("chelsea")), Image.fromarray(sample_photo("rocket"))
    astronaut, coffee = (
        Image.fromarray(sample_photo("astronaut")),
        Image.fromarray(sample_photo("coffee")),
    )
    cat.save(known / "cat.jpg", quality=95)
    rocket.save(known / "rocket.png")
    astronaut.save(known / "astronaut.jpg", quality=95)
    coffee.save(known / "coffee.webp", quality=90)
    Image.fromarray(colour_bars()).save(cards / "colour-bars.png")

    ImageOps.mirror(cat).save(queries / "cat-mirrored.jpg", quality=70)
    framed = Image.new("RGB", (rocket.height * 16 // 9, rocket.height))
    framed.paste(rocket, ((framed.width - rocket.width) // 2, 0))
    framed.save(queries / "rocket-pillarboxed.jpg", quality=85)
    astronaut.save(queries / "astronaut-q20.jpg", quality=20)
    Image.fromarray(sample_photo("camera")).save(queries / "unrelated-camera.jpg", quality=90)
    Image.fromarray(colour_bars(1280, 720)).save(queries / "test-card-on-stream.jpg", quality=80)
    clip = queries / "stream-recording.mp4"
    if not clip.exists():
        write_stream_recording(clip, rocket)
    return DemoMedia(known, cards, queries)


def write_stream_recording(path: Path, shown: Image.Image, fps: int = 25) -> None:
    """A 6 s 640x360 H.264 clip: a drifting gradient, `shown` letterboxed for 2 s, gradient."""
    import av

    still = ImageOps.pad(shown, (640, 360), color=(0, 0, 0))
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        y, x = np.mgrid[0:360, 0:640]
        for i in range(6 * fps):
            if 2 * fps <= i < 4 * fps:
                image = still
            else:
                phase = i / fps
                r = (127 + 120 * np.sin(x / 60 + phase)).astype(np.uint8)
                g = (127 + 120 * np.cos(y / 45 - phase)).astype(np.uint8)
                b = ((x + y + 8 * i) % 256).astype(np.uint8)
                image = Image.fromarray(np.dstack([r, g, b]))
            frame = av.VideoFrame.from_ndarray(np.asarray(image.convert("RGB")), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def bank_media(banks: BankRepository, media: DemoMedia) -> None:
    """Bank the known photos and the test card, as `safestream bank add` would."""
    existing = {b.name for b in banks.list_banks()}
    if "known-demo" not in existing:
        banks.create("known-demo", source="SafeStream demo (benign stand-ins)")
        for path in sorted(media.known.iterdir()):
            entries = entries_from_media(path, label="unclassified", source="demo", note=path.name)
            banks.add_entries("known-demo", entries.entries)
    if "testcards" not in existing:
        banks.create("testcards", negative=True, source="SafeStream demo")
        for path in sorted(media.testcards.iterdir()):
            entries = entries_from_media(path, label="benign", source="demo", note=path.name)
            banks.add_entries("testcards", entries.entries)


def match_queries(matcher: Matcher, media: DemoMedia) -> list[tuple[str, Match]]:
    """Match every query file and return (file name, match) pairs."""
    found: list[tuple[str, Match]] = []
    for path in sorted(media.queries.iterdir()):
        if path.suffix == ".mp4":
            result = matcher.match_video(path)
            found += [(path.name, m) for m in result.matches]
        else:
            _, matches = matcher.match_image(path)
            found += [(path.name, m) for m in matches]
            if not matches:
                console.print(f"  [dim]{path.name}: no match[/dim]")
    return found


def print_matches(found: list[tuple[str, Match]]) -> None:
    """Show matches as a table."""
    table = Table(title="Matches against the demo banks")
    for column in ("file", "bank", "entry", "distance", "variant", "t (s)"):
        table.add_column(column)
    for name, m in found:
        t = "" if m.t is None else f"{m.t:.1f}"
        table.add_row(name, m.bank, str(m.entry_id), str(m.distance), m.variant, t)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    """Run the demo: bank, match, seed the console and serve it."""
    parser = argparse.ArgumentParser(description="SafeStream demo on benign stand-ins")
    parser.add_argument("--no-serve", action="store_true", help="stop after matching and seeding")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "8000")),
        help="port of the console (default: $PORT, else 8000; a free one if it is taken)",
    )
    args = parser.parse_args(argv)

    # The demo keeps its state under ./.demo unless SAFESTREAM_HOME (or the TOML file) says else.
    settings = Settings.load({"SAFESTREAM_HOME": str(Path.cwd() / ".demo"), **os.environ})
    settings.ensure_home()
    console.print(f"[bold]SafeStream demo[/bold]  home: {settings.home}")
    db = Database.from_settings(settings)
    db.migrate()
    banks = BankRepository(db)

    media = write_media(settings.home / "demo-media")
    bank_media(banks, media)
    for bank in banks.list_banks():
        kind = "negative (allowlist)" if bank.negative else "known"
        console.print(f"  bank [bold]{bank.name}[/bold]: {bank.entry_count} entries, {kind}")
    index = BankIndex.open(banks, settings.pdq_index_dir)
    found = match_queries(Matcher(banks, index), media)
    print_matches(found)

    login = seed_console(settings, db, found)
    console.print(f"  review console login: [bold]{login}[/bold]")
    if args.no_serve:
        return 0
    listener = listening_socket(args.host, args.port)
    port = listener.getsockname()[1]
    if port != args.port:
        console.print(f"  [yellow]port {args.port} is taken; using {port}[/yellow]")
    key = demo_panic_key(db, args.host, port)
    call = f"http://{args.host}:{port}/demo/call?stream=call-4821&key={quote(key)}"
    console.print(f"  panic-button demo call: {call}")
    return _serve(settings.with_changes(demo_mode=True), args.host, listener)


def demo_panic_key(db: Database, host: str, port: int) -> str:
    """A panic key of the demo organisation for this server's pages and the demo's `call-`
    streams; the keys of earlier runs (other ports) are revoked."""
    from safestream.store.panic_keys import issue_panic_key, list_panic_keys, revoke_panic_key

    for earlier in list_panic_keys(db, DEMO_ORG):
        if earlier.revoked_at is None:
            revoke_panic_key(db, earlier.id)
    origins = [f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"]
    if host in ("127.0.0.1", "::1"):
        origins.append(f"http://localhost:{port}")
    return issue_panic_key(db, DEMO_ORG, origins=origins, stream_prefix="call-").key


DEMO_EMAIL = "reviewer@demo.safestream.test"
DEMO_PASSWORD = "demo-reviewer-password"
DEMO_ORG = "Demo Video Calls"


def _file_live_match(
    db: Database,
    settings: Settings,
    account: dict[str, Any],
    stream: dict[str, Any],
    found: list[tuple[str, Match]],
) -> None:
    """File what the live monitor would: the stream flagged and its clip's bank matches."""
    from safestream.core.events import Event, MatchFound, StreamFlagged
    from safestream.core.reports import ReportIn
    from safestream.core.signals import SignalType
    from safestream.reports.intake import DetectorSink
    from safestream.store.base import utcnow

    clips = [m for name, m in found if name.endswith(".mp4")][:3]
    now = utcnow()
    detected: list[Event] = [
        StreamFlagged(at=now, stream_id="call-4821", reason="frames matched a known bank",
                      live_now=True)
    ]  # fmt: skip
    detected += [
        MatchFound(at=now, bank=m.bank, entry_id=m.entry_id, signal_type=SignalType.PDQ,
                   entry_hash=m.entry_hash, distance=m.distance, label=m.label, verified=True,
                   stream_id="call-4821", t=m.t)
        for m in clips
    ]  # fmt: skip
    clip_matches = [
        {"bank": m.bank, "entry_id": m.entry_id, "signal_type": "pdq", "value": m.entry_hash,
         "distance": m.distance, "label": m.label.value, "t": m.t}
        for m in clips
    ]  # fmt: skip
    DetectorSink(db, detector="live", settings=settings).emit(
        ReportIn.model_validate({
            "reported_accounts": [account], "live_stream": stream, "matches": clip_matches,
            "description": "Live monitor: frames of a private call matched the known-demo bank.",
            "location_hints": [{"country": "PH", "source": "ip"}],
            "idempotency_key": "demo-live-match",
        }),
        detected,
    )  # fmt: skip


def seed_console(settings: Settings, db: Database, found: list[tuple[str, Match]]) -> str:
    """Seed a reviewer and four reports (live-stream match, panic button, payment flag, tip)."""
    from safestream.cases.engine import CaseEngine
    from safestream.core.errors import Conflict
    from safestream.core.reports import ReportIn, ReportSource
    from safestream.reports.intake import IntakeService
    from safestream.store.access import add_user, ensure_org, set_org_kind
    from safestream.store.reports import ReportRepository

    ensure_org(db, DEMO_ORG)
    # The demo's reviewer works for the hotline that runs the installation (the operator).
    org = set_org_kind(db, DEMO_ORG, "operator")
    try:
        add_user(db, DEMO_EMAIL, org=DEMO_ORG, role="child_safety_reviewer", password=DEMO_PASSWORD)
    except Conflict:
        return f"{DEMO_EMAIL} / {DEMO_PASSWORD}"  # seeded on an earlier run
    account = {"platform": "DemoCall", "id": "broadcaster-17", "name": "broadcaster 17"}
    stream = {
        "stream_id": "call-4821",
        "started_at": "2026-11-29T08:00:00Z",
        "private": True,
        "viewers": [{"account_id": "viewer-3", "country": "AU"}],
        "payments": [{"payer_account": "viewer-3", "payment_account": "wallet-PH-0192",
                      "amount": 25.0, "currency": "USD"}],
    }  # fmt: skip
    _file_live_match(db, settings, account, stream, found)
    intake = IntakeService(db)
    ids = []
    for body in (
        {"source": ReportSource.PANIC_BUTTON, "live_stream": {"stream_id": "call-4821"},
         "child_in_danger": True, "reported_accounts": [account],
         "description": "Viewer pressed Report abuse during the call.",
         "idempotency_key": "demo-panic"},
        {"payment_accounts": ["wallet-PH-0192"], "incident_type": "child_sex_trafficking",
         "description": "Payment flag: frequent small transfers to this wallet from abroad.",
         "location_hints": [{"country": "PH", "source": "platform"}],
         "idempotency_key": "demo-payment"},
        {"source": ReportSource.TIP, "reported_accounts": [
            {"platform": "DemoCall", "id": "user-88", "email": "user88@example.org"}],
         "incident_type": "online_enticement", "description": "Imported tip about another user.",
         "location_hints": [{"country": "GB", "source": "reporter"}],
         "idempotency_key": "demo-tip"},
    ):  # fmt: skip
        ids.append(intake.receive(org, ReportIn.model_validate(body)).report.id)
    CaseEngine.for_settings(db, settings).process(ids)
    pending = ReportRepository(db).pending_ids(100)
    if pending:
        CaseEngine.for_settings(db, settings).process(pending)
    return f"{DEMO_EMAIL} / {DEMO_PASSWORD}"


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `port`, or to a free port when that one is taken.

    Binding here, before uvicorn starts, means the printed address is the one served: asking
    for a free port first and binding it later could lose it to another process.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in (port, 0):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE or candidate == 0:
                raise
            continue
        sock.listen(2048)
        return sock
    raise AssertionError("unreachable: port 0 always binds or raises")


def _serve(settings: Settings, host: str, listener: socket.socket) -> int:
    import uvicorn

    from safestream.api.app import create_app

    port = listener.getsockname()[1]
    url = f"http://{host}:{port}/console"
    console.print(f"  serving the console on [bold]{url}[/bold] (Ctrl-C stops)")
    settings = _local_cybertipline(settings, host)
    config = uvicorn.Config(create_app(settings), log_level="warning")
    uvicorn.Server(config).run(sockets=[listener])
    return 0


def _local_cybertipline(settings: Settings, host: str) -> Settings:
    """Start the local CyberTipline test server, so "Report to NCMEC" works in the demo."""
    import socket
    import threading

    import uvicorn

    from safestream.reports.ncmec_test_server import TestServerState, cybertip_test_app

    if settings.ncmec_test_url or settings.ncmec_environment != "test":
        return settings  # the operator chose a CyberTipline service of their own
    with socket.socket() as sock:
        sock.bind((host, 0))
        port = int(sock.getsockname()[1])
    state = TestServerState(username="demo-esp", password="demo-password")
    server = uvicorn.Server(
        uvicorn.Config(cybertip_test_app(state), host=host, port=port, log_level="warning")
    )
    threading.Thread(target=server.run, name="cybertipline-test", daemon=True).start()
    console.print(f"  local CyberTipline test server: http://{host}:{port}/ispws")
    return settings.with_changes(
        ncmec_test_url=f"http://{host}:{port}/ispws",
        ncmec_test_username=state.username,
        ncmec_test_password=state.password,
    )


if __name__ == "__main__":
    raise SystemExit(main())
