"""Whole-process CLI times: `--help`, `hash` of 1 and of 120 1080p JPEGs, and `watch` start-up.

What a user meets, start-up included: every figure is the wall time of a fresh process, the
median of repeated runs. The peer for hashing is the script a user would otherwise write
(Pillow decode, RGB, `pdqhash.compute`, one line per file), run the same way. Both hashers are
pinned to one CPU. `watch` is timed from process start to its first request to the stream
(an HLS playlist URL on a local HTTP server that records the request).

Targets (issue 9): `--help` < 0.3 s; `hash` of one 1080p JPEG < 0.6 s; `hash` of 120 1080p
JPEGs at least 5x faster than the peer; `watch` connects well under 2 s after start.

Run: `.venv/bin/python -m bench.bench_cli [--quick] [--write-results]`
"""

from __future__ import annotations

import argparse
import http.server
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import ClassVar

import numpy as np

from bench.tables import markdown_table
from safestream.media.kernels import load_aot
from safestream.media.synthetic import encode_image, resized

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "retina", "clock")
RESULTS = Path(__file__).resolve().parent / "results" / "cli.md"
BATCH = 120
SAFESTREAM = [sys.executable, "-m", "safestream.cli"]
PEER_SCRIPT = """
import sys
import numpy as np
import pdqhash
from PIL import Image
for path in sys.argv[1:]:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    bits, quality = pdqhash.compute(rgb)
    print(path, np.packbits(bits).tobytes().hex(), quality)
"""


def one_cpu() -> None:  # runs in the child before exec
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


CPU_TIMES: dict[str, float] = {}


def median_seconds(command: list[str], repeats: int, env: dict[str, str]) -> float:
    """Median wall time of `command` as a fresh process on one CPU; it must succeed.

    The median CPU time (user + system) is kept in `CPU_TIMES`: on a shared machine it is what
    the process would take alone."""
    times, cpu = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env, preexec_fn=one_cpu,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    CPU_TIMES[" ".join(command)] = statistics.median(cpu)
    return statistics.median(times)


def cpu_of(command: list[str]) -> float:
    """The median CPU seconds of a command `median_seconds` ran."""
    return CPU_TIMES[" ".join(command)]


