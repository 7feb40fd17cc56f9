"""Fuzzing the video container's structure: edit lists, resolution changes, stream counts.

Byte-level corruption is in test_hash_fuzz; here Hypothesis builds files that are well formed
but adversarial, from a benign generated clip. Each must hash or raise our errors.
"""

from __future__ import annotations

import functools
import struct
import tempfile
from pathlib import Path

import pytest
from bench.hostile_media import good_clip, resolution_switch, with_edit_list, with_many_streams
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.media.hash_samples import workdir
from tests.media.video_outcomes import assert_hashes_or_raises_our_errors

FUZZ = settings(
    max_examples=40,
    deadline=30_000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@functools.cache
def _clip() -> bytes:
    return good_clip(workdir() / "structure-fuzz.mp4", seconds=1.0).read_bytes()


def _edit_list(edits: list[tuple[int, int, int]]) -> bytes:
    """The clip with these (segment duration, media time, rate) edits."""
    data = with_edit_list(_clip(), len(edits))
    at = data.index(b"elst") + 12
    body = b"".join(struct.pack(">IiI", d, m, r) for d, m, r in edits)
    return data[:at] + body + data[at + len(body) :]


edit = st.tuples(
    st.integers(0, 2**32 - 1), st.integers(-(2**31), 2**31 - 1), st.integers(0, 2**32 - 1)
)


@pytest.mark.timeout(300)
@FUZZ
@given(st.lists(edit, min_size=0, max_size=40))
def test_any_edit_list_hashes_or_raises_our_errors(edits: list[tuple[int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "edits.mp4"
        path.write_bytes(_edit_list(edits))
        assert_hashes_or_raises_our_errors(path)


@pytest.mark.timeout(300)
@FUZZ
@given(st.integers(1, 400))
def test_any_stream_count_hashes_or_raises_our_errors(copies: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "streams.mp4"
        path.write_bytes(with_many_streams(_clip(), copies))
        assert_hashes_or_raises_our_errors(path)


size = st.tuples(st.integers(1, 40).map(lambda n: n * 16), st.integers(1, 30).map(lambda n: n * 16))


@pytest.mark.timeout(300)
@settings(FUZZ, max_examples=12)
@given(size, size)
def test_any_mid_stream_resolution_change_hashes_or_raises_our_errors(
    first: tuple[int, int], second: tuple[int, int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        switched = resolution_switch(Path(folder) / "switch.ts", first, second)
        assert_hashes_or_raises_our_errors(switched)
