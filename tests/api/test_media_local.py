"""`POST /v1/match`: an image PDQ misses goes to the second stage, which reports its fields."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from safestream.media.features.extract import bank_features
from safestream.media.scenes import procedural_scene
from safestream.media.synthetic import sample_photo, write_clip
from safestream.store.banks import BankRepository, NewFeatures
from tests.api.media_fixtures import MediaApi


def _post(api: MediaApi, pixels: object) -> list[dict[str, object]]:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=90)  # type: ignore[call-overload]
    answer = api.client.post(
        "/v1/match", files={"file": ("q.jpg", out.getvalue(), "image/jpeg")}, headers=api.platform
    )
    assert answer.status_code == 200, answer.text
    matches: list[dict[str, object]] = answer.json()["matches"]
    return matches


def test_cropped_copy_matches_in_the_second_stage_with_region(media_api: MediaApi) -> None:
    banks = BankRepository(media_api.app.state.db)
    banks.create("known")
    photo = sample_photo("astronaut")
    f = bank_features(photo)
    banks.add_local_features("known", [NewFeatures(f.to_bytes(), len(f), "A2")])
    h, w = photo.shape[:2]
    (match,) = _post(media_api, photo[h // 10 : h - h // 10, w // 10 : w - w // 10])
    assert (match["bank"], match["stage"], match["label"]) == ("known", "local", "A2")
    region = match["region"]
    assert isinstance(region, list) and len(region) == 4
    assert 0.5 < float(match["coverage"]) <= 1.0  # type: ignore[arg-type]
    assert match["frame_size"] == [w - 2 * (w // 10), h - 2 * (h // 10)]


def test_unrelated_image_has_no_second_stage_match(media_api: MediaApi) -> None:
    banks = BankRepository(media_api.app.state.db)
    banks.create("known")
    f = bank_features(sample_photo("astronaut"))
    banks.add_local_features("known", [NewFeatures(f.to_bytes(), len(f), "A2")])
    assert _post(media_api, sample_photo("coffee")) == []


def test_video_frames_pdq_misses_go_to_the_second_stage(
    media_api: MediaApi, tmp_path: Path
) -> None:
    banks = BankRepository(media_api.app.state.db)
    banks.create("known")
    photo = sample_photo("astronaut")
    f = bank_features(photo)
    banks.add_local_features("known", [NewFeatures(f.to_bytes(), len(f), "A2")])
    scene = np.ascontiguousarray(procedural_scene(3, 1280, 720))
    inset = scene.copy()
    inset[100:460, 700:1060] = np.asarray(Image.fromarray(photo).resize((360, 360)))
    clip = write_clip(tmp_path / "clip.mp4", [scene, inset], seconds=6.0, fps=5)
    answer = media_api.client.post(
        "/v1/match",
        files={"file": ("clip.mp4", clip.read_bytes(), "video/mp4")},
        headers=media_api.platform,
    )
    assert answer.status_code == 200, answer.text
    matches = answer.json()["matches"]
    assert matches and all(m["stage"] == "local" and m["t"] >= 2.5 for m in matches)
    assert matches[0]["frame_size"] == [1280, 720]
