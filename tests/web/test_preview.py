"""Wellbeing previews: small, blurred, grayscale by default, and bad files refused cleanly."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage import data

from safestream.api.web.preview import PREVIEW_MAX_SIDE, blurred_preview
from safestream.core.errors import UnsupportedMedia
from tests.web.conftest import mp4_clip


def _png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def test_preview_is_a_small_grayscale_png_by_default() -> None:
    preview = Image.open(io.BytesIO(blurred_preview(_png(data.astronaut()))))
    assert preview.format == "PNG"
    assert preview.mode == "L"
    assert max(preview.size) <= PREVIEW_MAX_SIDE


def test_preview_keeps_colour_when_grayscale_is_off() -> None:
    preview = Image.open(io.BytesIO(blurred_preview(_png(data.astronaut()), grayscale=False)))
    assert preview.mode == "RGB"


def test_preview_removes_fine_detail() -> None:
    # 16-pixel squares survive shrinking to a thumbnail (contrast stays above 80 %), so what
    # removes them is the blur.
    board = ((np.indices((256, 256)) // 16).sum(axis=0) % 2 * 255).astype(np.uint8)
    preview = np.asarray(Image.open(io.BytesIO(blurred_preview(_png(board)))), dtype=float)
    assert preview.std() < 0.1 * board.std()


def test_non_image_bytes_are_refused_with_a_clear_error() -> None:
    with pytest.raises(UnsupportedMedia, match="preview"):
        blurred_preview(b"this is not an image")


def test_video_preview_is_made_from_its_first_frame() -> None:
    preview = Image.open(io.BytesIO(blurred_preview(mp4_clip(), video=True)))
    assert preview.format == "PNG" and preview.mode == "L"
    assert max(preview.size) <= PREVIEW_MAX_SIDE


def test_bytes_that_are_not_a_video_are_refused_with_a_clear_error() -> None:
    with pytest.raises(UnsupportedMedia, match="not a video"):
        blurred_preview(b"\x00" * 2048, video=True)
