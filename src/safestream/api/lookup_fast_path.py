"""Fast path for the hottest route, `GET /m/raw_lookup` (HMA's hash lookup).

A platform scanning at thousands of lookups per second spent most of a FastAPI request in
routing, dependency injection, a thread hop and the framework's layers, not in the index.
Requests in the common form (`signal_type=pdq`, a well-formed hash, optional
`include_distance`, no bank filter, each parameter once) are answered here with the same body
FastAPI's route gives; anything else (errors, bank filters, unusual spellings) goes on to the
declared route, which stays in OpenAPI.

`RawLookupAnswers` holds the logic. Two callers use it: `RawLookupFastPath`, an ASGI middleware
(any ASGI server, and the tests' client), and `serve`'s HTTP protocol (`lookup_protocol`), which
answers straight from the parsed request without building an ASGI request at all.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from safestream.api.media_service import MediaService, RawHit
from safestream.api.metrics import Metrics
from safestream.core.errors import SafeStreamError
from safestream.core.signals import PDQ_MATCH_MAX_BITS
from safestream.store.access import Organisation
from safestream.store.api_key_cache import MISS, ApiKeyCache

PATH = "/m/raw_lookup"
_HEX = frozenset("0123456789abcdefABCDEF")
# FastAPI's spellings of a bool query parameter; anything else is its 422, so not answered here.
_BOOLS = {"true": True, "1": True, "yes": True, "on": True,
          "false": False, "0": False, "no": False, "off": False}  # fmt: skip
CONTENT_TYPE = (b"content-type", b"application/json")


def plain_query(query_string: bytes) -> tuple[str, bool] | None:
    """(lower-case hash, include_distance) of a lookup in the common form, else None."""
    text = query_string.decode("latin-1")
    if "%" in text or "+" in text:  # escapes: parse_qs's unquoting decides, see below
        return _parsed_query(parse_qs(text))
    params: dict[str, str] = {}
    for pair in text.split("&"):
        name, _, value = pair.partition("=")
        if not value:  # parse_qs drops blank values (and fields without '=')
            continue
        if name in params:
            return None
        params[name] = value
    if params.get("signal_type") != "pdq" or "banks" in params:
        return None
    signal = params.get("signal", "").strip()
    distance = _BOOLS.get(params.get("include_distance", "false").lower())
    if len(signal) != 64 or not _HEX.issuperset(signal) or distance is None:
        return None
    return signal.lower(), distance


def _parsed_query(query: dict[str, list[str]]) -> tuple[str, bool] | None:
    if any(len(values) != 1 for values in query.values()):
        return None
    if query.get("signal_type") != ["pdq"] or "banks" in query:
        return None
    signal = query.get("signal", [""])[0].strip()
    distance = _BOOLS.get(query.get("include_distance", ["false"])[0].lower())
    if len(signal) != 64 or not _HEX.issuperset(signal) or distance is None:
        return None
    return signal.lower(), distance


def bearer_key(authorization: bytes | None) -> str | None:
    """The API key of an `Authorization: Bearer KEY` header value, or None."""
    if authorization is None:
        return None
    scheme, _, key = authorization.decode("latin-1").partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


class RawLookupAnswers:
    """The answer to a plain raw lookup: parsing, the API key check and the body."""

    def __init__(self, service: MediaService, keys: ApiKeyCache, metrics: Metrics):
        self.service = service
        self.keys = keys
        self._latency = metrics.latency.labels(PATH)
        self._answered = metrics.requests.labels("GET", PATH, "200")  # labels() costs a lock

    def answer_now(self, query_string: bytes, authorization: bytes | None) -> bytes | None:
        """The body, if the request is plain and needs no waiting: key cached, index fresh and
        every hit on an entry known to be local (a peer's entry is screened in the store)."""
        started = time.perf_counter()
        plain = plain_query(query_string)
        key = bearer_key(authorization)
        if plain is None or key is None or not self.service.fresh():
            return None
        org = self.keys.cached(key)
        if not isinstance(org, Organisation):  # a miss (ask the store) or a refused key
            return None
        signal, with_distance = plain
        hits, seq = self.service.raw_index_hits_one(signal, PDQ_MATCH_MAX_BITS)
        if hits and not self.service.known_local([hits], seq):
            return None
        self.service.seen.hashes(org.id, (signal,))  # queued; written by a background thread
        return self.body(hits, with_distance, started=started)

    def lookup(self, signal: str) -> list[RawHit]:
        """The screened hits of one hash (may ask the store: run it off the event loop)."""
        hits, seq = self.service.raw_index_hits_one(signal, PDQ_MATCH_MAX_BITS)
        if hits and not self.service.known_local([hits], seq):
            (hits,) = self.service.screen_raw([signal], [hits], seq)
        return hits

    def body(self, hits: list[RawHit], with_distance: bool, *, started: float) -> bytes:
        """The answer's body; counts the answer (`started`: when the request was read)."""
        if with_distance:
            parts = [f'{{"bank_content_id":{h.entry_id},"distance":"{h.distance}"}}' for h in hits]
        else:
            parts = [str(h.entry_id) for h in hits]
        body = ('{"matches":[' + ",".join(parts) + "]}").encode()
        self._answered.inc()
        self._latency.observe(time.perf_counter() - started)
        return body

    async def organisation(self, authorization: bytes | None) -> Organisation | None:
        """The key's organisation, asking the store on a cache miss; None if refused."""
        key = bearer_key(authorization)
        if key is None:
            return None
        hit = self.keys.cached(key)
        if hit is MISS:
            try:
                hit = await run_in_threadpool(self.keys.lookup, key)
            except SafeStreamError:  # the declared route answers with the store's 503
                return None
        return hit if isinstance(hit, Organisation) else None


class RawLookupFastPath:
    """ASGI middleware: answers plain raw lookups directly; passes everything else on."""

    def __init__(self, app: ASGIApp, answers: RawLookupAnswers):
        self.app = app
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a plain raw lookup, or hand the request to the app."""
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        plain = plain_query(scope.get("query_string", b""))
        authorization = _header(scope, b"authorization")
        org = await self.answers.organisation(authorization) if plain else None
        if plain is None or org is None:  # errors and bank filters: the declared route answers
            await self.app(scope, receive, send)
            return
        signal, with_distance = plain
        answers = self.answers
        answers.service.seen.hashes(org.id, (signal,))  # queued; written by a background thread
        if answers.service.fresh():
            hits, seq = answers.service.raw_index_hits_one(signal, PDQ_MATCH_MAX_BITS)
            if hits and not answers.service.known_local([hits], seq):  # a peer's entry: screen
                (hits,) = await run_in_threadpool(answers.service.screen_raw, [signal], [hits], seq)
        else:
            hits = await run_in_threadpool(answers.lookup, signal)
        body = answers.body(hits, with_distance, started=started)
        # The headers of the route's JSONResponse, in its order.
        headers = [(b"content-length", str(len(body)).encode()), CONTENT_TYPE]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    for name, value in scope.get("headers") or []:
        if name == wanted:
            return bytes(value)
    return None
