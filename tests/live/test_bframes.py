"""Skipping every B-frame: only once a probe shows no other frame predicts from one."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from bench.live_media import make_clip

from safestream.live.bframes import FrameAgreement
from safestream.live.monitor import StreamSpec

from .conftest import Watch

pytestmark = pytest.mark.timeout(60)


def x264_clip(path: Path, preset: str) -> Path:
    """A 6 s 640x360 test pattern with a 2 s GOP and three B-frames, from x264 at `preset`."""
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "testsrc2=size=640x360:rate=30:duration=6", "-c:v", "libx264", "-preset", preset,
         "-g", "60", "-sc_threshold", "0", "-bf", "3", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_stream_from_x264_veryfast_skips_every_b_frame(
    make_watch: Callable[..., Watch], tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "veryfast.mp4", seconds=6.0)
    stats = make_watch(evidence=False).run(StreamSpec("s", str(clip)))
    assert stats.skips_all_b_frames


def test_stream_whose_p_frames_predict_from_b_frames_keeps_decoding_them(
    make_watch: Callable[..., Watch], tmp_path: Path
) -> None:
    # x264's medium preset uses three reference frames, and P-frames then refer to B-frames.
    clip = x264_clip(tmp_path / "medium.mp4", "medium")
    stats = make_watch(evidence=False).run(StreamSpec("s", str(clip)))
    assert not stats.skips_all_b_frames


def test_agreement_is_undecided_until_enough_frames_were_compared() -> None:
    agreement = FrameAgreement(needed=3)
    for pts in (0, 3, 6):
        agreement.main_frame(pts, pts * 7)
    agreement.probe_frame(0, 0)
    agreement.probe_frame(3, 21)
    assert agreement.verdict is None
    agreement.probe_frame(6, 42)
    assert agreement.verdict is True


def test_one_differing_frame_rules_out_skipping_b_frames() -> None:
    agreement = FrameAgreement(needed=2)
    agreement.probe_frame(0, 1)
    agreement.main_frame(0, 1)
    agreement.probe_frame(3, 5)
    agreement.main_frame(3, 6)
    agreement.probe_frame(6, 9)
    agreement.main_frame(6, 9)
    assert agreement.verdict is False


def test_frames_only_one_decoder_produced_are_not_compared() -> None:
    agreement = FrameAgreement(needed=1)
    agreement.main_frame(1, 10)  # a B-frame the probe skipped
    agreement.probe_frame(2, 20)
    assert agreement.compared == 0
    assert agreement.verdict is None
