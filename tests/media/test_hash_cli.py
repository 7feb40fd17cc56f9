"""`safestream hash`: JSON lines on stdout, one error line per bad file on stderr, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from safestream.cli import app
from safestream.core.signals import SignalType, normalize_hash
from safestream.media import hash_records
from safestream.media.synthetic import encode_image
from tests.media.hash_samples import PDQ_DATA, clip, needs_pdq_data, photo

BRIDGE_HASH = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def run(*args: str) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(app, ["hash", *args])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, lines, result.stderr


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.png").write_bytes(encode_image(photo("coffee"), "PNG"))
    (folder / "a.jpg").write_bytes(encode_image(photo("astronaut"), "JPEG"))
    (folder / "sub" / "clip.mp4").write_bytes(clip().read_bytes())
    (folder / ".hidden.jpg").write_bytes(b"skipped")
    return folder


def test_image_line_has_path_kind_hashes_and_size(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(encode_image(photo("astronaut"), "JPEG"))
    code, lines, stderr = run(str(path))
    assert code == 0 and stderr == ""
    (line,) = lines
    assert line["path"] == str(path) and line["kind"] == "image"
    assert normalize_hash(SignalType.PDQ, str(line["pdq"])) == line["pdq"]
    assert {"quality", "md5", "sha256", "width", "height"} <= line.keys()


def test_video_gives_one_line_per_sampled_second_with_t(tmp_path: Path) -> None:
    code, lines, _ = run(str(clip()))
    assert code == 0
    assert [line["t"] for line in lines] == [0.0, 1.0, 2.0]
    assert all(line["kind"] == "video" and "sha256" in line for line in lines)


def test_seconds_per_hash_sets_the_video_sampling_period() -> None:
    code, lines, _ = run("--seconds-per-hash", "0.5", str(clip()))
    assert code == 0
    times = [float(str(line["t"])) for line in lines]
    assert len(times) == 6
    assert all(k * 0.5 <= t < k * 0.5 + 0.1 for k, t in enumerate(times))


def test_folder_is_walked_recursively_in_sorted_order_skipping_hidden(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    code, lines, _ = run("--jobs", "2", str(folder))
    assert code == 0
    paths = [Path(str(line["path"])).name for line in lines]
    assert paths == ["a.jpg", "b.png", "clip.mp4", "clip.mp4", "clip.mp4"]


@needs_pdq_data()
def test_exact_flag_gives_reference_hashes() -> None:
    code, lines, _ = run("--exact", str(PDQ_DATA / "bridge-mods" / "aaa-orig.jpg"))
    assert code == 0 and lines[0]["pdq"] == BRIDGE_HASH


def test_dihedral_flag_adds_eight_named_hashes(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(encode_image(photo("chelsea"), "PNG"))
    _, lines, _ = run("--dihedral", str(path))
    dihedral = lines[0]["dihedral"]
    assert isinstance(dihedral, dict) and len(dihedral) == 8
    assert dihedral["original"] == lines[0]["pdq"]


def test_bad_files_get_one_error_line_each_and_the_batch_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    good.write_bytes(encode_image(photo("coffee"), "PNG"))
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    code, lines, stderr = run(str(empty), str(good), str(text), str(tmp_path / "missing.jpg"))
    assert code == 1
    assert [line["path"] for line in lines] == [str(good)]
    errors = stderr.strip().splitlines()
    assert len(errors) == 3
    assert all(name in stderr for name in ("empty.jpg", "notes.txt", "missing.jpg"))


def test_a_worker_crash_costs_only_the_file_that_caused_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: forked workers inherit this patch and die hard on one file, as a
    # decoder segfault on hostile input would.
    real_hash_image = hash_records.hash_image

    def crashing_hash_image(path: Path, **options: Any) -> Any:
        if Path(path).name == "crash.png":
            os.kill(os.getpid(), signal.SIGKILL)
        return real_hash_image(path, **options)

    monkeypatch.setattr(hash_records, "hash_image", crashing_hash_image)
    names = ["crash.png", "a.png", "b.png", "d.png", "e.png"]
    for name in names:
        (tmp_path / name).write_bytes(encode_image(photo("coffee")[:100, :100], "PNG"))
    code, lines, stderr = run("--jobs", "2", *(str(tmp_path / n) for n in names))
    assert code == 1
    assert [Path(str(line["path"])).name for line in lines] == ["a.png", "b.png", "d.png", "e.png"]
    assert stderr.count("error:") == 1
    assert "crash.png" in stderr and "crashed" in stderr


def test_unknown_option_is_a_usage_error() -> None:
    code, _, _ = run("--no-such-option", "x")
    assert code == 2


def test_no_path_is_a_usage_error() -> None:
    assert run()[0] == 2


def test_stdout_holds_only_json_when_run_as_a_program(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "bad.jpg").write_bytes(b"\xff\xd8\xff garbage")
    result = subprocess.run(
        [sys.executable, "-m", "safestream.cli", "hash", str(folder)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert all(json.loads(line) for line in result.stdout.splitlines())
    assert result.stderr.count("bad.jpg") == 1
