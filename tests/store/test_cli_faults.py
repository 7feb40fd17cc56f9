"""Commands that write to the store say one clear line when the disk is full, never a traceback.

The SafeStream home sits on a small tmpfs that is filled first (a real full disk, no mocks).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from bench.fault_store import can_mount, fill, small_disk
from bench.hostile_media import good_image

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not can_mount(), reason="needs root to mount a small tmpfs"),
]


def safestream(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAFESTREAM_HOME": str(home)}
    env.pop("SAFESTREAM_DATABASE_URL", None)
    command = [sys.executable, "-m", "safestream.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


@pytest.fixture
def full_home(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk", 24) as disk:
        home = disk / "home"
        assert safestream(home, "bank", "create", "first").returncode == 0  # store migrated
        fill(disk, leave_bytes=0)
        yield home


@pytest.mark.parametrize(
    "args",
    [("bank", "create", "second"), ("org", "create", "Acme Video")],
    ids=["bank create", "org create"],
)
def test_a_write_on_a_full_disk_is_one_error_line(full_home: Path, args: tuple[str, ...]) -> None:
    done = safestream(full_home, *args)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "disk is full" in lines[0]


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` remounted read-only (a bind mount), as a full or failing disk leaves it."""
    subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_match_works_from_memory_with_a_warning_when_the_index_cannot_be_saved(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    first.write_bytes(good_image("chelsea", "PNG"))
    second.write_bytes(good_image("coffee", "PNG"))
    assert safestream(home, "bank", "create", "known").returncode == 0
    assert safestream(home, "bank", "add", "known", str(first)).returncode == 0
    assert safestream(home, "match", str(first)).returncode == 0  # saves the index
    assert safestream(home, "bank", "add", "known", str(second)).returncode == 0
    with read_only(home / "index"):
        done = safestream(home, "match", str(second))
    assert done.returncode == 0, done.stderr
    assert '"bank":"known"' in done.stdout
    assert "Traceback" not in done.stderr
    assert "warning: the bank index could not be saved" in done.stderr
