"""The exchange API one installation serves and others pull from.

    GET /exchange/v1/identity                  this installation's key id and public key
    GET /exchange/v1/changes?after=N&limit=M   a signed bundle of the caller's granted
                                               collections' changes after change N

A caller proves who it is by signing `METHOD\\nPATH?QUERY\\nTIME\\nKEYID` with its Ed25519 key
(headers X-SafeStream-Key, -Time, -Signature); only registered peers are answered, only with
the collections granted to them, and a signature older than five minutes is refused.
"""

from __future__ import annotations

import base64
import time
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, HTTPException, Query, Request, Response

from safestream.exchange.bundle import MEDIA_TYPE, sign_lines
from safestream.exchange.identity import Identity, verify
from safestream.store.database import Database
from safestream.store.exchange.peers import PeerRegistry
from safestream.store.exchange.shared_signals import SignalStore
from safestream.store.exchange_grants import SharingGrants

MAX_SKEW_SECONDS = 300
MAX_PAGE = 100_000


def request_text(method: str, path_and_query: str, timestamp: str, key: str) -> bytes:
    """What a caller signs."""
    return f"{method.upper()}\n{path_and_query}\n{timestamp}\n{key}".encode()


def signed_headers(identity: Identity, method: str, path_and_query: str) -> dict[str, str]:
    """Headers that prove a request comes from `identity`."""
    stamp = str(int(time.time()))
    signature = identity.sign(request_text(method, path_and_query, stamp, identity.key_id))
    return {
        "X-SafeStream-Key": identity.key_id,
        "X-SafeStream-Time": stamp,
        "X-SafeStream-Signature": base64.b64encode(signature).decode(),
    }


def exchange_router(db: Database, identity: Identity) -> APIRouter:
    """The exchange routes over one store and identity."""
    # Kept out of the OpenAPI document: callers are peers with keys, not API-key clients.
    router = APIRouter(prefix="/exchange/v1", include_in_schema=False)
    peers = PeerRegistry(db)
    store = SignalStore(db)
    grants = SharingGrants(db)

    def caller(request: Request, key: str, stamp: str, signature: str) -> str:
        peer = peers.by_key(key) if key else None
        if peer is None or not peer.enabled:
            raise HTTPException(403, "unknown or disabled peer")
        try:
            skew = abs(time.time() - int(stamp))
            raw = base64.b64decode(signature, validate=True)
        except ValueError as exc:
            raise HTTPException(401, "malformed signature headers") from exc
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if skew > MAX_SKEW_SECONDS or not verify(
            peer.verifier, raw, request_text(request.method, target, stamp, key)
        ):
            raise HTTPException(401, "request signature does not verify")
        return key

    @router.get("/identity")
    def who() -> dict[str, str]:
        return {"key_id": identity.key_id, "public_key": identity.public_text}

    @router.get("/changes")
    def changes(
        request: Request,
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50_000,
        x_safestream_key: Annotated[str, Header()] = "",
        x_safestream_time: Annotated[str, Header()] = "0",
        x_safestream_signature: Annotated[str, Header()] = "",
    ) -> Response:
        key = caller(request, x_safestream_key, x_safestream_time, x_safestream_signature)
        collections = grants.served(key)
        lines, checkpoint, more = store.change_lines(after, limit, collections)
        body = sign_lines(identity, lines, after=after, checkpoint=checkpoint, more=more)
        return Response(body, media_type=MEDIA_TYPE)

    return router


def exchange_app(db: Database, identity: Identity) -> FastAPI:
    """A stand-alone app serving only the exchange (tests, benchmarks, a sharing-only node)."""
    app = FastAPI(title="SafeStream exchange", docs_url=None, redoc_url=None)
    app.include_router(exchange_router(db, identity))
    return app