def write_jpegs(folder: Path, count: int) -> list[Path]:
    """`count` different 1080p JPEGs (q90) made from scikit-image's sample photos."""
    import skimage.data

    paths = []
    for i in range(count):
        pixels = np.asarray(getattr(skimage.data, PHOTOS[i % len(PHOTOS)])())
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        pixels = pixels[..., :3].astype(np.uint8)
        if (i // len(PHOTOS)) % 2:
            pixels = pixels[:, ::-1]
        shifted = np.clip(pixels.astype(np.int16) + (i * 7) % 23 - 11, 0, 255).astype(np.uint8)
        path = folder / f"photo-{i:03d}.jpg"
        path.write_bytes(encode_image(resized(shifted, 1920, 1080), "JPEG", quality=90))
        paths.append(path)
    return paths


class _FirstRequest(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[float]] = []

    def do_GET(self) -> None:
        _FirstRequest.seen.append(time.perf_counter())
        self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        pass


def watch_connect_seconds(env: dict[str, str], repeats: int) -> float:
    """Median time from starting `safestream watch URL` to its first request to URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FirstRequest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/live/stream.m3u8"
    times = []
    try:
        for _ in range(repeats):
            _FirstRequest.seen.clear()
            started = time.perf_counter()
            process = subprocess.Popen(
                [*SAFESTREAM, "watch", url, "--reconnects", "0", "--open-timeout", "5"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            )  # fmt: skip
            deadline = started + 30
            while not _FirstRequest.seen and time.perf_counter() < deadline:
                time.sleep(0.005)
            process.terminate()
            process.wait(timeout=30)
            times.append(_FirstRequest.seen[0] - started if _FirstRequest.seen else float("inf"))
    finally:
        server.shutdown()
    return statistics.median(times)


def _row(task: str, peer: float | None, ours: float, target: str) -> list[str]:
    # CPU rows (user + system seconds) show what each process costs alone on a busy machine.
    ratio = f"{peer / ours:.1f}x" if peer else "-"
    shown = f"{peer:.3f}" if peer else "-"
    return [task, shown, f"{ours:.3f}", ratio, target]


def measure(folder: Path, repeats: int, env: dict[str, str]) -> list[list[str]]:
    """The table rows: task, peer seconds, SafeStream seconds, speed-up, target."""
    photos = write_jpegs(folder, BATCH)
    peer_script = folder / "peer_hash.py"
    peer_script.write_text(PEER_SCRIPT)
    peer = [sys.executable, str(peer_script)]
    ours_hash = [*SAFESTREAM, "hash", "--jobs", "1"]
    # Warm the OS file cache and any compile caches before timing.
    median_seconds([*ours_hash, str(photos[0])], 1, env)
    median_seconds([*peer, str(photos[0])], 1, env)
    timed: list[tuple[str, Callable[[], float | None], Callable[[], float], str]] = [
        ("safestream --help", lambda: None,
         lambda: median_seconds([*SAFESTREAM, "--help"], repeats, env), "< 0.3 s"),
        ("hash 1 JPEG 1080p", lambda: median_seconds([*peer, str(photos[0])], repeats, env),
         lambda: median_seconds([*ours_hash, str(photos[0])], repeats, env), "< 0.6 s"),
        (f"hash {BATCH} JPEGs 1080p, 1 CPU",
         lambda: median_seconds([*peer, *map(str, photos)], max(1, repeats // 2), env),
         lambda: median_seconds([*ours_hash, *map(str, photos)], max(1, repeats // 2), env),
         ">= 5x peer"),
        ("watch: start to first request", lambda: None,
         lambda: watch_connect_seconds(env, max(1, repeats // 2)), "well under 2 s"),
    ]  # fmt: skip
    rows = [_row(task, peer_t(), ours_t(), target) for task, peer_t, ours_t, target in timed]
    one, batch = [str(photos[0])], [str(p) for p in photos]
    cpu_rows = [
        ("CPU: safestream --help", None, cpu_of([*SAFESTREAM, "--help"]), "< 0.3 s"),
        ("CPU: hash 1 JPEG 1080p", cpu_of([*peer, *one]), cpu_of([*ours_hash, *one]), "< 0.6 s"),
        (f"CPU: hash {BATCH} JPEGs 1080p", cpu_of([*peer, *batch]), cpu_of([*ours_hash, *batch]),
         ">= 5x peer"),
    ]  # fmt: skip
    return rows + [_row(*row) for row in cpu_rows]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print settings and the side-by-side table; optionally write results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--write-results", action="store_true", help=f"write {RESULTS.name}")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 9
    header = [
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; repeats: {repeats} (median; the "
        f"{BATCH}-photo runs and watch use half as many); hashing pinned to 1 CPU; "
        f"kernels: {'ahead-of-time build' if load_aot() else 'numba JIT (no current build)'}",
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"pillow {version('pillow')}, pdqhash {version('pdqhash')}, typer {version('typer')}",
        f"machine: {platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"load average at start {os.getloadavg()[0]:.1f} (other jobs share the machine)",
    ]
    print("\n".join(header), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SAFESTREAM_HOME": str(Path(tmp) / "home")}
        env.pop("SAFESTREAM_DATABASE_URL", None)
        rows = measure(Path(tmp), repeats, env)
    columns = ["task (whole process)", "peer s", "safestream s", "peer/safestream", "target"]
    table = markdown_table(columns, rows)
    print("\n".join(table))
    if args.write_results:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(["# CLI start-up and hashing", "", *header, "", *table, ""]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
