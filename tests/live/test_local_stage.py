"""The second matching stage in the live path: risky streams and snapshots."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from safestream.live.alerts import Alert, AlertRouter, CallbackSink
from safestream.live.monitor import LocalMatchService, MatchService, StreamSpec
from safestream.live.risk import StreamEvent
from safestream.live.snapshots import SnapshotIngest
from safestream.media.features.bank import FeatureBank
from safestream.media.features.extract import bank_features
from safestream.media.features.stage import LocalStage
from safestream.media.synthetic import sample_photo, write_clip
from safestream.store.banks import BankRepository, NewFeatures

from .conftest import Watch


def cropped_with_banner(name: str) -> np.ndarray:
    """A 20% crop of a known photo with a caption bar: PDQ no longer finds it."""
    pixels = sample_photo(name)
    h, w = pixels.shape[:2]
    out = pixels[h // 10 : h - h // 10, w // 10 : w - w // 10].copy()
    out[-out.shape[0] // 6 :] = 255
    return out


def local_service(banks: BankRepository, tmp_path: Path) -> LocalMatchService:
    banks.create("rooms_and_items")
    f = bank_features(sample_photo("astronaut"))
    banks.add_local_features("rooms_and_items", [NewFeatures(f.to_bytes(), len(f), "A2")])
    stage = LocalStage(banks, FeatureBank.open(banks, tmp_path / "features"))
    return LocalMatchService(stage)


def test_snapshot_of_a_cropped_known_image_alerts_with_region_and_coverage(
    banks: BankRepository, match_service: MatchService, tmp_path: Path
) -> None:
    alerts: list[Alert] = []
    ingest = SnapshotIngest(
        match_service,
        AlertRouter([CallbackSink(alerts.append)]),
        local_match=local_service(banks, tmp_path),
    )
    buf = io.BytesIO()
    Image.fromarray(cropped_with_banner("astronaut")).save(buf, "PNG")
    new, _ = ingest.post("room7", buf.getvalue(), t=3.0)
    (alert,) = new
    assert (alert.bank, alert.stage, alert.label) == ("rooms_and_items", "local", "A2")
    assert alert.region is not None and alert.coverage is not None and alert.coverage > 0.4
    assert alert.to_json()["stage"] == "local"


def test_risky_stream_runs_the_second_stage_and_alerts(
    banks: BankRepository,
    make_watch: Callable[..., Watch],
    tmp_path: Path,
) -> None:
    clip = write_clip(tmp_path / "cropped.mp4", [cropped_with_banner("astronaut")], seconds=2.0)
    watch = make_watch(evidence=False, local_match=local_service(banks, tmp_path))
    watch.monitor.apply_event(StreamEvent("stream_started", "risky", private=True))
    risky = watch.monitor.risk.assess("risky").score
    stats = watch.run(StreamSpec("risky", str(clip)))
    assert risky >= watch.monitor.local_from_score
    assert stats.local_checked > 0
    assert any(a.stage == "local" and a.bank == "rooms_and_items" for a in watch.alerts)


def test_stream_without_raised_risk_skips_the_second_stage(
    banks: BankRepository,
    make_watch: Callable[..., Watch],
    tmp_path: Path,
) -> None:
    clip = write_clip(tmp_path / "cropped.mp4", [cropped_with_banner("astronaut")], seconds=2.0)
    watch = make_watch(evidence=False, local_match=local_service(banks, tmp_path))
    stats = watch.run(StreamSpec("calm", str(clip)))
    assert stats.local_checked == 0
    assert watch.alerts == []
