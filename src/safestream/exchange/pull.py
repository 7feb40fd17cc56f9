"""Pulling a peer's changes: page by page from its checkpoint, each page verified then applied.

The checkpoint is stored with the entries of each page, so an interrupted pull (network, crash,
SIGTERM) resumes at the first page not applied, and a pull with nothing new costs one request.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from safestream.core.errors import ExchangeError
from safestream.exchange.api import signed_headers
from safestream.exchange.bundle import verify_bundle
from safestream.exchange.identity import Identity
from safestream.store.database import Database
from safestream.store.exchange.peers import PeerRegistry
from safestream.store.exchange.shared_signals import SignalStore

PAGE = 50_000
TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class PullResult:
    """What one pull did."""

    peer: str
    pages: int
    entries: int
    checkpoint: int


def pull(
    db: Database,
    identity: Identity,
    peer_name: str,
    *,
    http: httpx.Client | None = None,
    page: int = PAGE,
) -> PullResult:
    """Fetch and apply everything a peer changed since our checkpoint.

    The next page is requested as soon as a page's signed header names where it ends, so the
    peer builds it while this side applies the current one; pages are still applied in order,
    each with its checkpoint, and a page fetched but not applied is simply fetched again."""
    registry = PeerRegistry(db)
    store = SignalStore(db)
    peer = registry.get(peer_name)
    client = http or httpx.Client(timeout=TIMEOUT_SECONDS)
    checkpoint, pages, entries = peer.checkpoint, 0, 0
    keys = {peer.key_id: peer.verifier}
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="exchange-prefetch") as prefetch:
            pending = prefetch.submit(
                _fetch, client, identity, peer.url, peer_name, checkpoint, page
            )
            while True:
                header, body = verify_bundle(pending.result(), keys)
                if header.after != checkpoint:
                    raise ExchangeError(
                        f"peer {peer_name} answered from {header.after}, asked {checkpoint}"
                    )
                if header.more:
                    pending = prefetch.submit(
                        _fetch, client, identity, peer.url, peer_name, header.checkpoint, page
                    )
                entries += store.apply_bundle(peer.key_id, header, body)
                checkpoint, pages = header.checkpoint, pages + 1
                if not header.more:
                    break
    except ExchangeError as exc:
        registry.record_error(peer_name, str(exc))
        raise
    finally:
        if http is None:
            client.close()
    return PullResult(peer_name, pages, entries, checkpoint)


def _fetch(
    client: httpx.Client, identity: Identity, url: str, peer_name: str, after: int, page: int
) -> bytes:
    target = f"/exchange/v1/changes?after={after}&limit={page}"
    try:
        response = client.get(url + target, headers=signed_headers(identity, "GET", target))
    except httpx.HTTPError as exc:
        raise ExchangeError(f"peer {peer_name}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise ExchangeError(f"peer {peer_name}: HTTP {response.status_code} {response.text[:200]}")
    return response.content
