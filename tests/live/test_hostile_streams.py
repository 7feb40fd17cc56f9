"""A live stream that turns hostile mid-way costs a decode error, not the worker's memory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.hostile_media import good_clip, resolution_switch, with_edit_list

from safestream.live.monitor import StreamSpec
from safestream.live.sources import SourceOptions
from tests.live.conftest import Watch


def test_frames_over_the_pixel_limit_are_refused_and_the_stream_goes_on(
    make_watch: Callable[..., Watch], tmp_path: Path
) -> None:
    path = resolution_switch(tmp_path / "switch.ts", (320, 240), (9000, 9000))
    stats = make_watch(evidence=False).run(StreamSpec("hostile", str(path), SourceOptions()))
    assert stats.state == "ended"
    assert stats.packets == 25 + 3  # 25 frames of 320x240, then 3 of 9000x9000
    assert stats.frames_decoded == 25  # the decoder refused to allocate the huge ones
    assert stats.samples > 0  # the frames before the switch were watched


def test_a_file_stream_with_a_million_edits_fails_at_once_with_its_reason(
    make_watch: Callable[..., Watch], tmp_path: Path
) -> None:
    path = tmp_path / "edits.mp4"
    path.write_bytes(with_edit_list(good_clip(tmp_path / "seed.mp4").read_bytes(), 1_000_000))
    stats = make_watch(evidence=False).run(StreamSpec("bomb", str(path), SourceOptions()), 30)
    assert stats.state == "failed"
    assert "edit list has 1000000 entries" in (stats.error or "")
