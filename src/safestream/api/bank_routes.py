"""`/v1/banks`: create, list, fill, empty and export hash banks over HTTP; index status.

Any API key may list banks; only organisations named in the `bank_curators` setting may change
or export them (a bank's hashes are shared material). An entry added over HTTP records the
calling organisation as its source unless the caller names one: whose word it is. New entries
are searched over recently seen content in the background (`api.retro_queue`).
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from safestream.api.auth import current_org
from safestream.api.media_routes import Service
from safestream.api.retro_queue import RetroQueue
from safestream.core.banks import Bank
from safestream.core.errors import PermissionDenied
from safestream.core.signals import PDQ_BITS
from safestream.exchange.hashlists import EXPORT_FORMATS, write_hash_list
from safestream.media.file_hashes import entries_from_media, label_conflicts
from safestream.store.access import Organisation
from safestream.store.banks import NewEntry

router = APIRouter(prefix="/v1", tags=["Banks"])
Org = Annotated[Organisation, Depends(current_org)]
ExportFormat = Literal["csv", "hma", "pytx", "pytx-csv", "json"]
_MEDIA_TYPES = {"json": "application/json", "pytx": "text/plain"}


def curator(org: Org, request: Request) -> Organisation:
    """The calling organisation, if the administrator lets it change banks."""
    names = {n.strip() for n in request.app.state.settings.bank_curators.split(",") if n.strip()}
    if org.name not in names:
        raise PermissionDenied(f"organisation {org.name!r} may not change or export banks")
    return org


Curator = Annotated[Organisation, Depends(curator)]


def retro_queue(request: Request) -> RetroQueue:
    """The process's queue of new entries for retroactive matching."""
    queue: RetroQueue = request.app.state.retro
    return queue


Retro = Annotated[RetroQueue, Depends(retro_queue)]


class BankIn(BaseModel):
    """A bank to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
    negative: bool = Field(False, description="An allowlist: its matches silence others.")
    threshold: int = Field(31, ge=0, le=PDQ_BITS)
    source: str = Field("", max_length=256)


class BankOut(BaseModel):
    """A bank and how many entries it holds."""

    name: str
    negative: bool
    threshold: int
    source: str
    entries: int


class EntryIn(BaseModel):
    """A hash to add."""

    model_config = ConfigDict(extra="forbid")

    signal_type: Literal["pdq", "md5", "sha256"] = "pdq"
    hash: str
    label: str = "unclassified"
    source: str = Field("", max_length=256)
    note: str = Field("", max_length=1024)
    content_id: str | None = Field(None, max_length=128)
    t: float | None = None


class EntriesIn(BaseModel):
    """Hashes to add in one transaction."""

    model_config = ConfigDict(extra="forbid")

    entries: list[EntryIn] = Field(min_length=1, max_length=10_000)


class ConflictOut(BaseModel):
    """A hash the bank already held under another label (the stored label was kept)."""

    entry_id: int
    signal_type: str
    value: str
    stored_label: str
    asked_label: str


class AddedOut(BaseModel):
    """Entry ids of the added hashes, in request order, and label conflicts."""

    entry_ids: list[int]
    label_conflicts: list[ConflictOut]
    kind: str | None = None
    skipped_low_quality: int = 0


class RemovedOut(BaseModel):
    """What a removal took out."""

    bank: str
    removed: int


class IndexStatusOut(BaseModel):
    """This worker's PDQ index."""

    size: int = Field(description="PDQ hashes indexed.")
    applied_seq: int = Field(description="Position in the store's change log it reflects.")


def bank_out(b: Bank) -> BankOut:
    """The API form of a bank."""
    return BankOut(
        name=b.name,
        negative=b.negative,
        threshold=b.threshold,
        source=b.source,
        entries=b.entry_count,
    )


def _added(service: Service, retro: RetroQueue, name: str, entries: list[NewEntry]) -> AddedOut:
    ids = service.banks.add_entries(name, entries)
    service.changed()
    retro.submit(ids)  # earlier uploads and frames are searched in the background
    conflicts = label_conflicts(service.banks, name, entries, ids)
    return AddedOut(entry_ids=ids, label_conflicts=[ConflictOut(**asdict(c)) for c in conflicts])


