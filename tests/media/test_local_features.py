"""Second matching stage: finds crops, banners and rooms; refuses generic scenes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from safestream.core.errors import InvalidInput
from safestream.media.features.bank import FeatureBank
from safestream.media.features.extract import (
    BANK_KEYPOINTS,
    LocalFeatures,
    bank_features,
    extract_features,
)
from safestream.media.features.stage import LocalStage
from safestream.media.features.verify import MEDIA_POLICY, ROOM_POLICY, correspondences, verify
from safestream.media.scenes import View, make_room, procedural_scene, render_room, texture
from safestream.media.synthetic import sample_photo
from safestream.store.banks import BankRepository, NewFeatures


def record(pixels: np.ndarray, label: str = "A2") -> NewFeatures:
    features = bank_features(pixels)
    return NewFeatures(features.to_bytes(), len(features), label=label)


def crop(pixels: np.ndarray, percent: float) -> np.ndarray:
    h, w = pixels.shape[:2]
    dx, dy = int(w * percent / 200), int(h * percent / 200)
    return pixels[dy : h - dy, dx : w - dx]


def picture_in_picture(pixels: np.ndarray) -> np.ndarray:
    canvas = np.full((720, 1280, 3), 90, np.uint8)
    small = cv2.resize(pixels, (640, 640 * pixels.shape[0] // pixels.shape[1]))
    canvas[40 : 40 + small.shape[0], 600 : 600 + small.shape[1]] = small[: 720 - 40]
    return canvas


def quarter_frame(pixels: np.ndarray) -> np.ndarray:
    """The photo fitted into a quarter of a 720p frame (640 x 360) over a generated scene."""
    frame = np.ascontiguousarray(cv2.resize(procedural_scene(5), (1280, 720)))
    h, w = pixels.shape[:2]
    s = min(640 / w, 360 / h)
    small = cv2.resize(pixels, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
    frame[300 : 300 + small.shape[0], 600 : 600 + small.shape[1]] = small
    return frame


def full_size_only(features: LocalFeatures) -> LocalFeatures:
    """A bank record without the keypoints found on the shrunk image."""
    keep = slice(0, BANK_KEYPOINTS)
    return LocalFeatures(
        features.width, features.height, features.points[keep], features.descriptors[keep]
    )


def test_feature_record_round_trips_within_20_kb() -> None:
    features = bank_features(sample_photo("astronaut"))
    data = features.to_bytes()
    back = LocalFeatures.from_bytes(data)
    assert len(data) <= 20 * 1024
    assert np.array_equal(back.descriptors, features.descriptors)
    assert np.allclose(back.points, features.points, atol=0.02)


def test_malformed_feature_record_is_refused() -> None:
    data = bank_features(sample_photo("astronaut")).to_bytes()
    with pytest.raises(InvalidInput):
        LocalFeatures.from_bytes(data[:-5])
    with pytest.raises(InvalidInput):
        LocalFeatures.from_bytes(b"JUNK" + data[4:])


def test_twenty_percent_crop_is_found_with_region_and_coverage() -> None:
    photo = sample_photo("astronaut")
    found = verify(extract_features(crop(photo, 20)), bank_features(photo))
    assert found is not None
    assert 0.5 <= found.coverage <= 0.8  # a 20% crop keeps 80% x 80% of the image
    assert found.region[2] > 300 and found.region[3] > 300


def test_a_photo_shown_at_a_quarter_of_the_frame_is_found_by_its_small_scale_keypoints() -> None:
    photo = sample_photo("hubble_deep_field")  # fine detail: at 360 px little of it survives
    frame = extract_features(quarter_frame(photo))
    found = verify(frame, bank_features(photo))
    assert found is not None
    x, y, _, h = found.region
    assert abs(x - 600) < 20 and abs(y - 300) < 20 and abs(h - 360) < 20
    assert verify(frame, full_size_only(bank_features(photo))) is None


def test_a_keypoint_kept_at_two_scales_is_not_its_own_rival_in_the_ratio_test() -> None:
    photo = sample_photo("astronaut")
    bank = full_size_only(bank_features(photo))
    twice = LocalFeatures(
        bank.width,
        bank.height,
        np.concatenate([bank.points, bank.points + 1.0]),
        np.concatenate([bank.descriptors, bank.descriptors]),
    )
    query = extract_features(crop(photo, 10))
    once_found = len(correspondences(query, bank)[0])
    assert once_found > 50
    assert len(correspondences(query, twice)[0]) >= once_found


def test_picture_in_picture_region_is_where_the_photo_was_pasted() -> None:
    photo = sample_photo("chelsea")
    found = verify(extract_features(picture_in_picture(photo)), bank_features(photo))
    assert found is not None
    x, y, w, _ = found.region
    assert abs(x - 600) < 20 and abs(y - 40) < 20 and abs(w - 640) < 30
    assert found.coverage > 0.9


def test_unrelated_photo_is_refused() -> None:
    found = verify(extract_features(sample_photo("coffee")), bank_features(sample_photo("rocket")))
    assert found is None


def test_repeated_texture_is_refused() -> None:
    # Two different tilings of one motif: many descriptor matches, no single consistent view.
    rng = np.random.default_rng(3)
    tile = texture(rng, "blobs", size=48)
    wall = np.tile(tile, (8, 14, 1))
    other = np.roll(np.tile(tile, (8, 14, 1))[:, ::-1], 17, axis=1)
    assert verify(extract_features(other), bank_features(wall), ROOM_POLICY) is None


def test_generic_rooms_with_shared_furniture_do_not_match() -> None:
    # Plain walls and furniture from one small catalogue: the scene a room bank must not match.
    refused = 0
    for seed in range(6):
        bank = bank_features(render_room(make_room(seed, generic=True), View()))
        query = render_room(make_room(seed + 50, generic=True), View(x=0.2, yaw=5), 1280, 720)
        refused += verify(extract_features(query), bank, ROOM_POLICY) is None
    assert refused == 6


def test_banked_room_matches_from_a_new_viewpoint_and_light() -> None:
    room = make_room(11)
    bank = bank_features(render_room(room, View()))
    view = View(x=0.3, z=-0.3, yaw=-8, pitch=-7, gain=0.7, tint=(1.1, 1.0, 0.9), noise=5)
    found = verify(extract_features(render_room(room, view, 1280, 720, seed=1)), bank, ROOM_POLICY)
    assert found is not None


def test_plain_wall_gives_no_features_to_bank() -> None:
    wall = np.full((480, 640, 3), 180, np.uint8)
    assert len(bank_features(wall)) < MEDIA_POLICY.min_inliers


def test_stage_reports_local_match_fields(banks: BankRepository, tmp_path: Path) -> None:
    photo = sample_photo("rocket")
    banks.create("known")
    (entry_id,) = banks.add_local_features("known", [record(photo)])
    stage = LocalStage(banks, FeatureBank.open(banks, tmp_path / "features"))
    (match,) = stage.match_pixels(crop(photo, 10))
    assert (match.bank, match.entry_id, match.stage) == ("known", entry_id, "local")
    assert match.region is not None and match.coverage is not None and match.coverage > 0.6
    assert match.extra["inliers"] >= MEDIA_POLICY.min_inliers  # type: ignore[operator]


def test_allowlisted_scene_silences_the_frame(banks: BankRepository, tmp_path: Path) -> None:
    photo = sample_photo("coffee")
    banks.create("known")
    banks.create("common", negative=True)
    banks.add_local_features("known", [record(photo)])
    banks.add_local_features("common", [record(photo, label="benign")])
    stage = LocalStage(banks, FeatureBank.open(banks, tmp_path / "features"))
    assert stage.match_pixels(crop(photo, 10)) == []


def test_room_allowlist_silences_a_common_hotel_room_and_a_distinct_room_still_matches(
    banks: BankRepository, tmp_path: Path
) -> None:
    # A case's room photos: the distinct room a stream came from, and a chain-hotel room (plain
    # walls, catalogue bed and curtains) that streams from any of its copies also show.
    distinct, hotel = make_room(31), make_room(703, generic=True)
    banks.create("case_rooms", kind="room")
    distinct_id, hotel_id = banks.add_local_features(
        "case_rooms",
        [
            record(render_room(distinct, View(), 960, 540)),
            record(render_room(hotel, View(), 960, 540)),
        ],
    )
    new_light = {"gain": 0.8, "tint": (1.1, 1.0, 0.9), "noise": 5.0}
    hotel_frame = render_room(
        hotel, View(x=0.25, z=-0.2, yaw=-6, pitch=-8, **new_light), 1280, 720, seed=1
    )
    distinct_frame = render_room(
        distinct, View(x=0.3, z=-0.3, yaw=-8, pitch=-7, **new_light), 1280, 720, seed=1
    )
    before = LocalStage(banks, FeatureBank.open(banks, tmp_path / "before"))
    assert [m.entry_id for m in before.match_pixels(hotel_frame)] == [hotel_id]

    # The hotline's allowlist of common scenes: that hotel room photographed elsewhere, and
    # another generic room.
    banks.create("common_scenes", negative=True)
    allowlist = [
        render_room(hotel, View(x=-0.3, z=-0.4, yaw=6, gain=1.1), 960, 540, seed=3),
        render_room(make_room(704, generic=True), View(), 960, 540),
    ]
    banks.add_local_features("common_scenes", [record(p, label="benign") for p in allowlist])
    stage = LocalStage(banks, FeatureBank.open(banks, tmp_path / "after"))
    assert stage.match_pixels(hotel_frame) == []
    assert stage.stats.silenced == 1
    (match,) = stage.match_pixels(distinct_frame)
    assert (match.entry_id, match.stage, match.extra["bank_kind"]) == (distinct_id, "local", "room")


def test_feature_bank_catches_up_after_reopen(banks: BankRepository, tmp_path: Path) -> None:
    banks.create("rooms", kind="room")
    first = FeatureBank.open(banks, tmp_path / "features")
    room = make_room(21)
    (entry_id,) = banks.add_local_features("rooms", [record(render_room(room, View()))])
    reopened = FeatureBank.open(banks, tmp_path / "features")
    assert len(first.index) == 0 and len(reopened.index) == 1
    assert reopened.index.kind_of(entry_id) == "room"
    banks.remove_entry("rooms", entry_id)
    reopened.refresh()
    assert len(reopened.index) == 0


def test_feature_record_over_20_kb_is_refused(banks: BankRepository) -> None:
    banks.create("known")
    with pytest.raises(InvalidInput):
        banks.add_local_features("known", [NewFeatures(b"x" * (20 * 1024 + 1), 1)])


def test_exhausted_budget_still_verifies_the_best_candidate(
    banks: BankRepository, tmp_path: Path
) -> None:
    photo = sample_photo("astronaut")
    banks.create("known")
    banks.add_local_features("known", [record(photo), record(sample_photo("coffee"))])
    stage = LocalStage(banks, FeatureBank.open(banks, tmp_path / "features"), budget_ms=0.0)
    (match,) = stage.match_pixels(crop(photo, 10))
    assert match.stage == "local"
    assert stage.stats.over_budget == 1


def test_ivf_index_round_trips_through_its_files(tmp_path: Path) -> None:
    from safestream.media.features.index import IVF_FROM, FeatureIndex

    rng = np.random.default_rng(0)
    index = FeatureIndex()
    items = []
    for entry_id in range(IVF_FROM // 256 + 20):
        points = rng.uniform(0, 600, (256, 2)).astype(np.float32)
        desc = rng.integers(0, 256, (256, 32), dtype=np.uint8)
        items.append((entry_id, LocalFeatures(640, 640, points, desc), "media"))
    index.add_many(items)
    index.remove(3)
    index.save(tmp_path / "idx")
    loaded = FeatureIndex.load(tmp_path / "idx")
    query = index.features_of(7)
    assert type(loaded._index).__name__ == "IndexBinaryIVF"
    assert loaded.candidates(query) == index.candidates(query)
    assert loaded.candidates(query)[0][0] == 7
    assert len(loaded) == len(items) - 1


def test_features_of_a_reduced_video_frame_are_measured_in_the_full_frames_pixels() -> None:
    from safestream.media.features.video import frame_features
    from safestream.media.video import SampledFrame

    grey = cv2.cvtColor(cv2.resize(sample_photo("astronaut"), (960, 540)), cv2.COLOR_RGB2GRAY)
    sample = SampledFrame(25, 1.0, grey.astype(np.float32), full_width=1920, full_height=1080)
    features = frame_features(sample).features
    assert features.width == 640
    assert round(features.width / features.scale) == 1920
    assert round(features.height / features.scale) == 1080
