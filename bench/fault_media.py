"""A folder of corrupt and hostile media mixed with good files, and what the CLI makes of it.

Shared by the fault test (a short folder) and `bench_faults` (200 files). Every file is made
here from benign generated media (`bench.hostile_media`); nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.hostile_media import (
    bit_flipped,
    flipped_in_header,
    good_clip,
    good_image,
    png_claiming,
    resolution_switch,
    with_edit_list,
    with_many_streams,
    with_unknown_codec,
)

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "moon", "brick")
# Kinds of bad file, each made from a good one; the name prefix says which kind a file is.
BAD_KINDS = (
    "unknown-codec", "edit-list-1m", "size-switch", "streams-3000", "flipped-header",
    "truncated", "png-bomb-header", "garbage",
)  # fmt: skip


@dataclass
class MediaFolder:
    """The files of a mixed folder, by what they are."""

    root: Path
    good: list[Path] = field(default_factory=list)
    bad: list[Path] = field(default_factory=list)


def mixed_folder(root: Path, total: int) -> MediaFolder:
    """About a quarter good images and clips, the rest bad files of every kind."""
    root.mkdir(parents=True, exist_ok=True)
    seeds = root / ".seeds"  # hidden: the batch walk skips it
    seeds.mkdir(exist_ok=True)
    clip = good_clip(seeds / "clip.mp4").read_bytes()
    switch = resolution_switch(seeds / "switch.ts", (160, 120), (9000, 9000)).read_bytes()
    bomb = with_edit_list(clip, 1_000_000)
    folder = MediaFolder(root)
    good_count = max(len(PHOTOS) + 2, total // 4)
    for i in range(good_count):
        if i % 5 == 4:
            path = root / f"good-{i:03d}.mp4"
            good_clip(path, PHOTOS[i % len(PHOTOS)], seconds=1.0)
        else:
            path = root / f"good-{i:03d}.{'png' if i % 2 else 'jpg'}"
            path.write_bytes(good_image(PHOTOS[i % len(PHOTOS)], "PNG" if i % 2 else "JPEG"))
        folder.good.append(path)
    for i in range(total - good_count):
        kind = BAD_KINDS[i % len(BAD_KINDS)]
        data = _bad(kind, i, clip, switch, bomb)
        suffix = ".ts" if kind == "size-switch" else ".png" if kind == "png-bomb-header" else ".mp4"
        path = root / f"bad-{kind}-{i:03d}{suffix}"
        path.write_bytes(data)
        folder.bad.append(path)
    return folder


def _bad(kind: str, seed: int, clip: bytes, switch: bytes, bomb: bytes) -> bytes:
    if kind == "unknown-codec":
        return with_unknown_codec(clip)
    if kind == "edit-list-1m":
        return bomb
    if kind == "size-switch":
        return switch
    if kind == "streams-3000":
        return with_many_streams(clip, 3000)
    if kind == "flipped-header":
        return with_unknown_codec(flipped_in_header(clip, seed))
    if kind == "truncated":
        return clip[: len(clip) // 3]
    if kind == "png-bomb-header":
        return png_claiming(20_000, 20_000)
    return bit_flipped(os.urandom(4096), seed)


@dataclass
class CommandRun:
    """One CLI run over the folder: wall and CPU seconds (its workers included), peak RSS of its
    largest process (0 where GNU time is missing)."""

    command: str
    seconds: float
    cpu_seconds: float
    max_rss_mb: float
    exit_code: int
    stdout: list[dict[str, object]]
    error_lines: list[str]


GNU_TIME = "/usr/bin/time"


def run_cli(args: list[str], home: Path) -> CommandRun:
    """Run `safestream ARGS` as a user would; time it and take its peak memory (workers too)."""
    env = {**os.environ, "SAFESTREAM_HOME": str(home)}
    env.pop("SAFESTREAM_DATABASE_URL", None)
    usage = home.parent / f".rusage-{os.getpid()}"
    timer = [GNU_TIME, "-f", "%M", "-o", str(usage)] if Path(GNU_TIME).exists() else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(
        [*timer, sys.executable, "-m", "safestream.cli", *args],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    peak = float(usage.read_text().split()[-1]) / 1024 if timer else 0.0
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    return CommandRun(" ".join(args[:2]), seconds, cpu, peak, done.returncode, lines, errors)


@dataclass
class FolderResult:
    """What hash, bank add and match made of a mixed folder."""

    files: int
    good: int
    bad: int
    runs: list[CommandRun]
    good_hashed: int
    good_matched: int
    bad_with_one_error_line: int
    other_error_lines: int
    # The costliest bad kind hashed alone by CPU: kind, CPU seconds, wall seconds, peak MB.
    slowest_bad_kind: tuple[str, float, float, float]


def run_folder(root: Path, total: int, home: Path, *, time_each_kind: bool = True) -> FolderResult:
    """Make the folder; hash it; bank the good files; match the whole folder (and with
    `time_each_kind`, hash one file of each bad kind alone for its time and peak memory)."""
    folder = mixed_folder(root, total)
    hashed = run_cli(["hash", str(root)], home)
    run_cli(["bank", "create", "known"], home)
    good_dir = root.parent / f"{root.name}-good"
    good_dir.mkdir(exist_ok=True)
    for path in folder.good:
        shutil.copy(path, good_dir / path.name)
    added = run_cli(["bank", "add", "known", str(good_dir)], home)
    matched = run_cli(["match", str(root)], home)
    hashed_paths = {str(line["path"]) for line in hashed.stdout}
    matched_paths = {str(line["path"]) for line in matched.stdout if "bank" in line}
    one_line = 0
    for path in folder.bad:
        counts = [sum(1 for e in run.error_lines if e.startswith(f"error: {path}:"))
                  for run in (hashed, matched)]  # fmt: skip
        one_line += counts == [1, 1]
    named = {str(p) for p in folder.bad}
    others = sum(1 for run in (hashed, matched) for e in run.error_lines
                 if e.split(": ")[1] not in named)  # fmt: skip
    worst = ("", 0.0, 0.0, 0.0)
    for kind in BAD_KINDS if time_each_kind else ():
        sample = next(p for p in folder.bad if p.name.startswith(f"bad-{kind}-"))
        alone = run_cli(["hash", str(sample)], home)
        if alone.cpu_seconds > worst[1]:
            worst = (kind, alone.cpu_seconds, alone.seconds, alone.max_rss_mb)
    return FolderResult(
        total, len(folder.good), len(folder.bad), [hashed, added, matched],
        sum(1 for p in folder.good if str(p) in hashed_paths),
        sum(1 for p in folder.good if str(p) in matched_paths),
        one_line, others, worst,
    )  # fmt: skip
