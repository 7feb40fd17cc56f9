"""HMA-compatible hashing and matching: `/h/hash`, `/m/lookup`, `/m/raw_lookup`, `/m/compare`,
`/m/index/status`, `/status`, with HMA's parameters and answer shapes, so an HMA client can point
at SafeStream. Two differences, both on purpose: every route but `/status` takes an API key
(`Authorization: Bearer KEY`, as HMA adopters add with `APP_HOOK`), and URL fetching is off
unless the administrator lists hosts (HMA fetches from anywhere when its list is empty).

Banks have no `enabled_ratio` coinflip in SafeStream (they are on), so `bypass_coinflip` and
`seed` are accepted and change nothing; each bank's own threshold (31 by default) applies, and a
negative bank's match silences the others, as everywhere in SafeStream. The PDQ hashes of what a
platform hashes or looks up are kept for retroactive matching (`api.seen_lookups`).
"""

from __future__ import annotations

import hashlib
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse

from safestream.api.auth import current_org
from safestream.api.hma_compat import (
    HmaError,
    HmaRoute,
    content_type_from_mime,
    content_type_of,
    hma_hashes,
    photo_pdq,
    signal_type_of,
    wanted_types,
)
from safestream.api.media_routes import Service
from safestream.api.remote_media import allowed_hosts, fetch
from safestream.core.errors import InvalidSignal
from safestream.core.signals import PDQ_MATCH_MAX_BITS, SignalType, normalize_hash, pdq_distance
from safestream.media.matching import FrameVariants
from safestream.store.access import Organisation

router = APIRouter(route_class=HmaRoute, tags=["HMA-compatible"])
Org = Annotated[Organisation, Depends(current_org)]
MatchesByBank = dict[str, list[dict[str, Any]]]


@router.get("/status", response_class=PlainTextResponse, summary="Readiness (HMA)")
def status(service: Service) -> PlainTextResponse:
    """`I-AM-ALIVE` once the index is loaded, else 503 `INDEX-NOT-LOADED`."""
    try:
        service.status()
    except Exception:  # readiness answers, it never raises
        return PlainTextResponse("INDEX-NOT-LOADED", status_code=503)
    return PlainTextResponse("I-AM-ALIVE")


@router.get("/status/live", response_class=PlainTextResponse, summary="Liveness (HMA)")
def live() -> PlainTextResponse:
    """Always `I-AM-ALIVE` while the process answers."""
    return PlainTextResponse("I-AM-ALIVE")


@router.get("/site-map", summary="Route list (HMA)")
def site_map(request: Request) -> list[str]:
    """Every path this server answers."""
    return sorted({getattr(r, "path", "") for r in request.app.routes} - {""})


def _fetched(service: Service, url: str) -> tuple[bytes, str]:
    settings = service.settings
    return fetch(url, allowed_hosts(settings.fetch_allowed_hosts), settings.fetch_max_bytes)


def _one_upload(photo: UploadFile | None, video: UploadFile | None) -> tuple[str, bytes]:
    if photo is None and video is None:
        raise HmaError(400, "Missing multipart/form-data file upload")
    if photo is not None and video is not None:
        raise HmaError(400, "Only one file allowed per request")
    if photo is not None:
        return "photo", photo.file.read()
    assert video is not None
    return "video", video.file.read()


@router.get("/h/hash", summary="Hash content from URL (HMA)")
def hash_url(
    org: Org,
    service: Service,
    url: str,
    content_type: str | None = None,
    types: str | None = None,
) -> dict[str, str]:
    """Fetch a URL from an allowed host and answer `{signal_type: hash}`."""
    data, mime = _fetched(service, url)
    kind = content_type_from_mime(mime, content_type)
    return _seen(service, org, data, hma_hashes(data, wanted_types(kind, types)))


