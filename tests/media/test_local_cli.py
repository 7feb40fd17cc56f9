"""`safestream bank add --local` and `safestream match`: second-stage matches and their fields."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from safestream.cli import app
from safestream.media.scenes import View, make_room, procedural_scene, render_room
from safestream.media.synthetic import write_clip
from tests.cli.json_lines import run_cli as run
from tests.media.hash_samples import photo


@pytest.fixture
def media(tmp_path: Path) -> Path:
    (tmp_path / "known").mkdir()
    (tmp_path / "query").mkdir()
    astronaut = photo("astronaut")
    Image.fromarray(astronaut).save(tmp_path / "known" / "astronaut.png")
    h, w = astronaut.shape[:2]
    Image.fromarray(astronaut[h // 10 : h - h // 10, w // 10 : w - w // 10]).save(
        tmp_path / "query" / "astronaut-cropped.jpg", quality=85
    )
    Image.fromarray(photo("coffee")).save(tmp_path / "query" / "coffee.jpg")
    return tmp_path


def test_cropped_copy_is_found_by_the_second_stage_with_region(home: Path, media: Path) -> None:
    run("bank", "create", "known")
    code, _, err = run("bank", "add", "known", str(media / "known"), "--label", "A2", "--local")
    assert code == 0, err
    code, lines, _ = run("match", str(media / "query"))
    assert code == 0
    (hit,) = lines
    assert str(hit["path"]).endswith("astronaut-cropped.jpg")
    assert hit["stage"] == "local" and hit["variant"] == "local" and hit["label"] == "A2"
    region = hit["region"]
    assert isinstance(region, dict) and set(region) == {"x", "y", "width", "height"}
    assert 0.5 < float(hit["coverage"]) <= 1.0  # type: ignore[arg-type]
    frame = hit["frame"]
    assert isinstance(frame, dict)
    assert region["x"] + region["width"] <= frame["width"]
    assert region["y"] + region["height"] <= frame["height"]
    assert int(hit["inliers"]) >= 14  # type: ignore[call-overload]


def test_match_report_files_the_second_stage_match_as_a_region_event(
    home: Path, media: Path
) -> None:
    from safestream.cli.context import open_store
    from safestream.core.events import RegionMatchFound
    from safestream.media.exact_hashes import file_digests
    from tests.cases.test_event_walkthrough import _stored_events

    run("bank", "create", "known")
    run("bank", "add", "known", str(media / "known"), "--label", "A2", "--local")
    query = media / "query" / "astronaut-cropped.jpg"
    code, lines, err = run("match", "--report", str(query))
    assert code == 0, err
    (filed,) = [x for x in lines if x["kind"] == "report"]
    events = _stored_events(open_store().db, str(filed["report_id"]))
    (region,) = [e for e in events if isinstance(e, RegionMatchFound)]
    width, height = Image.open(query).size
    assert region.frame_size == (width, height) and region.stage == "local"
    assert region.media_sha256 == file_digests(query)[1]
    assert region.coverage > 0.5 and region.inliers >= 14


def test_a_video_showing_a_known_photo_small_is_matched_frame_by_frame(
    home: Path, media: Path
) -> None:
    scene = np.ascontiguousarray(procedural_scene(3, 1280, 720))
    inset = scene.copy()
    inset[100:460, 700:1060] = np.asarray(Image.fromarray(photo("astronaut")).resize((360, 360)))
    clip = write_clip(media / "clip.mp4", [scene, inset], seconds=6.0, fps=5)
    run("bank", "create", "known")
    run("bank", "add", "known", str(media / "known"), "--label", "A2", "--local")
    code, lines, err = run("match", str(clip))
    assert code == 0, err
    assert lines and all(x["kind"] == "video" and x["stage"] == "local" for x in lines)
    assert min(float(x["t"]) for x in lines) >= 2.5  # type: ignore[arg-type]
    first = lines[0]
    assert first["frame"] == {"width": 1280, "height": 720}
    region = first["region"]
    assert isinstance(region, dict)
    assert 250 < region["width"] < 500 and 250 < region["height"] < 500
    assert region["x"] + region["width"] <= 1280 and region["y"] + region["height"] <= 720


def test_pdq_matches_say_their_stage(home: Path, media: Path) -> None:
    run("bank", "create", "known")
    run("bank", "add", "known", str(media / "known"), "--local")
    code, lines, _ = run("match", str(media / "known" / "astronaut.png"))
    assert code == 0
    assert lines and all(line["stage"] == "pdq" and "region" not in line for line in lines)


def test_no_local_option_keeps_to_pdq(home: Path, media: Path) -> None:
    run("bank", "create", "known")
    run("bank", "add", "known", str(media / "known"), "--local")
    code, lines, _ = run("match", "--no-local", str(media / "query"))
    assert code == 0 and lines == []


def test_room_bank_keeps_features_and_finds_the_room_again(home: Path, tmp_path: Path) -> None:
    room = make_room(5)
    Image.fromarray(render_room(room, View())).save(tmp_path / "room.png")
    later = render_room(room, View(x=0.3, yaw=-6, gain=0.8), 1280, 720, seed=3)
    Image.fromarray(later).save(tmp_path / "frame.jpg", quality=85)
    code, (created,), _ = run("bank", "create", "rooms", "--kind", "room")
    assert code == 0 and created["kind"] == "room"
    code, _, err = run("bank", "add", "rooms", str(tmp_path / "room.png"))
    assert code == 0, err
    code, lines, _ = run("match", str(tmp_path / "frame.jpg"))
    assert code == 0
    (hit,) = lines
    assert hit["bank"] == "rooms" and hit["stage"] == "local"


def test_plain_wall_is_refused_as_a_room_photo(home: Path, tmp_path: Path) -> None:
    Image.fromarray(np.full((480, 640, 3), 200, np.uint8)).save(tmp_path / "wall.png")
    run("bank", "create", "rooms", "--kind", "room")
    _, _, err = run("bank", "add", "rooms", str(tmp_path / "wall.png"))
    assert "too plain" in err


def test_export_leaves_out_local_feature_records(home: Path, media: Path) -> None:
    run("bank", "create", "known")
    run("bank", "add", "known", str(media / "known"), "--local")
    result = CliRunner().invoke(app, ["bank", "export", "known", "--format", "csv"])
    assert result.exit_code == 0
    assert "local" not in result.stdout and "pdq" in result.stdout
