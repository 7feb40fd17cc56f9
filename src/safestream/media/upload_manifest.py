"""Who uploaded each scanned file: the sidecar manifest of `safestream match --report`.

A platform that exports uploads for scanning knows each file's uploader and where it was posted;
the manifest carries that beside the files, so a matched file is reported with its uploader and
all of one uploader's files join one case. CSV (a header row) or JSON (a list of objects, or
`{"files": [...]}`), one row per file, fields:

``file`` (required)
    The file's path (relative to the manifest's folder) or its bare name.
``uploader``, ``platform``
    The uploader's account id on that platform (the platform defaults to `--platform`).
``context``
    Free text: where the file was posted, why it was exported.
``uploaded_at``, ``ip``
    When and from which address it was uploaded (ISO 8601; IPv4 or IPv6).

Every row is checked when the manifest is read, so a bad row stops the run before any file is
matched or reported, with the row named.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from safestream.core.errors import InvalidInput
from safestream.core.reports import IpEvent, Platform, ReportedAccount

FIELDS = ("file", "uploader", "platform", "context", "uploaded_at", "ip")
MAX_CONTEXT = 2000


@dataclass(frozen=True)
class UploadContext:
    """What is known about one uploaded file besides its bytes."""

    uploader: str | None = None
    platform: str | None = None
    context: str = ""
    uploaded_at: datetime | None = None
    ip: str | None = None

    def account(self) -> ReportedAccount | None:
        """The uploader as a reported account (what links one uploader's reports into a case)."""
        if self.uploader is None or self.platform is None:
            return None
        events = [IpEvent(ip=self.ip, event="upload", at=self.uploaded_at)] if self.ip else []
        return ReportedAccount(platform=self.platform, id=self.uploader, ip_events=events)

    def platform_part(self) -> Platform | None:
        """The platform the file was uploaded to, if named."""
        return None if self.platform is None else Platform(name=self.platform)


def context_of(uploader: str | None, platform: str | None, context: str | None) -> UploadContext:
    """The context given on the command line, checked like a manifest row."""
    return _checked({"uploader": uploader, "platform": platform, "context": context}, "options")


class UploadManifest:
    """Upload contexts by file, with a default for files the manifest does not list."""

    def __init__(
        self,
        default: UploadContext,
        by_path: Mapping[Path, UploadContext] | None = None,
        by_name: Mapping[str, UploadContext | None] | None = None,
    ) -> None:
        self.default = default
        self._by_path = dict(by_path or {})
        self._by_name = dict(by_name or {})

    def lookup(self, path: Path) -> UploadContext:
        """The context of a scanned file: its row by path, else by a name only one row has."""
        row = self._by_path.get(path.resolve())
        if row is None:
            row = self._by_name.get(path.name)
        return row if row is not None else self.default

    @classmethod
    def read(cls, path: Path, default: UploadContext) -> UploadManifest:
        """Read a CSV or JSON manifest; raise InvalidInput naming the first bad row."""
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read manifest {path}: {exc}") from exc
        rows = _json_rows(path, text) if _looks_like_json(path, text) else _csv_rows(text)
        by_path: dict[Path, UploadContext] = {}
        by_name: dict[str, UploadContext | None] = {}
        for number, row in rows:
            where = f"{path.name} row {number}"
            name = str(row.get("file") or "").strip()
            if not name:
                raise InvalidInput(f"{where}: no 'file'")
            merged = {"platform": default.platform, "uploader": default.uploader} | {
                k: v for k, v in row.items() if v not in (None, "")
            }
            upload = _checked(merged, where, default.context)
            by_path[(path.parent / name).resolve()] = upload
            bare = Path(name).name
            # A name two rows share identifies neither file: those files need their paths.
            by_name[bare] = None if bare in by_name else upload
        return cls(default, by_path, by_name)


def _looks_like_json(path: Path, text: str) -> bool:
    return path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{"))


def _json_rows(path: Path, text: str) -> list[tuple[int, dict[str, object]]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"manifest {path.name} is not valid JSON: {exc}") from exc
    if isinstance(doc, dict):
        doc = doc.get("files")
    if not isinstance(doc, list) or not all(isinstance(x, dict) for x in doc):
        raise InvalidInput(f"manifest {path.name}: expected a list of objects (or 'files')")
    return [(i, _known_fields(row, f"{path.name} row {i}")) for i, row in enumerate(doc, 1)]


def _csv_rows(text: str) -> list[tuple[int, dict[str, object]]]:
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or "file" not in reader.fieldnames:
        raise InvalidInput("manifest CSV needs a header row with a 'file' column")
    # Row numbers as a spreadsheet shows them: the header is row 1.
    return [(i, _known_fields(row, f"row {i}")) for i, row in enumerate(reader, 2)]


def _known_fields(row: Mapping[str | None, object], where: str) -> dict[str, object]:
    unknown = sorted(str(k) for k in row if k not in FIELDS)
    if unknown:
        raise InvalidInput(f"{where}: unknown field(s) {', '.join(unknown)}; known: {FIELDS}")
    return {str(k): v for k, v in row.items()}


def _checked(row: Mapping[str, object], where: str, default_context: str = "") -> UploadContext:
    def text(key: str) -> str | None:
        value = row.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int):
            raise InvalidInput(f"{where}: '{key}' must be text")
        return str(value).strip() or None

    context = text("context") or default_context
    if len(context) > MAX_CONTEXT:
        raise InvalidInput(f"{where}: 'context' is over {MAX_CONTEXT} characters")
    upload = UploadContext(text("uploader"), text("platform"), context, None, text("ip"))
    if upload.uploader is not None and upload.platform is None:
        raise InvalidInput(f"{where}: an uploader needs a platform (a column, or --platform)")
    try:
        when = text("uploaded_at")
        stamp = datetime.fromisoformat(when) if when else None
        upload = UploadContext(upload.uploader, upload.platform, context, stamp, upload.ip)
        upload.account()  # the same checks intake applies: identifiers, IP
        upload.platform_part()
    except (ValueError, ValidationError) as exc:
        raise InvalidInput(f"{where}: {_first_error(exc)}") from None
    return upload


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"])
        return f"{field}: {error['msg']}" if field else str(error["msg"])
    return str(exc)
