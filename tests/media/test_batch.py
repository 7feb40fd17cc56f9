"""The batch runner: input order, per-file errors, and a crashing worker blamed correctly."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from safestream.core.errors import UnsupportedMedia
from safestream.media.batch import iter_files, run_batch
from safestream.media.budget import MIB, FileBudget


def slow_or_crash(path: Path) -> str:
    """Test work: sleeps on `slow*` files, dies hard on `crash*`, refuses `bad*`."""
    if path.name.startswith("crash"):
        time.sleep(0.3)  # let an innocent file be the oldest one in flight when the pool breaks
        os.kill(os.getpid(), signal.SIGKILL)
    if path.name.startswith("bad"):
        raise UnsupportedMedia("not media")
    if path.name.startswith("slow"):
        time.sleep(0.6)
    return path.name


def files(tmp_path: Path, *names: str) -> list[Path]:
    for name in names:
        (tmp_path / name).write_text("x")
    return [tmp_path / n for n in names]


def test_results_keep_input_order(tmp_path: Path) -> None:
    paths = files(tmp_path, "slow-a", "b", "c", "d")
    got = [o.value for o in run_batch(slow_or_crash, paths, workers=2, progress=False)]
    assert got == ["slow-a", "b", "c", "d"]


def test_a_bad_file_is_an_error_and_the_batch_goes_on(tmp_path: Path) -> None:
    paths = files(tmp_path, "a", "bad", "c")
    outcomes = list(run_batch(slow_or_crash, paths, workers=2, progress=False))
    assert [o.error for o in outcomes] == [None, "not media", None]


def test_a_crash_is_blamed_on_its_file_not_on_an_older_one_in_flight(tmp_path: Path) -> None:
    paths = files(tmp_path, "slow-a", "crash", "c", "d")
    outcomes = list(run_batch(slow_or_crash, paths, workers=2, progress=False))
    assert [o.path.name for o in outcomes] == ["slow-a", "crash", "c", "d"]
    assert [o.error is None for o in outcomes] == [True, False, True, True]
    assert "crashed" in (outcomes[1].error or "")


def test_directories_are_walked_recursively_without_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "sub" / ".git").mkdir(parents=True)
    (tmp_path / "sub" / "x.jpg").write_text("x")
    (tmp_path / "sub" / ".hidden.jpg").write_text("x")
    (tmp_path / "sub" / ".git" / "y.jpg").write_text("x")
    (tmp_path / "a.jpg").write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])] == [
        "a.jpg",
        "sub/x.jpg",
    ]


def spin_or_hog(path: Path) -> str:
    """Test work: spins forever on `spin*`, allocates without end on `hog*`, breaks on `bug*`."""
    if path.name.startswith("spin"):
        while True:
            pass
    if path.name.startswith("hog"):
        hoard = []
        while True:
            hoard.append(bytearray(64 * MIB))
    if path.name.startswith("bug"):
        raise AttributeError("'NoneType' object has no attribute 'width'")
    return path.name


TIGHT = FileBudget(cpu_seconds=1, cpu_seconds_per_media_second=0, memory_bytes=256 * MIB)


def test_a_file_over_its_cpu_budget_is_stopped_and_the_batch_goes_on(tmp_path: Path) -> None:
    paths = files(tmp_path, "a", "spin", "c")
    outcomes = list(run_batch(spin_or_hog, paths, workers=2, progress=False, budget=TIGHT))
    assert [o.value for o in outcomes] == ["a", None, "c"]
    assert "took more than its budget of 1 s of CPU" in (outcomes[1].error or "")


def test_a_file_over_its_memory_budget_is_an_error_line(tmp_path: Path) -> None:
    paths = files(tmp_path, "hog", "b")
    outcomes = list(run_batch(spin_or_hog, paths, workers=1, progress=False, budget=TIGHT))
    assert [o.value for o in outcomes] == [None, "b"]
    assert outcomes[0].error == "needs more memory to decode than the limit of 256 MiB"


def test_an_unexpected_exception_costs_one_file_not_the_batch(tmp_path: Path) -> None:
    paths = files(tmp_path, "bug", "b")
    outcomes = list(run_batch(spin_or_hog, paths, workers=2, progress=False))
    assert [o.value for o in outcomes] == [None, "b"]
    assert (outcomes[0].error or "").startswith("internal error: AttributeError")
