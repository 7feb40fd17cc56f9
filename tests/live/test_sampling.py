"""Sampling: by presentation time, extra samples on scene cuts, keyframes-only, risk switches."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from bench.live_media import Insertion, make_clip

from safestream.live.monitor import MatchService, StreamSpec
from safestream.live.risk import StreamEvent
from safestream.live.sampling import FrameSampler, KeyframeCadence, SamplingMode, SamplingPolicy
from safestream.media.matching import FrameVariants

from .conftest import Watch, live_options, wait_for_packets

pytestmark = pytest.mark.timeout(60)


class Recorder:
    """Wraps the matcher and records the stream time of every sampled frame."""

    def __init__(self, inner: MatchService) -> None:
        self.inner = inner
        self.times: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, frame: FrameVariants) -> list[object]:
        with self._lock:
            self.times.append(round(frame.t or 0.0, 3))
        return self.inner(frame)  # type: ignore[return-value]


def test_default_sampling_takes_one_frame_per_second_of_stream_time(
    make_watch: Callable[..., Watch], match_service: MatchService, media_dir: Path
) -> None:
    recorder = Recorder(match_service)
    watch = make_watch(evidence=False)
    watch.monitor.match = recorder
    watch.run(StreamSpec("s", str(media_dir / "benign.mp4")))
    assert recorder.times == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_still_shown_between_clock_ticks_is_caught_by_a_scene_change_sample(
    make_watch: Callable[..., Watch], tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "short.mp4", insertions=[Insertion("chelsea", 2.3, 0.6)])
    watch = make_watch(evidence=False)
    watch.run(StreamSpec("s", str(clip)))
    [alert] = watch.alerts
    assert alert.sample_reason == "scene"
    assert 2.3 <= alert.t < 2.4


def test_without_scene_changes_the_same_short_still_is_missed(
    make_watch: Callable[..., Watch], tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "short.mp4", insertions=[Insertion("chelsea", 2.3, 0.6)])
    watch = make_watch(evidence=False, baseline=SamplingPolicy(scene_change=False))
    watch.run(StreamSpec("s", str(clip)))
    assert watch.alerts == []


def test_keyframe_mode_decodes_only_keyframes(
    make_watch: Callable[..., Watch], media_dir: Path
) -> None:
    watch = make_watch(evidence=False, baseline=SamplingPolicy(SamplingMode.KEYFRAMES))
    stats = watch.run(StreamSpec("s", str(media_dir / "benign.mp4")))
    assert stats.frames_decoded == 3  # 6 s with a 2 s GOP
    assert stats.samples == 3


def test_rising_risk_switches_a_keyframe_stream_to_full_sampling_at_the_next_keyframe(
    make_watch: Callable[..., Watch], match_service: MatchService, media_dir: Path
) -> None:
    recorder = Recorder(match_service)
    watch = make_watch(evidence=False, baseline=SamplingPolicy(SamplingMode.KEYFRAMES))
    watch.monitor.match = recorder
    spec = StreamSpec("cam", str(media_dir / "benign.mp4"), live_options(realtime=True))
    watch.monitor.add(spec)
    wait_for_packets(watch.monitor, "cam", 24)  # 0.8 s of the stream read under keyframe sampling
    for event in (
        StreamEvent("stream_started", "cam", private=True, account_age_days=3, country="PH"),
        StreamEvent("viewer_joined", "cam", viewer_id="v1", country="GB"),
        StreamEvent("payment", "cam", viewer_id="v1", amount=20.0, currency="USD"),
    ):
        assessment = watch.monitor.apply_event(event)
    assert assessment.policy == SamplingPolicy(SamplingMode.FULL, 2.0)
    assert watch.monitor.wait(20)
    before = [t for t in recorder.times if t < 2.0]
    after = [t for t in recorder.times if t >= 2.0]
    assert before == [0.0]  # keyframes only: the 2 s GOP shows one frame
    # 2 fps from the first keyframe after the switch (B-frames are not decoded, so a tick may
    # land on the next decoded frame, 33 ms later).
    assert after[0] == 2.0
    assert len(after) == 8
    assert max(b - a for a, b in itertools.pairwise(after)) < 0.6
    assert watch.ended["cam"].policy == "full@2fps+scene+skip"


def test_after_a_mid_gop_sample_decoding_skips_to_the_next_keyframe(
    make_watch: Callable[..., Watch], tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "long.mp4", seconds=16.0)
    skipping = make_watch(evidence=False).run(StreamSpec("a", str(clip)))
    full = make_watch(evidence=False, baseline=SamplingPolicy(skip_to_keyframe=False)).run(
        StreamSpec("b", str(clip))
    )
    # Keyframes at 0 and 2 s teach the cadence; from the 3 s tick on, half of each GOP is skipped.
    assert skipping.frames_decoded < 0.8 * full.frames_decoded


def test_skipping_to_keyframes_keeps_one_sample_per_second(
    make_watch: Callable[..., Watch], match_service: MatchService, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "long.mp4", seconds=10.0)
    recorder = Recorder(match_service)
    watch = make_watch(evidence=False)
    watch.monitor.match = recorder
    watch.run(StreamSpec("s", str(clip)))
    assert recorder.times == [float(t) for t in range(10)]


def test_short_still_between_a_mid_gop_tick_and_the_next_keyframe_needs_full_decoding(
    make_watch: Callable[..., Watch], tmp_path: Path
) -> None:
    # Shown 7.3-7.8 s: after the 7 s tick, before the 8 s keyframe, once the cadence is known.
    clip = make_clip(
        tmp_path / "short.mp4", seconds=10.0, insertions=[Insertion("chelsea", 7.3, 0.5)]
    )
    skipping = make_watch(evidence=False)
    skipping.run(StreamSpec("a", str(clip)))
    full = make_watch(evidence=False, baseline=SamplingPolicy(skip_to_keyframe=False))
    full.run(StreamSpec("b", str(clip)))
    assert skipping.alerts == []
    [alert] = full.alerts
    assert alert.sample_reason == "scene"


def test_keyframe_cadence_predicts_from_the_first_interval() -> None:
    cadence = KeyframeCadence()
    cadence.observe(0.0)
    assert cadence.next_keyframe() is None
    cadence.observe(2.0)
    assert cadence.next_keyframe() == 4.0


def test_keyframe_cadence_predicts_again_once_two_intervals_agree() -> None:
    cadence = KeyframeCadence()
    for t in (0.0, 2.0, 2.7):
        cadence.observe(t)
    assert cadence.next_keyframe() is None
    cadence.observe(3.4)
    assert cadence.next_keyframe() == pytest.approx(4.1)


def test_keyframe_cadence_stops_predicting_after_an_irregular_keyframe() -> None:
    cadence = KeyframeCadence()
    for t in (0.0, 2.0, 4.0, 4.7):
        cadence.observe(t)
    assert cadence.next_keyframe() is None


def test_keyframe_cadence_starts_afresh_when_timestamps_go_backwards() -> None:
    cadence = KeyframeCadence()
    for t in (10.0, 12.0, 14.0, 1.0):
        cadence.observe(t)
    assert cadence.next_keyframe() is None
    cadence.observe(3.5)
    assert cadence.next_keyframe() == 6.0


def test_sampler_skips_only_when_the_next_keyframe_is_due_by_the_next_tick() -> None:
    sampler = FrameSampler(SamplingPolicy(scene_change=False))
    for t in (0.0, 2.0, 4.0):
        sampler.keyframes.observe(t)
    assert sampler.offer(4.0, None) == "clock"
    assert not sampler.can_skip_to_keyframe()  # next tick 5 s, next keyframe 6 s
    assert sampler.offer(5.0, None) == "clock"
    assert sampler.can_skip_to_keyframe()  # next tick 6 s is the keyframe


def test_keyframe_mode_never_skips_to_keyframes() -> None:
    sampler = FrameSampler(SamplingPolicy(SamplingMode.KEYFRAMES))
    for t in (0.0, 2.0, 4.0):
        sampler.keyframes.observe(t)
    sampler.offer(5.0, None)
    assert not sampler.can_skip_to_keyframe()


def test_cut_just_after_a_sample_is_sampled_once_the_scene_gap_has_passed() -> None:
    sampler = FrameSampler(SamplingPolicy())
    reasons = {}
    for i in range(45):
        level = 50 if i <= 30 else 200  # the picture changes one frame after the 1 s tick
        frame = av.VideoFrame.from_ndarray(np.full((72, 128), level, np.uint8), format="gray")
        reason = sampler.offer(i / 30, frame)
        if reason is not None:
            reasons[round(i / 30, 3)] = reason
    [(t, reason)] = [(t, r) for t, r in reasons.items() if 1.0 < t < 2.0]
    assert reason == "scene"
    assert 1.2 <= t < 1.25
