"""JSON-ready hash records of one media file, as `safestream hash` prints them.

One record per image, or one per sampled video frame (each with the file's MD5 and SHA-256).
Hashing never raises here: a failure is returned beside whatever was hashed before it, so a
video that breaks mid-file still yields its first frames and one error line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from safestream.core.errors import SafeStreamError
from safestream.media.budget import memory_error_message
from safestream.media.exact_hashes import file_digests
from safestream.media.hashing import HashMode, hash_image, hash_video, media_kind


@dataclass
class FileHashes:
    """Records hashed from one file, and the error that stopped it, if any."""

    records: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def hash_file_records(
    path: Path, *, mode: HashMode = "fast", dihedral: bool = False, seconds_per_hash: float = 1.0
) -> FileHashes:
    """Hash one image or video file into records; errors are returned, never raised."""
    result = FileHashes()
    name = str(path)
    try:
        if media_kind(path) == "image":
            image = hash_image(path, mode=mode, dihedral=dihedral)
            result.records.append({"path": name, "kind": "image", **_present(asdict(image))})
            return result
        md5, sha256 = file_digests(path)
        frames = hash_video(path, mode=mode, dihedral=dihedral, seconds_per_hash=seconds_per_hash)
        for frame in frames:
            record = {"path": name, "kind": "video", **_present(asdict(frame))}
            result.records.append({**record, "md5": md5, "sha256": sha256})
    except SafeStreamError as exc:
        result.error = str(exc)
    except MemoryError:
        result.error = memory_error_message()
    except Exception as exc:  # a bug must cost one file, not the batch
        result.error = f"internal error: {type(exc).__name__}: {exc}"
    return result


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
