"""Commands that write to the store say one clear line when the disk is full, never a traceback.

The SafeStream home sits on a small tmpfs that is filled first (a real full disk, no mocks).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.fault_store import can_mount, fill, small_disk

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
