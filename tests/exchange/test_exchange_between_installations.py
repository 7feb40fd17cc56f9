"""Two SafeStream installations started by the test exchange signed signals over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from safestream.core.errors import ExchangeError
from safestream.core.principal import Principal
from safestream.core.shared_signals import NewSignal
from safestream.exchange.api import exchange_app
from safestream.exchange.identity import Identity
from safestream.exchange.pull import pull
from safestream.exchange.safety import SignalScreen
from safestream.store import Database
from safestream.store.exchange.peers import PeerRegistry
from safestream.store.exchange.shared_signals import SignalStore
from safestream.store.exchange_grants import SharingGrants
from tests.reports.ncmec_server import free_port

INSTALLATION = Principal.system("cli")
PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"


@dataclass
class Installation:
    name: str
    db: Database
    identity: Identity
    url: str
    server: uvicorn.Server

    @property
    def signals(self) -> SignalStore:
        return SignalStore(self.db)

    @property
    def peers(self) -> PeerRegistry:
        return PeerRegistry(self.db)

    # The command line acts as the installation: these collections are the installation's.
    def publish(self, collection: str, signals: list[NewSignal]) -> None:
        self.signals.publish(collection, signals, principal=INSTALLATION)

    def withdraw(self, collection: str, kind: str, value: str) -> None:
        self.signals.withdraw(collection, kind, value, principal=INSTALLATION)

    def grant(self, collection: str, peer: str) -> None:
        SharingGrants(self.db).grant(INSTALLATION, collection, peer)


def _start(name: str, home: Path) -> Installation:
    home.mkdir(parents=True)
    db = Database(f"sqlite:///{home / 'store.db'}")
    db.migrate()
    identity = Identity.load_or_create(home)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(exchange_app(db, identity), host="127.0.0.1", port=port, log_level="error")
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return Installation(name, db, identity, f"http://127.0.0.1:{port}", server)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Installation, Installation]]:
    hotline = _start("hotline", tmp_path / "hotline")
    platform = _start("platform", tmp_path / "platform")
    # Each registers the other by public key; the hotline lets the platform pull one collection.
    hotline.peers.add("platform", platform.url, platform.identity.public_text)
    platform.peers.add("hotline", hotline.url, hotline.identity.public_text)
    hotline.grant("ph-hotline", "platform")
    yield hotline, platform
    for inst in (hotline, platform):
        inst.server.should_exit = True
        inst.db.dispose()


def _publish_sample(hotline: Installation) -> None:
    hotline.publish(
        "ph-hotline",
        [
            NewSignal("pdq", PDQ, label="prepubescent_penetrative", source="hotline analyst"),
            NewSignal("account", "DemoCall:broadcaster-17", label="unclassified", tags=("osec",)),
            NewSignal("url", "HTTP://Stream.Example/room/4821#x", tags=("live",)),
            NewSignal("keyword", "ＣＡＭ show"),
        ],
    )
    hotline.publish("internal-only", [NewSignal("md5", "a" * 32)])


def test_a_pull_brings_the_granted_collection_and_nothing_else(
    pair: tuple[Installation, Installation],
) -> None:
    hotline, platform = pair
    _publish_sample(hotline)
    result = pull(platform.db, platform.identity, "hotline")
    assert result.entries == 4
    got = platform.signals.entries(hotline.identity.key_id)
    assert {(s.kind.value, s.value) for s in got} == {
        ("pdq", PDQ),
        ("account", "democall:broadcaster-17"),
        ("url", "http://stream.example/room/4821"),
        ("keyword", "cam show"),
    }
    assert all(s.collection == "ph-hotline" for s in got)
    assert next(s for s in got if s.kind.value == "pdq").label == "prepubescent_penetrative"


def test_each_installation_sees_matches_on_the_others_signals(
    pair: tuple[Installation, Installation],
) -> None:
    hotline, platform = pair
    _publish_sample(hotline)
    platform.publish("platform-finds", [NewSignal("account", "DemoCall:viewer-3")])
    platform.grant("platform-finds", "hotline")
    pull(platform.db, platform.identity, "hotline")
    pull(hotline.db, hotline.identity, "platform")
    on_platform = SignalScreen(platform.db).lookup("url", "stream.example/room/4821", "upload-1")
    assert [m.publisher for m in on_platform.matches] == [hotline.identity.key_id]
    on_hotline = SignalScreen(hotline.db).lookup("account", "democall:viewer-3", "report-9")
    assert [m.publisher for m in on_hotline.matches] == [platform.identity.key_id]


def test_an_incremental_pull_brings_only_changes_and_withdrawals(
    pair: tuple[Installation, Installation],
) -> None:
    hotline, platform = pair
    _publish_sample(hotline)
    pull(platform.db, platform.identity, "hotline")
    hotline.withdraw("ph-hotline", "url", "http://stream.example/room/4821")
    hotline.publish("ph-hotline", [NewSignal("sha256", "b" * 64)])
    again = pull(platform.db, platform.identity, "hotline")
    assert (again.pages, again.entries) == (1, 2)
    assert platform.signals.count(hotline.identity.key_id) == 4
    screen = SignalScreen(platform.db)
    assert screen.lookup("url", "http://stream.example/room/4821", "u").matches == []
    nothing = pull(platform.db, platform.identity, "hotline")
    assert nothing.entries == 0


def test_an_interrupted_pull_resumes_from_its_checkpoint(
    pair: tuple[Installation, Installation],
) -> None:
    hotline, platform = pair
    hotline.publish("ph-hotline", [NewSignal("keyword", f"word {i}") for i in range(10)])
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 3:
            raise httpx.ConnectError("cable pulled")
        return httpx.Client().send(request)

    with pytest.raises(ExchangeError, match="cable pulled"):
        pull(platform.db, platform.identity, "hotline", page=3,
             http=httpx.Client(transport=httpx.MockTransport(flaky)))  # fmt: skip
    assert platform.signals.count(hotline.identity.key_id) == 6
    assert "cable pulled" in platform.peers.get("hotline").last_error
    resumed = pull(platform.db, platform.identity, "hotline", page=3)
    assert resumed.entries == 4
    assert platform.signals.count(hotline.identity.key_id) == 10


def test_an_unregistered_installation_is_refused(
    pair: tuple[Installation, Installation], tmp_path: Path
) -> None:
    hotline, _ = pair
    stranger = Database(f"sqlite:///{tmp_path / 'stranger.db'}")
    stranger.migrate()
    PeerRegistry(stranger).add("hotline", hotline.url, hotline.identity.public_text)
    with pytest.raises(ExchangeError, match="403"):
        pull(stranger, Identity.generate(), "hotline")
    stranger.dispose()


def _photo(mirror: bool = False) -> bytes:
    import io

    from PIL import Image, ImageOps
    from skimage import data

    image = Image.fromarray(data.astronaut())
    if mirror:
        image = ImageOps.mirror(image)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80 if mirror else 95)
    return out.getvalue()


def test_a_peers_hash_finds_near_copies_through_the_media_matcher(
    pair: tuple[Installation, Installation], tmp_path: Path
) -> None:
    from datetime import timedelta

    from safestream.exchange.bank_sync import sync_peer_banks
    from safestream.media.bank_index import BankIndex
    from safestream.media.hashing import hash_image
    from safestream.media.matching import Matcher
    from safestream.media.recent_seen import RecentlySeen
    from safestream.store.banks import BankRepository

    hotline, platform = pair
    # The platform saw a recompressed copy before anyone listed the photo.
    seen = RecentlySeen(timedelta(days=30))
    copy = hash_image(_photo(mirror=True), dihedral=True)
    seen.observe("upload:77", list((copy.dihedral or {}).values()))
    known = hash_image(_photo()).pdq
    hotline.publish("ph-hotline", [NewSignal("pdq", known, label="a2")])
    pull(platform.db, platform.identity, "hotline")
    synced = sync_peer_banks(platform.db, "hotline", hotline.identity.key_id)
    assert synced.banks == ("x.hotline.ph-hotline",) and synced.added == 1
    retro = seen.match_new_entries([(e.id, e.value) for e in synced.new_pdq])
    assert {m.item for m in retro} == {"upload:77"}
    banks = BankRepository(platform.db)
    matcher = Matcher(banks, BankIndex.open(banks, tmp_path / "index"))
    _, found = matcher.match_image(_photo(mirror=True))
    assert [m.bank for m in found] == ["x.hotline.ph-hotline"]

    hotline.withdraw("ph-hotline", "pdq", known)
    pull(platform.db, platform.identity, "hotline")
    assert sync_peer_banks(platform.db, "hotline", hotline.identity.key_id).removed == 1
    matcher = Matcher(banks, BankIndex.open(banks, tmp_path / "index"))
    assert matcher.match_image(_photo(mirror=True))[1] == []
