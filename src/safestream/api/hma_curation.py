"""HMA-compatible curation: `/c/banks`, `/c/bank/<name>`, `/c/bank/<name>/signal`,
`/c/bank/<name>/content[/<id>]`, `/c/signal_type`, `/c/content_type`.

An HMA "content" groups the signals of one file; in SafeStream each hash is a bank entry, so a
content id here is the id of the entry holding the content's PDQ (or MD5 for a video). Bank names
follow HMA's UPPER_WITH_UNDERSCORE rule when created through these routes. Changes need an
organisation listed in `bank_curators`; the organisation is recorded as the entry's source.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel

from safestream.api.auth import current_org
from safestream.api.bank_routes import Curator, Retro
from safestream.api.hma_compat import (
    CONTENT_TYPES,
    SIGNAL_TYPES,
    HmaError,
    HmaRoute,
    content_type_from_mime,
    photo_pdq,
    wanted_types,
)
from safestream.api.media_routes import Service
from safestream.api.remote_media import allowed_hosts, fetch
from safestream.core.errors import BankNotFound, Conflict, EntryNotFound, InvalidSignal
from safestream.core.signals import SignalType, normalize_hash
from safestream.store.access import Organisation
from safestream.store.banks import NewEntry

router = APIRouter(prefix="/c", route_class=HmaRoute, tags=["HMA-compatible"])
Org = Annotated[Organisation, Depends(current_org)]
HMA_BANK_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
ENABLED = 1  # HMA's disable_until_ts for content that matches
NOTE_MAX = 255


class BankCreate(BaseModel):
    """HMA's bank creation body."""

    name: str
    enabled_ratio: float | None = 1.0
    enabled: bool | None = None


class BankUpdate(BaseModel):
    """HMA's bank update body."""

    name: str | None = None
    enabled_ratio: float | None = None
    enabled: bool | None = None


def _bank(name: str) -> dict[str, Any]:
    return {"name": name, "matching_enabled_ratio": 1.0}


def _existing(service: Service, name: str) -> None:
    try:
        service.banks.get(name)
    except BankNotFound as exc:
        raise HmaError(404, f"bank '{name}' not found") from exc


def _always_on(enabled_ratio: float | None, enabled: bool | None) -> None:
    if (enabled_ratio is not None and enabled_ratio != 1.0) or enabled is False:
        raise HmaError(400, "SafeStream banks are always matched: enabled_ratio must be 1.0")


@router.get("/banks", summary="List banks (HMA)")
def banks_index(_: Org, service: Service) -> list[dict[str, Any]]:
    """Every bank as `{name, matching_enabled_ratio}`."""
    return [_bank(b.name) for b in service.banks.list_banks()]


@router.post("/banks", status_code=201, summary="Create bank (HMA)")
def bank_create(_: Curator, service: Service, body: BankCreate) -> dict[str, Any]:
    """Create a bank (403 if it exists, 400 for a name HMA would refuse)."""
    if not HMA_BANK_NAME.match(body.name):
        raise HmaError(400, "Bank names must be UPPER_WITH_UNDERSCORE")
    _always_on(body.enabled_ratio if body.enabled is None else None, body.enabled)
    try:
        service.banks.create(body.name)
    except Conflict as exc:
        raise HmaError(403, "Bank already exists") from exc
    service.changed()
    return _bank(body.name)


@router.get("/bank/{bank_name}", summary="Get bank (HMA)")
def bank_show(_: Org, service: Service, bank_name: str) -> dict[str, Any]:
    """One bank."""
    _existing(service, bank_name)
    return _bank(bank_name)


@router.put("/bank/{bank_name}", summary="Update bank (HMA)")
def bank_update(_: Curator, service: Service, bank_name: str, body: BankUpdate) -> dict[str, Any]:
    """Accepts what changes nothing; renaming and partial matching are not offered."""
    _existing(service, bank_name)
    if body.name is not None and body.name != bank_name:
        raise HmaError(400, "renaming a bank is not supported; create a new one and import")
    _always_on(body.enabled_ratio, body.enabled)
    return _bank(bank_name)


@router.delete("/bank/{bank_name}", summary="Delete bank (HMA)")
def bank_delete(_: Curator, service: Service, bank_name: str) -> dict[str, str]:
    """Delete a bank and its contents (as HMA: a missing bank is no error)."""
    with contextlib.suppress(BankNotFound):
        service.banks.delete(bank_name)
    service.changed()
    return {"message": "Done"}


def _note(value: Any) -> str:
    if not value:
        return ""
    if not isinstance(value, str):
        raise HmaError(400, "note should be a string")
    if len(value) > NOTE_MAX:
        raise HmaError(400, f"note must be at most {NOTE_MAX} characters")
    return value


