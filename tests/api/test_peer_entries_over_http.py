"""A peer's entry that floods stops matching over every HTTP route, not only exact lookups.

The entry reaches the server's banks through a pull (`x.<peer>.<collection>`); flood
prevention counts the distinct hashes and files it matches, whichever route asked.
"""

from __future__ import annotations

from sqlalchemy import select

from safestream.core.shared_signals import SharedSignal, SignalKind
from safestream.exchange.bank_sync import sync_peer_banks
from safestream.exchange.identity import Identity
from safestream.media.hashing import hash_image
from safestream.store.exchange.peers import PeerRegistry
from safestream.store.exchange.shared_signals import SignalStore
from safestream.store.exchange.signal_entries import SignalEntries
from safestream.store.models.exchange import SharedSignalRow
from safestream.store.reports import ReportRepository
from tests.api.media_fixtures import MediaApi, jpeg, report_with_attachment

LIMIT = 2


def _peer_lists(api: MediaApi, pdq: str) -> int:
    """A peer's entry for `pdq`, synced into the server's banks; its signal id."""
    db = api.app.state.db
    peer = Identity.generate()
    PeerRegistry(db).add("peer", "http://peer.test", peer.public_text, flood_limit=LIMIT)
    SignalStore(db).apply(
        peer.key_id, [SharedSignal(SignalKind.PDQ, pdq, label="a1", seq=1, collection="c")], 1
    )
    sync_peer_banks(db, "peer", peer.key_id)
    api.app.state.media.changed()
    with db.session() as s:
        return int(s.scalar(select(SharedSignalRow.id)) or 0)


def _near(pdq: str, n: int) -> str:
    return pdq[:-1] + format(int(pdq[-1], 16) ^ n, "x")


def test_a_flooding_peer_entry_stops_matching_on_every_route(media_api: MediaApi) -> None:
    data = jpeg("coffee")
    pdq = hash_image(data).pdq
    signal_id = _peer_lists(media_api, pdq)
    client, headers = media_api.client, media_api.platform
    for n in range(LIMIT):  # two distinct hashes: within the limit
        found = client.get("/v1/lookup", params={"pdq": _near(pdq, n)}, headers=headers).json()
        assert [m["bank"] for m in found["matches"]] == ["x.peer.c"]
    raw = {"signal_type": "pdq", "signal": _near(pdq, LIMIT)}  # the fast path trips it
    assert client.get("/m/raw_lookup", params=raw, headers=headers).json() == {"matches": []}
    # Quarantined now: nothing on any route, for the same hashes or the file.
    query = {"signal_type": "pdq", "signal": pdq}
    assert client.get("/m/raw_lookup", params=query, headers=headers).json() == {"matches": []}
    assert client.get("/m/lookup", params=query, headers=headers).json() == {}
    assert client.get("/v1/lookup", params={"pdq": pdq}, headers=headers).json()["matches"] == []
    files = {"file": ("u.jpg", data, "image/jpeg")}
    assert client.post("/v1/match", files=files, headers=headers).json()["matches"] == []
    answer = client.post("/v1/reports", json=report_with_attachment(data), headers=headers)
    stored = ReportRepository(media_api.app.state.db).get(answer.json()["id"])
    assert stored.body.matches == []
    # A reviewer confirms it: it matches again, uncounted.
    SignalEntries(media_api.app.state.db).give_feedback(signal_id, "confirm", actor="rev")
    assert client.get("/m/raw_lookup", params=query, headers=headers).json()["matches"]
    assert client.post("/v1/match", files=files, headers=headers).json()["matches"]


def test_local_entries_answer_raw_lookups_without_asking_the_screen(media_api: MediaApi) -> None:
    pdq = hash_image(jpeg("rocket")).pdq
    curator = media_api.curator
    media_api.client.post("/v1/banks", json={"name": "known"}, headers=curator)
    media_api.client.post(
        "/v1/banks/known/entries", json={"entries": [{"hash": pdq}]}, headers=curator
    )
    query = {"signal_type": "pdq", "signal": pdq}
    for _ in range(2):
        got = media_api.client.get("/m/raw_lookup", params=query, headers=media_api.platform)
        assert len(got.json()["matches"]) == 1
    service = media_api.app.state.media
    found, seq = service.raw_index_hits([pdq], 31)
    assert service.known_local(found, seq)