def _seen(
    service: Service, org: Organisation, data: bytes, hashes: dict[str, str]
) -> dict[str, str]:
    """Keep a hashed photo's PDQ for retroactive matching; return the hashes."""
    if hashes.get("pdq"):
        variant = FrameVariants({"original": hashes["pdq"]}, 100)
        service.seen.file(org.id, hashlib.sha256(data).hexdigest(), [variant])
    return hashes


@router.post("/h/hash", summary="Hash uploaded file (HMA)")
def hash_post(
    org: Org,
    service: Service,
    photo: Annotated[UploadFile | None, File()] = None,
    video: Annotated[UploadFile | None, File()] = None,
) -> dict[str, str]:
    """Hash one file sent as multipart field `photo` or `video`."""
    kind, data = _one_upload(photo, video)
    return _seen(service, org, data, hma_hashes(data, wanted_types(kind, None)))


def _validated(signal: str, signal_type: SignalType) -> str:
    try:
        return normalize_hash(signal_type, signal)
    except InvalidSignal as exc:
        raise HmaError(400, f"invalid signal: {exc}") from exc


def _raw_hits(
    service: Service, org: Organisation, signal: str, signal_type: SignalType
) -> list[tuple[int, int]]:
    value = _validated(signal, signal_type)
    if signal_type is SignalType.PDQ:
        service.seen.hashes(org.id, [value])
        (hits,) = service.raw_lookup([value], PDQ_MATCH_MAX_BITS)
    else:
        hits = service.exact_lookup(signal_type, value)
    return [(h.entry_id, h.distance) for h in hits]


def _in_banks(service: Service, ids: list[int], banks: set[str] | None) -> set[int]:
    if banks is None:
        return set(ids)
    found = service.banks.entries_by_id(ids)
    return {i for i, (_, bank) in found.items() if bank.name in banks}


@router.get("/m/raw_lookup", summary="Raw hash lookup (HMA)")
def raw_lookup(
    org: Org,
    service: Service,
    signal: str,
    signal_type: str,
    banks: str | None = None,
    include_distance: bool = False,
) -> dict[str, list[Any]]:
    """Index hits (entry ids, optionally with distances) before any bank rule."""
    hits = _raw_hits(service, org, signal, signal_type_of(signal_type))
    wanted = set(banks.split(",")) if banks else None
    keep = _in_banks(service, [i for i, _ in hits], wanted)
    hits = [(i, d) for i, d in hits if i in keep]
    if include_distance:
        return {"matches": [{"bank_content_id": i, "distance": str(d)} for i, d in hits]}
    return {"matches": [i for i, _ in hits]}


def _lookup(
    service: Service, variants: dict[str, str], signal_type: SignalType, banks: set[str] | None
) -> MatchesByBank:
    known = {b.name for b in service.bank_list()}
    names = sorted(banks & known) if banks is not None else None
    if banks is not None and not names:
        return {}
    out: MatchesByBank = {}
    if signal_type is SignalType.PDQ:
        if not variants:
            return {}
        (found,) = service.match_hashes([FrameVariants(variants, 100)], names)
    else:
        matcher = service.matcher(names)
        md5 = variants["original"]
        found = matcher.merge_exact(
            [m for m in matcher.exact_matches(md5, "") if m.variant == "exact_md5"], []
        )
    for m in found:
        out.setdefault(m.bank, []).append(
            {"bank_content_id": m.entry_id, "distance": str(m.distance)}
        )
    return out


