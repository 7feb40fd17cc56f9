"""`/v1` hashing and matching: hash an upload, look hashes up (one or a batch), match an upload.

Every route takes an organisation's API key. The PDQ hashes of what a platform hashes, matches or
looks up are kept for retroactive matching while the operator keeps seen hashes
(`api.seen_lookups`). A file comes as multipart field `file`, or by `url`
from a host the administrator allows (see `remote_media`). Matching scans with fast hashes by
default (`mode=exact` for reference hashes); a match names the bank, entry, distance, label and
the variant (rotation, border trim, pytx array) that matched.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from safestream.api.auth import current_org
from safestream.api.media_service import MediaService
from safestream.api.remote_media import allowed_hosts, fetch
from safestream.core.banks import Match
from safestream.core.errors import InvalidInput
from safestream.core.signals import PDQ_BITS, SignalType, normalize_hash
from safestream.media.matching import FrameVariants
from safestream.media.upload_hashing import HashedUpload, hash_upload
from safestream.store.access import Organisation

router = APIRouter(prefix="/v1", tags=["Hashing and matching"])
MAX_BATCH = 1000

Org = Annotated[Organisation, Depends(current_org)]
Mode = Literal["fast", "exact"]


class MatchOut(BaseModel):
    """One bank entry a hash or file matched."""

    bank: str
    entry_id: int
    distance: int = Field(description="Bits apart (0 for MD5/SHA-256 entries).")
    label: str = Field(description="A1, A2, B1, B2, unclassified or benign.")
    variant: str = Field(description="Which hash matched: original, trimmed, rotate90, pytx, ...")
    t: float | None = Field(None, description="Video time in seconds of the matching frame.")
    stage: str = Field("pdq", description="pdq (hashes) or local (keypoints + geometry).")
    region: list[int] | None = Field(
        None, description="Second stage: x, y, width, height of the bank image in the frame."
    )
    coverage: float | None = Field(
        None, description="Second stage: share of the bank image the frame shows (0-1)."
    )
    frame_size: list[int] | None = Field(
        None, description="Second stage: width and height of the frame `region` is measured in."
    )


class LookupOut(BaseModel):
    """The matches of one PDQ hash."""

    pdq: str
    matches: list[MatchOut]


class BatchIn(BaseModel):
    """Up to 1,000 PDQ hashes to look up in one request."""

    model_config = ConfigDict(extra="forbid")

    hashes: list[str] = Field(min_length=1, max_length=MAX_BATCH)
    banks: list[str] | None = Field(None, description="Only these banks (negative banks always).")
    threshold: int | None = Field(None, ge=0, le=PDQ_BITS)


class BatchOut(BaseModel):
    """Matches of each hash, in request order."""

    results: list[LookupOut]


class HashOut(BaseModel):
    """The hashes of one file: an image's, or one record per sampled video frame."""

    kind: Literal["image", "video"]
    md5: str
    sha256: str
    image: dict[str, Any] | None = None
    frames: list[dict[str, Any]] = Field(default_factory=list)


class MatchResultOut(BaseModel):
    """What an uploaded file matched."""

    kind: Literal["image", "video"]
    md5: str
    sha256: str
    frames_hashed: int
    matches: list[MatchOut]


def media_service(request: Request) -> MediaService:
    """The process's media service."""
    service: MediaService = request.app.state.media
    return service


Service = Annotated[MediaService, Depends(media_service)]


def match_out(m: Match) -> MatchOut:
    """The API form of a match."""
    return MatchOut(
        bank=m.bank,
        entry_id=m.entry_id,
        distance=m.distance,
        label=m.label.value,
        variant=m.variant,
        t=m.t,
        stage=m.stage,
        region=list(m.region) if m.region is not None else None,
        coverage=m.coverage,
        frame_size=list(m.frame_size) if m.frame_size is not None else None,
    )


def bank_filter(banks: str | None) -> list[str] | None:
    """`a,b` as a list of bank names (None for all)."""
    names = [b.strip() for b in (banks or "").split(",") if b.strip()]
    return names or None