@router.get("/banks", response_model=list[BankOut], summary="List banks")
def list_banks(_: Org, service: Service) -> list[BankOut]:
    """Every bank with its entry count."""
    return [bank_out(b) for b in service.banks.list_banks()]


@router.post("/banks", response_model=BankOut, status_code=201, summary="Create a bank")
def create_bank(_: Curator, service: Service, body: BankIn) -> BankOut:
    """Create a bank (409 if the name is taken)."""
    bank = service.banks.create(
        body.name, negative=body.negative, threshold=body.threshold, source=body.source
    )
    service.changed()
    return bank_out(bank)


@router.get("/banks/{name}", response_model=BankOut, summary="One bank")
def get_bank(_: Org, service: Service, name: str) -> BankOut:
    """A bank by name (404 if there is none)."""
    return bank_out(service.banks.get(name))


@router.delete("/banks/{name}", response_model=RemovedOut, summary="Delete a bank")
def delete_bank(_: Curator, service: Service, name: str) -> RemovedOut:
    """Delete a bank and every entry in it."""
    count = service.banks.delete(name)
    service.changed()
    return RemovedOut(bank=name, removed=count)


@router.post("/banks/{name}/entries", response_model=AddedOut, summary="Add hashes to a bank")
def add_entries(
    org: Curator, service: Service, retro: Retro, name: str, body: EntriesIn
) -> AddedOut:
    """Add hashes; a hash the bank holds keeps its entry and label (reported as a conflict)."""
    service.banks.get(name)
    entries = [
        NewEntry(
            e.signal_type, e.hash, e.label, e.source or org.name, e.note, None, e.content_id, e.t
        )
        for e in body.entries
    ]
    return _added(service, retro, name, entries)


@router.post("/banks/{name}/media", response_model=AddedOut, summary="Hash a file into a bank")
def add_media(
    org: Curator,
    service: Service,
    retro: Retro,
    name: str,
    file: Annotated[UploadFile, File()],
    label: str = "unclassified",
    note: str = "",
) -> AddedOut:
    """Hash a file with the reference hashers (PDQ, per second for video; MD5) and bank it."""
    service.banks.get(name)
    with tempfile.NamedTemporaryFile(prefix="safestream-bank-") as tmp:
        tmp.write(file.file.read())
        tmp.flush()
        media = entries_from_media(Path(tmp.name), label=label, source=org.name, note=note)
    added = _added(service, retro, name, media.entries)
    return added.model_copy(
        update={"kind": media.kind, "skipped_low_quality": media.skipped_low_quality}
    )


@router.delete(
    "/banks/{name}/entries/{entry_id}", response_model=RemovedOut, summary="Remove an entry"
)
def remove_entry(_: Curator, service: Service, name: str, entry_id: int) -> RemovedOut:
    """Remove one entry from a bank (404 if it is not in that bank)."""
    entry = service.banks.remove_entry(name, entry_id)
    service.changed()
    return RemovedOut(bank=name, removed=entry.id)


@router.get("/banks/{name}/export", summary="Export a bank as a hash list")
def export_bank(
    _: Curator,
    service: Service,
    name: str,
    format: Annotated[ExportFormat, Query(description=", ".join(EXPORT_FORMATS))] = "csv",
) -> PlainTextResponse:
    """The bank in a list format: `pytx` lines for pytx's local_file, `hma` for HMA 1.0, ..."""
    bank = service.banks.get(name)
    out = io.StringIO()
    write_hash_list(out, bank, service.banks.iter_entries(name), format)
    return PlainTextResponse(out.getvalue(), media_type=_MEDIA_TYPES.get(format, "text/csv"))


@router.get("/index/status", response_model=IndexStatusOut, summary="Index status")
def index_status(_: Org, service: Service) -> IndexStatusOut:
    """How many PDQ hashes this worker's index holds and how fresh it is."""
    status = service.status()
    return IndexStatusOut(size=status.size, applied_seq=status.applied_seq)