@router.get("/m/lookup", summary="Content lookup (HMA)")
def lookup_get(
    org: Org,
    service: Service,
    url: str | None = None,
    content_type: str | None = None,
    types: str | None = None,
    signal: str | None = None,
    signal_type: str | None = None,
    banks: str | None = None,
    seed: str | None = None,
    bypass_coinflip: bool = False,
) -> dict[str, Any]:
    """By hash: `{BANK: [{bank_content_id, distance}]}`; by URL: the same per signal type."""
    del seed, bypass_coinflip  # no coinflip: SafeStream banks are on or deleted
    wanted = set(banks.split(",")) if banks else None
    if not url:
        if not signal or not signal_type:
            raise HmaError(400, "Either url or both signal and signal_type are required")
        kind = signal_type_of(signal_type)
        value = _validated(signal, kind)
        if kind is SignalType.PDQ:
            service.seen.hashes(org.id, [value])
        return _lookup(service, {"original": value}, kind, wanted)
    data, mime = _fetched(service, url)
    content = content_type_from_mime(mime, content_type)
    per_type = _lookup_file(service, org, data, wanted_types(content, types), wanted)
    if signal_type is not None:
        return per_type.get(signal_type, {})
    return per_type


def _lookup_file(
    service: Service,
    org: Organisation,
    data: bytes,
    types: tuple[str, ...],
    banks: set[str] | None,
) -> dict[str, MatchesByBank]:
    out: dict[str, MatchesByBank] = {}
    sha256 = hashlib.sha256(data).hexdigest()
    if "pdq" in types:
        _, variants = photo_pdq(data)
        service.seen.file(org.id, sha256, [FrameVariants(variants, 100)] if variants else [])
        out["pdq"] = _lookup(service, variants, SignalType.PDQ, banks)
    if "video_md5" in types:
        md5 = hashlib.md5(data).hexdigest()
        out["video_md5"] = _lookup(service, {"original": md5}, SignalType.MD5, banks)
    return out


@router.post("/m/lookup", summary="Content lookup from file (HMA)")
def lookup_post(
    org: Org,
    service: Service,
    photo: Annotated[UploadFile | None, File()] = None,
    video: Annotated[UploadFile | None, File()] = None,
    banks: Annotated[str | None, Query()] = None,
    seed: Annotated[str | None, Query()] = None,
    bypass_coinflip: Annotated[bool, Query()] = False,
) -> dict[str, MatchesByBank]:
    """Hash the uploaded `photo` or `video` and answer `{signal_type: {BANK: [...]}}`."""
    del seed, bypass_coinflip
    kind, data = _one_upload(photo, video)
    wanted = set(banks.split(",")) if banks else None
    return _lookup_file(service, org, data, wanted_types(content_type_of(kind), None), wanted)


@router.get("/m/index/status", summary="Index status (HMA)")
def index_status(
    _: Org, service: Service, signal_type: str | None = None
) -> dict[str, dict[str, Any]]:
    """Per signal type: `present`, `built_to` (unix time) and `size`."""
    status = service.status()
    built_to = int(time.time())
    answer = {
        "pdq": {"present": True, "built_to": built_to, "size": status.size},
        "video_md5": {
            "present": True,
            "built_to": built_to,
            "size": service.count_entries(SignalType.MD5),
        },
    }
    if signal_type is not None:
        if signal_type not in answer:
            raise HmaError(400, f"No such signal type '{signal_type}'")
        return {signal_type: answer[signal_type]}
    return answer


@router.post("/m/compare", summary="Compare hashes (HMA)")
def compare(_: Org, body: dict[str, Any]) -> dict[str, Any]:
    """`{"pdq": [h1, h2]}` -> `{"pdq": [match, {"distance": d}]}`."""
    out: dict[str, Any] = {}
    for name, pair in body.items():
        if not isinstance(pair, list):
            raise HmaError(400, f"Comparison hashes for {name} was not a list")
        if len(pair) != 2:
            raise HmaError(400, "Comparison hash list length must be exactly 2")
        kind = signal_type_of(name)
        try:
            left, right = (normalize_hash(kind, str(h)) for h in pair)
        except InvalidSignal as exc:
            raise HmaError(400, f"Invalid {name} hash: {exc}") from exc
        if kind is SignalType.PDQ:
            distance = pdq_distance(left, right)
            out[name] = [distance <= PDQ_MATCH_MAX_BITS, {"distance": distance}]
        else:
            out[name] = [left == right, {"distance": 0 if left == right else 1}]
    return out