def _add_signals(
    service: Service,
    retro: Retro,
    org: Organisation,
    bank_name: str,
    signals: dict[str, Any],
    note: str,
) -> dict[str, Any]:
    if not signals:
        raise HmaError(400, "No signals given")
    entries: list[NewEntry] = []
    for name, value in signals.items():
        if name not in SIGNAL_TYPES:
            raise HmaError(400, f"No such signal type {name}")
        kind = SIGNAL_TYPES[name]
        try:
            clean = normalize_hash(kind, str(value))
        except InvalidSignal as exc:
            raise HmaError(400, f"Invalid {name} signal: {exc}") from exc
        entries.append(NewEntry(kind.value, clean, "unclassified", org.name, note))
    ids = service.banks.add_entries(bank_name, entries)
    service.changed()
    retro.submit(ids)  # earlier uploads and frames are searched in the background
    return {"id": ids[0], "signals": {n: e.value for n, e in zip(signals, entries, strict=True)}}


@router.post("/bank/{bank_name}/signal", summary="Add signals to bank (HMA)")
def bank_add_signals(
    org: Curator, service: Service, retro: Retro, bank_name: str, body: dict[str, Any]
) -> dict[str, Any]:
    """`{"pdq": "..."}` (and an optional `note`) as one content; answers its id and signals."""
    _existing(service, bank_name)
    note = _note(body.pop("note", None))
    return _add_signals(service, retro, org, bank_name, body, note)


@router.post("/bank/{bank_name}/content", summary="Add content to bank (HMA)")
def bank_add_content(
    org: Curator,
    service: Service,
    retro: Retro,
    request: Request,
    bank_name: str,
    photo: Annotated[UploadFile | None, File()] = None,
    video: Annotated[UploadFile | None, File()] = None,
    note: Annotated[str | None, Form()] = None,
    metadata: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """Hash a file (multipart `photo`/`video`, or `?url=` from an allowed host) into the bank."""
    _existing(service, bank_name)
    url = request.query_params.get("url")
    if url:
        settings = service.settings
        data, mime = fetch(
            url, allowed_hosts(settings.fetch_allowed_hosts), settings.fetch_max_bytes
        )
        kind = content_type_from_mime(mime, request.query_params.get("content_type"))
    elif photo is not None or video is not None:
        kind = "photo" if photo is not None else "video"
        upload = photo if photo is not None else video
        assert upload is not None
        data = upload.file.read()
    else:
        raise HmaError(400, "Neither `url` nor multipart file upload was received")
    if metadata:
        try:
            json.loads(metadata)
        except ValueError as exc:
            raise HmaError(400, "metadata form field must be valid JSON") from exc
    signals: dict[str, Any] = {}
    for name in wanted_types(kind, request.query_params.get("types")):
        if name == "pdq":
            pdq, variants = photo_pdq(data)
            if not pdq:
                raise HmaError(400, "the photo's PDQ quality is under 50: nothing to bank")
            signals["pdq"] = pdq
            rgb = variants.get("original")
            if rgb and rgb != pdq:  # a palette/CMYK photo: its RGB hash matches too
                rgb_note = "rgb of a pytx-array hash"
                _add_signals(service, retro, org, bank_name, {"pdq": rgb}, rgb_note)
        else:
            signals["video_md5"] = hashlib.md5(data).hexdigest()
    return _add_signals(service, retro, org, bank_name, signals, _note(note))


@router.get("/bank/{bank_name}/content/{content_id}", summary="Get bank content (HMA)")
def bank_get_content(
    _: Org,
    service: Service,
    bank_name: str,
    content_id: int,
    include_signals: bool = False,
) -> dict[str, Any]:
    """One content (entry) of a bank."""
    _existing(service, bank_name)
    found = service.banks.entries_by_id([content_id]).get(content_id)
    if found is None or found[1].name != bank_name:
        raise HmaError(404, f"content '{content_id}' not found")
    entry, _bank_row = found
    answer: dict[str, Any] = {
        "id": entry.id,
        "disable_until_ts": ENABLED,
        "original_media_uri": None,
        "bank": _bank(bank_name),
    }
    if include_signals:
        name = "pdq" if entry.signal_type == SignalType.PDQ.value else "video_md5"
        answer["signals"] = {name: entry.value}
    if entry.note:
        answer["note"] = entry.note
    return answer


@router.delete("/bank/{bank_name}/content/{content_id}", summary="Delete bank content (HMA)")
def bank_delete_content(
    _: Curator, service: Service, bank_name: str, content_id: int
) -> dict[str, int]:
    """Remove a content (entry) from a bank."""
    _existing(service, bank_name)
    try:
        service.banks.remove_entry(bank_name, content_id)
    except EntryNotFound:
        return {"deleted": 0}
    service.changed()
    return {"deleted": 1}


@router.get("/signal_type", summary="List signal types (HMA)")
def signal_types(_: Org) -> list[dict[str, Any]]:
    """The signal types SafeStream matches, all enabled."""
    return [{"name": name, "enabled_ratio": 1.0} for name in SIGNAL_TYPES]


@router.get("/content_type", summary="List content types (HMA)")
def content_types(_: Org) -> list[dict[str, Any]]:
    """The content types SafeStream hashes, all enabled."""
    return [{"name": name, "enabled": True} for name in CONTENT_TYPES]
