"""Evidence: encrypted, playable clips of the packets around an alert or a panic report."""

from __future__ import annotations

import hashlib
import io
import json
import stat
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from safestream.core.errors import InvalidInput
from safestream.live.evidence import EvidenceStore
from safestream.live.monitor import StreamSpec

from .conftest import KEY, Watch, live_options, wait_for_packets

pytestmark = pytest.mark.timeout(60)


def test_alert_writes_a_clip_that_decrypts_plays_and_matches_its_manifest(
    make_watch: Callable[..., Watch], media_dir: Path, tmp_path: Path
) -> None:
    watch = make_watch(evidence_seconds=1.5)
    watch.run(StreamSpec("cam1", str(media_dir / "known.mp4")))
    records = watch.monitor.evidence_records
    assert records, "an alert must leave an evidence file"
    record = records[0]
    manifest = json.loads(record.manifest_path.read_text())
    clip = EvidenceStore(tmp_path / "evidence", KEY).open_clip(record.clip_path)
    assert hashlib.sha256(clip).hexdigest() == manifest["clip_sha256"]
    assert manifest["stream_id"] == "cam1"
    assert manifest["requested_by"][0].startswith("alert:")
    assert manifest["matches"][0]["entry_hash"] in {a.entry_hash for a in watch.alerts}
    with av.open(io.BytesIO(clip)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 30  # from the keyframe before the alert to the seconds after it
    # The clip spans the buffer before the trigger and the seconds after it.
    assert manifest["stream_time_start"] < manifest["trigger_stream_time"]
    assert manifest["stream_time_end"] >= manifest["trigger_stream_time"] + 1.4


def test_evidence_on_disk_is_not_the_plain_clip(
    make_watch: Callable[..., Watch], media_dir: Path
) -> None:
    watch = make_watch()
    watch.run(StreamSpec("cam1", str(media_dir / "known.mp4")))
    sealed = watch.monitor.evidence_records[0].clip_path.read_bytes()
    with pytest.raises(av.error.InvalidDataError):
        av.open(io.BytesIO(sealed))
    assert stat.S_IMODE(watch.monitor.evidence_records[0].clip_path.stat().st_mode) == 0o600


def test_edited_manifest_makes_the_clip_undecryptable(
    make_watch: Callable[..., Watch], media_dir: Path, tmp_path: Path
) -> None:
    watch = make_watch()
    watch.run(StreamSpec("cam1", str(media_dir / "known.mp4")))
    record = watch.monitor.evidence_records[0]
    manifest = json.loads(record.manifest_path.read_text())
    manifest["requested_by"] = ["someone-else"]
    record.manifest_path.write_text(json.dumps(manifest, sort_keys=True, indent=2))
    with pytest.raises(InvalidInput, match="altered"):
        EvidenceStore(tmp_path / "evidence", KEY).open_clip(record.clip_path)


def test_wrong_key_cannot_open_the_clip(
    make_watch: Callable[..., Watch], media_dir: Path, tmp_path: Path
) -> None:
    watch = make_watch()
    watch.run(StreamSpec("cam1", str(media_dir / "known.mp4")))
    with pytest.raises(InvalidInput, match="wrong key"):
        EvidenceStore(tmp_path, b"x" * 32).open_clip(watch.monitor.evidence_records[0].clip_path)


def test_nothing_is_written_when_nothing_happened(
    make_watch: Callable[..., Watch], media_dir: Path, tmp_path: Path
) -> None:
    watch = make_watch()
    watch.run(StreamSpec("quiet", str(media_dir / "benign.mp4")))
    assert watch.monitor.evidence_records == []
    assert not (tmp_path / "evidence").exists()


def test_panic_request_preserves_a_stream_without_any_match(
    make_watch: Callable[..., Watch], media_dir: Path, tmp_path: Path
) -> None:
    watch = make_watch(evidence_seconds=1.0)
    options = live_options(realtime=True)
    watch.monitor.add(StreamSpec("call42", str(media_dir / "benign.mp4"), options))
    wait_for_packets(watch.monitor, "call42", 75)  # 2.5 s at 30 fps: the buffer is full
    assert watch.monitor.preserve_stream_evidence("call42", "report:r-17", "panic_report")
    assert watch.monitor.wait(20)
    [record] = watch.monitor.evidence_records
    assert record.manifest["requested_by"] == ["report:r-17"]
    assert record.manifest["reasons"] == ["panic_report"]
    clip = EvidenceStore(tmp_path / "evidence", KEY).open_clip(record.clip_path)
    with av.open(io.BytesIO(clip)) as container:
        assert sum(1 for _ in container.decode(video=0)) >= 30


def test_panic_request_for_an_unwatched_stream_is_refused(
    make_watch: Callable[..., Watch],
) -> None:
    assert not make_watch().monitor.preserve_stream_evidence("nobody", "report:r-1")


def test_ring_keeps_whole_gops_covering_its_window_and_starts_at_a_keyframe() -> None:
    from safestream.live.evidence import BufferedPacket, PacketRing

    ring = PacketRing(seconds=3.0)
    for i in range(300):  # 10 s at 30 fps, a keyframe every second
        t = i / 30
        ring.push(BufferedPacket(t, b"x" * 10, i, i, keyframe=i % 30 == 0))
    held = ring.snapshot()
    assert held[0].keyframe
    assert 3.0 <= held[-1].t - held[0].t < 4.0
    assert ring.bytes == 10 * len(held)


def test_ring_ignores_packets_until_the_first_keyframe() -> None:
    from safestream.live.evidence import BufferedPacket, PacketRing

    ring = PacketRing(seconds=3.0)
    ring.push(BufferedPacket(0.0, b"p", 0, 0, keyframe=False))
    assert ring.snapshot() == []