def upload_bytes(service: MediaService, file: UploadFile | None, url: str | None) -> bytes:
    """The bytes of an uploaded file or of a URL from an allowed host."""
    if (file is None) == (url is None):
        raise InvalidInput("send exactly one of a multipart `file` or a `url`")
    if file is not None:
        return file.file.read()
    assert url is not None
    settings = service.settings
    data, _ = fetch(url, allowed_hosts(settings.fetch_allowed_hosts), settings.fetch_max_bytes)
    return data


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@router.post("/hash", response_model=HashOut, summary="Hash a file (image or video)")
def hash_file(
    org: Org,
    service: Service,
    file: Annotated[UploadFile | None, File()] = None,
    url: Annotated[str | None, Query(description="Fetch from an allowed host instead.")] = None,
    mode: Mode = "exact",
    dihedral: bool = False,
) -> HashOut:
    """PDQ (per sampled second for video), MD5 and SHA-256 of a file; nothing is stored.

    `exact` (default) gives the reference hashes pytx, HMA and vpdq compute; `pdq_pytx` is the
    hash pytx computes for a palette, CMYK or LAB image when it differs from the RGB one.
    """
    hashed = hash_upload(upload_bytes(service, file, url), mode=mode, dihedral=dihedral)
    service.seen.upload(org.id, hashed)  # content the platform saw: kept for retro matching
    return HashOut(
        kind=hashed.kind,
        md5=hashed.md5,
        sha256=hashed.sha256,
        image=_present(asdict(hashed.image)) if hashed.image else None,
        frames=[_present(asdict(f)) for f in hashed.frames],
    )


@router.get("/lookup", response_model=LookupOut, summary="Look up one PDQ hash")
def lookup(
    org: Org,
    service: Service,
    pdq: Annotated[str, Query(description="64 hex digits.")],
    banks: Annotated[str | None, Query(description="Comma-separated bank names.")] = None,
    threshold: Annotated[int | None, Query(ge=0, le=PDQ_BITS)] = None,
) -> LookupOut:
    """Entries within each bank's threshold (or `threshold`), nearest first."""
    value = normalize_hash(SignalType.PDQ, pdq)
    service.seen.hashes(org.id, [value])
    (found,) = service.match_hashes(
        [FrameVariants({"original": value}, 100)], bank_filter(banks), threshold
    )
    return LookupOut(pdq=value, matches=[match_out(m) for m in found])


@router.post("/lookup", response_model=BatchOut, summary="Look up many PDQ hashes")
def lookup_batch(org: Org, service: Service, body: BatchIn) -> BatchOut:
    """The batch form of `GET /v1/lookup`: one index pass for up to 1,000 hashes."""
    values = [normalize_hash(SignalType.PDQ, h) for h in body.hashes]
    service.seen.hashes(org.id, values)
    frames = [FrameVariants({"original": v}, 100) for v in values]
    results = service.match_hashes(frames, body.banks, body.threshold)
    return BatchOut(
        results=[
            LookupOut(pdq=v, matches=[match_out(m) for m in ms])
            for v, ms in zip(values, results, strict=True)
        ]
    )


@router.post("/match", response_model=MatchResultOut, summary="Match a file against the banks")
def match_file(
    org: Org,
    service: Service,
    file: Annotated[UploadFile | None, File()] = None,
    url: Annotated[str | None, Query(description="Fetch from an allowed host instead.")] = None,
    banks: Annotated[str | None, Query(description="Comma-separated bank names.")] = None,
    threshold: Annotated[int | None, Query(ge=0, le=PDQ_BITS)] = None,
    mode: Mode = "fast",
) -> MatchResultOut:
    """Hash a file with its rotated, mirrored and border-trimmed variants and match it.

    Frames of quality under 50 match nothing; a match in a negative bank silences the frame.
    An image PDQ does not match, and a video's sampled frames (one every 2 s) PDQ does not match,
    go to the second stage (local features), whose matches say `stage: "local"` with the
    `region`, `frame_size` and `coverage` of the bank image found (and `t` in a video).
    """
    data = upload_bytes(service, file, url)
    hashed: HashedUpload = hash_upload(data, mode=mode, dihedral=True, local=True)
    service.seen.upload(org.id, hashed)
    found = service.match_upload(hashed, bank_filter(banks), threshold)
    if not found and hashed.image is not None:
        # Second stage: a cropped, captioned or framed copy of a known image, or a known room.
        found = service.match_local(data, bank_filter(banks))
    elif hashed.frame_features:
        # A video's sampled frames (one every 2 s) PDQ did not match go to the second stage too.
        matched_at = {m.t for m in found if m.t is not None}
        found += service.match_local_frames(hashed.frame_features, bank_filter(banks), matched_at)
    frames = 1 if hashed.image else len(hashed.frames)
    return MatchResultOut(
        kind=hashed.kind,
        md5=hashed.md5,
        sha256=hashed.sha256,
        frames_hashed=frames,
        matches=[match_out(m) for m in found],
    )
