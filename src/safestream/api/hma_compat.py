"""What HMA's routes share: its error body, its signal and content type names, its hashes.

HMA (hasher-matcher-actioner, OpenMediaMatch) answers errors as `{"message": ...}` with 400 for
bad input, and names signal types as pytx does (`pdq`, `video_md5`); a `photo` is hashed to
PDQ (empty when its quality is under 50) and a `video` to its MD5. SafeStream hashes a photo
the way pytx does (the raw array for palette or CMYK images), so an HMA client gets the same
hash from SafeStream as from HMA.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from safestream.core.errors import InvalidInput, SafeStreamError
from safestream.core.signals import PDQ_MIN_QUALITY, SignalType
from safestream.media.hashing import hash_image
from safestream.media.upload_hashing import upload_kind

SIGNAL_TYPES = {"pdq": SignalType.PDQ, "video_md5": SignalType.MD5}
CONTENT_TYPES = ("photo", "video")
CONTENT_SIGNALS = {"photo": ("pdq",), "video": ("video_md5",)}


class HmaError(Exception):
    """An error answered in HMA's shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> JSONResponse:
    """HMA's error body."""
    return JSONResponse({"message": message}, status_code=status)


class HmaRoute(APIRoute):
    """A route that answers errors as HMA does: `{"message"}`, 400 for invalid input."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler to translate errors."""
        handler = super().get_route_handler()

        async def translated(request: Request) -> Response:
            try:
                return await handler(request)
            except HmaError as exc:
                return error_response(exc.status, exc.message)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
                return error_response(400, f"{where}: {first.get('msg', 'invalid request')}")
            except InvalidInput as exc:
                return error_response(400 if exc.http_status == 422 else exc.http_status, str(exc))
            except SafeStreamError as exc:
                return error_response(exc.http_status, str(exc))

        return translated


def signal_type_of(name: str) -> SignalType:
    """SafeStream's type for an HMA signal type name, or a 400."""
    try:
        return SIGNAL_TYPES[name]
    except KeyError as exc:
        raise HmaError(400, f"No such SignalType '{name}'") from exc


def content_type_of(name: str) -> str:
    """An HMA content type name, checked."""
    if name not in CONTENT_TYPES:
        raise HmaError(400, f"no such content_type: '{name}'")
    return name


def content_type_from_mime(mime: str, override: str | None) -> str:
    """HMA's rule: the `content_type` parameter, else image/* is a photo and video/* a video."""
    if override:
        return content_type_of(override)
    if mime.lower().startswith("image"):
        return "photo"
    if mime.lower().startswith("video"):
        return "video"
    raise HmaError(
        400,
        f"unsupported url ContentType: '{mime}', if you know the expected type, "
        "provide it with the content_type query param",
    )


def wanted_types(content_type: str, types: str | None) -> tuple[str, ...]:
    """Signal types to compute for a content type, narrowed by HMA's `types` parameter."""
    available = CONTENT_SIGNALS[content_type]
    if types is None:
        return available
    chosen = tuple(t.strip() for t in types.split(",") if t.strip())
    for name in chosen:
        if name not in available:
            raise HmaError(400, f"signal type '{name}' doesn't exist or is disabled")
    if not chosen:
        raise HmaError(400, "empty signal type selection")
    return chosen


def photo_pdq(data: bytes) -> tuple[str, dict[str, str]]:
    """HMA's PDQ answer for a photo ("" under quality 50) and the hashes to look up for it.

    The lookup uses both the hash pytx computes and, for a palette or CMYK image, the RGB one,
    so a copy matches an entry made by either tool.
    """
    if upload_kind(data) != "image":
        raise HmaError(400, "a photo must be an image file")
    h = hash_image(data, mode="exact")
    if h.quality < PDQ_MIN_QUALITY and h.pdq_pytx_quality < PDQ_MIN_QUALITY:
        return "", {}
    variants = {"original": h.pdq}
    if h.pdq_pytx is not None:
        variants["pytx"] = h.pdq_pytx
        return (h.pdq_pytx if h.pdq_pytx_quality >= PDQ_MIN_QUALITY else ""), variants
    return h.pdq, variants


def hma_hashes(data: bytes, types: tuple[str, ...]) -> dict[str, str]:
    """The hashes HMA answers for a file: `{"pdq": hex}` for a photo, `{"video_md5": hex}`."""
    out: dict[str, str] = {}
    if "pdq" in types:
        out["pdq"] = photo_pdq(data)[0]
    if "video_md5" in types:
        out["video_md5"] = hashlib.md5(data).hexdigest()
    return out
