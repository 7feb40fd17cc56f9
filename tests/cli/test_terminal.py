"""Under a real terminal, results still go to stdout and the progress bar to stderr."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageOps
from typer.testing import CliRunner

from safestream.cli import app
from tests.media.hash_samples import photo

PHOTOS = ("chelsea", "coffee", "rocket", "astronaut")


def _read_terminal(master: int, process: subprocess.Popen[bytes]) -> bytes:
    seen = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closes when the process ends
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    return seen


def test_match_redirected_to_a_file_keeps_every_hit_with_the_bar_on_the_terminal(
    tmp_path: Path, home: Path
) -> None:
    env = {**os.environ, "SAFESTREAM_HOME": str(home), "COLUMNS": "100"}
    known, uploads = tmp_path / "known", tmp_path / "uploads"
    known.mkdir()
    uploads.mkdir()
    for name in PHOTOS:
        Image.fromarray(photo(name)).save(known / f"{name}.png")
        ImageOps.mirror(Image.fromarray(photo(name))).save(uploads / f"{name}.jpg", quality=80)
    assert CliRunner().invoke(app, ["bank", "create", "B"]).exit_code == 0
    assert CliRunner().invoke(app, ["bank", "add", "B", str(known)]).exit_code == 0

    master, terminal = pty.openpty()
    hits = tmp_path / "hits.jsonl"
    with hits.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "safestream.cli", "match", str(uploads), "--bank", "B"],
            stdin=terminal, stdout=out, stderr=terminal, env=env,
        )  # fmt: skip
        os.close(terminal)
        on_terminal = _read_terminal(master, process)
        assert process.wait(timeout=60) == 0
    os.close(master)

    lines = [json.loads(line) for line in hits.read_text().splitlines()]
    assert {Path(line["path"]).stem for line in lines} == set(PHOTOS)
    assert all(line["bank"] == "B" for line in lines)
    assert b"matching" in on_terminal  # the progress bar was drawn, on the terminal
    assert b'"bank"' not in on_terminal  # and no result leaked onto it
