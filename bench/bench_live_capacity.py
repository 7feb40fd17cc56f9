"""Live capacity: how many concurrent 720p30 H.264 streams each pipeline sustains on this machine.

Every stream is the same 720p30 clip (ffmpeg `testsrc2`, x264 veryfast, 2 s GOP with B-frames as
OBS sends by default, a known still overlaid for 1 s in every 10 s), read with its own container
and decoder and released at the pace of its timestamps, as a live source delivers it. Sampling is
1 frame per second. Both pipelines run as one process per core with a thread per stream.

* Peer: the straightforward loop: decode every frame (PyAV defaults), at each second of pts
  convert the frame to full-size RGB, `pdqhash.compute`, brute-force Hamming match against the
  bank with numpy.
* SafeStream: `StreamMonitor` with its default full sampling: one decode thread per stream (no
  shared codec contexts, one decoder thread each), no deblocking, non-reference frames skipped
  and, once a probe of the first GOP shows no I/P-frame predicts from a B-frame, every B-frame
  skipped; after a mid-GOP tick decoding pauses until the next keyframe when that keyframe is
  the next tick (learnt from the keyframe cadence, from the second keyframe on); scene-change
  thumbnails on every decoded frame, frames scaled to small grey in libswscale, fast PDQ with
  dihedral and border-trimmed variants, the bank index and matcher, alert router and the 10 s
  evidence ring buffer.

A load level is sustained when the p95 latency from a sampled frame's arrival to the end of its
matching (the alert latency for a frame that matches) is under 1 s, the latency does not grow
(median of the last third minus the first third < 0.5 s), and at least 90% of the expected
samples were taken. Levels are tried upwards until one fails.

    python -m bench.bench_live_capacity [--quick] [--seconds S] [--processes P] [--seed S]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

KNOWN = ("astronaut", "chelsea", "coffee", "rocket")
MAX_P95 = 1.0
MAX_GROWTH = 0.5
MIN_SAMPLE_SHARE = 0.9
WARMUP = 3.0


@dataclass(frozen=True)
class Level:
    """Result of one pipeline at one number of streams."""

    pipeline: str
    streams: int
    samples: int
    expected: int
    p50: float
    p95: float
    growth: float
    alert_p95_ms: float
    cpu_ms_per_stream_second: float

    @property
    def sustained(self) -> bool:
        """Whether this level meets the latency, lag and sample-count criteria."""
        return (
            self.p95 < MAX_P95
            and self.growth < MAX_GROWTH
            and self.samples >= MIN_SAMPLE_SHARE * self.expected
        )


def make_clip(folder: Path, seconds: float) -> Path:
    """The 720p30 test clip: testsrc2 with a known still overlaid for 1 s in every 10 s."""
    from PIL import Image

    from bench.live_media import known_image

    still = folder / "chelsea.png"
    Image.fromarray(known_image("chelsea")).save(still)
    clip = folder / "stream720.mp4"
    graph = (
        "[1]scale=1280:720:force_original_aspect_ratio=decrease,"
        "pad=1280:720:(ow-iw)/2:(oh-ih)/2[k];[0][k]overlay=enable='between(mod(t,10),5,6)'"
    )
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size=1280x720:rate=30:duration={seconds}", "-loop", "1", "-i", str(still),
         "-filter_complex", graph, "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast",
         "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "2", "-pix_fmt", "yuv420p",
         str(clip)],
        check=True,
    )  # fmt: skip
    return clip


def make_store(folder: Path, distractors: int, seed: int) -> str:
    """A SQLite store with bank `known` (the four stills plus random distractor hashes)."""
    import io

    from PIL import Image

    from bench.live_media import known_image
    from safestream.media.bank_index import BankIndex
    from safestream.media.hashing import hash_image
    from safestream.store import Database
    from safestream.store.banks import BankRepository, NewEntry

    url = f"sqlite:///{folder / 'store.db'}"
    db = Database(url)
    db.migrate()
    banks = BankRepository(db)
    banks.create("known")
    entries = []
    for name in KNOWN:
        buf = io.BytesIO()
        Image.fromarray(known_image(name)).save(buf, "PNG")
        entries.append(NewEntry("pdq", hash_image(buf.getvalue()).pdq, label="A1", note=name))
    rng = np.random.default_rng(seed)
    for row in rng.integers(0, 256, size=(distractors, 32), dtype=np.uint8):
        entries.append(NewEntry("pdq", row.tobytes().hex(), label="A1"))
    banks.add_entries("known", entries)
    BankIndex.open(banks, folder / "index")
    db.dispose()
    return url


def bank_codes(url: str) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """All PDQ entries of the store as rows of 4 uint64 (for the peer's brute force)."""
    from safestream.store import Database
    from safestream.store.banks import BankRepository

    db = Database(url)
    hexes = [h for batch in BankRepository(db).iter_live_pdq() for _, h in batch]
    db.dispose()
    raw = np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8)
    return raw.reshape(-1, 32).view(np.uint64).copy()


# --- the peer ------------------------------------------------------------------------------


def peer_stream(
    path: str, seconds: float, codes: np.ndarray[Any, Any], out: list[tuple[float, float]]
) -> None:
    """The straightforward loop for one stream, paced like a live source."""
    import av
    import pdqhash

    start = time.monotonic()
    with av.open(path) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        first: float | None = None
        next_t = 0.0
        for packet in container.demux(stream):
            if packet.dts is None:
                continue
            t_packet = float(packet.dts * tb)
            first = t_packet if first is None else first
            due = start + (t_packet - first)
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if time.monotonic() - start > seconds:
                break
            for frame in packet.decode():
                t = float(frame.pts * tb)
                if t < next_t:
                    continue
                next_t = math.floor(t) + 1
                rgb = frame.to_ndarray(format="rgb24")
                bits, _quality = pdqhash.compute(rgb)
                # pdqhash's vector is already in hex order (bit 255 first), as the bank's hex.
                code = np.packbits(bits.astype(np.uint8)).view(np.uint64)
                distances = np.bitwise_count(codes ^ code).sum(axis=1)
                _hits = np.flatnonzero(distances <= 31)
                now = time.monotonic()
                out.append((now - start, now - due))


def run_peer(path: str, streams: int, seconds: float, url: str, _index_dir: str) -> dict[str, Any]:
    """One peer process: a thread per stream."""
    codes = bank_codes(url)
    outs: list[list[tuple[float, float]]] = [[] for _ in range(streams)]
    cpu0 = time.process_time()
    threads = [
        threading.Thread(target=peer_stream, args=(path, seconds, codes, out), daemon=True)
        for out in outs
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + 30)
    return {"timing": [x for out in outs for x in out], "alerts_ms": [],
            "cpu": time.process_time() - cpu0}  # fmt: skip


# --- SafeStream ------------------------------------------------------------------------------


def run_safestream_keyframes(
    path: str, streams: int, seconds: float, url: str, index_dir: str
) -> dict[str, Any]:
    """SafeStream's low-risk baseline: keyframes only (one sample per 2 s GOP here)."""
    return run_safestream(path, streams, seconds, url, index_dir, keyframes=True)


def run_safestream(
    path: str, streams: int, seconds: float, url: str, index_dir: str, keyframes: bool = False
) -> dict[str, Any]:
    """One SafeStream process: a `StreamMonitor` with a decode thread per stream."""
    from safestream.live.alerts import Alert, AlertRouter, CallbackSink
    from safestream.live.evidence import EvidenceStore
    from safestream.live.monitor import MatchService, StreamMonitor, StreamSpec
    from safestream.live.risk import RiskBook
    from safestream.live.sampling import SamplingMode, SamplingPolicy
    from safestream.live.sources import SourceOptions
    from safestream.media.bank_index import BankIndex
    from safestream.media.matching import Matcher
    from safestream.store import Database
    from safestream.store.banks import BankRepository

    db = Database(url)
    banks = BankRepository(db)
    matcher = Matcher(banks, BankIndex.open(banks, Path(index_dir)))
    alerts_ms: list[float] = []

    def on_alert(alert: Alert) -> None:
        alerts_ms.append(alert.latency_ms)

    with tempfile.TemporaryDirectory() as evidence_dir:
        monitor = StreamMonitor(
            MatchService(matcher),
            AlertRouter([CallbackSink(on_alert)]),
            evidence=EvidenceStore(Path(evidence_dir), os.urandom(32)),
            evidence_seconds=10.0,
            risk=RiskBook(SamplingPolicy(SamplingMode.KEYFRAMES)) if keyframes else None,
        )
        cpu0 = time.process_time()
        workers = [
            monitor.add(StreamSpec(f"s{i}", path, SourceOptions(realtime=True)))
            for i in range(streams)
        ]
        time.sleep(seconds)
        monitor.stop_all()
        monitor.wait(30)
        cpu = time.process_time() - cpu0
    timing = [(w, lat) for worker in workers for (w, _lag, lat) in worker.stats.sample_timing]
    db.dispose()
    return {"timing": timing, "alerts_ms": alerts_ms, "cpu": cpu}


RUNNERS = {
    "peer": run_peer,
    "safestream": run_safestream,
    "keyframes": run_safestream_keyframes,
}
# Samples per stream-second each pipeline is asked for (keyframes: one per 2 s GOP).
RATES = {"peer": 1.0, "safestream": 1.0, "keyframes": 0.5}


def measure(
    pipeline: str, streams: int, seconds: float, clip: Path, url: str, index_dir: Path,
    processes: int,
) -> Level:  # fmt: skip
    """Run `streams` streams split over `processes` processes; summarise the latencies."""
    shares = [
        streams // processes + (1 if i < streams % processes else 0) for i in range(processes)
    ]
    ctx = mp.get_context("spawn")
    with ctx.Pool(processes) as pool:
        jobs = [
            pool.apply_async(RUNNERS[pipeline], (str(clip), n, seconds, url, str(index_dir)))
            for n in shares
            if n
        ]
        results = [job.get(seconds + 120) for job in jobs]
    timing = sorted(x for r in results for x in r["timing"])
    alerts = [a for r in results for a in r["alerts_ms"]]
    cpu = sum(r["cpu"] for r in results)
    steady = np.array([lat for wall, lat in timing if wall >= WARMUP] or [math.inf])
    walls = np.array([wall for wall, _ in timing if wall >= WARMUP] or [0.0])
    third = (walls.max() - WARMUP) / 3 if len(walls) > 1 else 0.0
    early = steady[walls < WARMUP + third] if third else steady
    late = steady[walls >= WARMUP + 2 * third] if third else steady
    growth = float(np.median(late) - np.median(early)) if len(early) and len(late) else math.inf
    return Level(
        pipeline=pipeline,
        streams=streams,
        samples=len(timing),
        expected=int(streams * math.floor(seconds) * RATES[pipeline]),
        p50=float(np.median(steady)),
        p95=float(np.percentile(steady, 95)),
        growth=growth,
        alert_p95_ms=float(np.percentile(alerts, 95)) if alerts else float("nan"),
        # Per stream-second actually processed (one sample per 1/RATE s), so a starved run
        # does not look cheaper than it is.
        cpu_ms_per_stream_second=1000.0 * cpu * RATES[pipeline] / max(1, len(timing)),
    )


def ladder(
    pipeline: str, levels: Sequence[int], seconds: float, clip: Path, url: str,
    index_dir: Path, processes: int,
) -> list[Level]:  # fmt: skip
    """Try levels upwards; stop after the first one that is not sustained."""
    results = []
    for n in levels:
        level = measure(pipeline, n, seconds, clip, url, index_dir, processes)
        results.append(level)
        print(
            f"  {pipeline:<10} {n:>3} streams: p50 {level.p50:.3f} s, p95 {level.p95:.3f} s, "
            f"growth {level.growth:+.3f} s, samples {level.samples}/{level.expected}, "
            f"CPU {level.cpu_ms_per_stream_second:.0f} ms/stream-s "
            f"{'OK' if level.sustained else 'NOT sustained'}",
            flush=True,
        )
        if not level.sustained:
            break
    return results


def best(levels: list[Level]) -> int:
    """The largest sustained number of streams (0 if none)."""
    return max((lv.streams for lv in levels if lv.sustained), default=0)


def main(argv: list[str] | None = None) -> int:
    """Run the capacity benchmark and print the table."""
    parser = argparse.ArgumentParser(prog="bench_live_capacity", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, fewer levels")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per level")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--distractors", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peer-levels", default=None, help="comma-separated stream counts")
    parser.add_argument("--safestream-levels", default=None, help="comma-separated counts")
    parser.add_argument("--keyframe-levels", default=None, help="comma-separated counts")
    args = parser.parse_args(argv)
    seconds = args.seconds or (15.0 if args.quick else 40.0)
    peer_levels = _levels(
        args.peer_levels, [2, 4, 8] if args.quick else [2, 4, 6, 8, 12, 16, 20, 24]
    )
    ours = _levels(
        args.safestream_levels, [5, 10, 20] if args.quick else [5, 10, 15, 20, 30, 40, 50]
    )
    cheap = _levels(args.keyframe_levels, [20] if args.quick else [20, 40, 80])

    import av
    import pdqhash  # noqa: F401

    print("Live capacity: concurrent 720p30 H.264 streams at 1 sampled frame/s")
    print(
        f"settings: {seconds:g} s per level, {args.processes} processes, "
        f"{args.distractors} distractor hashes, seed {args.seed}, quick={args.quick}"
    )
    print(
        f"versions: python {platform.python_version()}, av {av.__version__}, "
        f"numpy {np.__version__}, cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = make_clip(folder, seconds + 5)
        url = make_store(folder, args.distractors, args.seed)
        index_dir = folder / "index"
        peer = ladder("peer", peer_levels, seconds, clip, url, index_dir, args.processes)
        safe = ladder("safestream", ours, seconds, clip, url, index_dir, args.processes)
        keys = ladder("keyframes", cheap, seconds, clip, url, index_dir, args.processes)
    print()
    print("| pipeline | streams sustained here | p50 latency at max (s) | p95 latency at max (s) "
          "| CPU ms per stream-s | streams per 2 idle cores at 80% CPU (estimate) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    rows = (
        ("peer (decode all, pdqhash full RGB, 1 fps)", peer),
        ("SafeStream (full sampling: 1 fps + scene changes)", safe),
        ("SafeStream low-risk baseline (keyframes only)", keys),
    )
    for name, levels in rows:
        n = best(levels)
        at = next((lv for lv in levels if lv.streams == n), levels[0])
        cost = levels[0].cpu_ms_per_stream_second
        estimate = int(0.8 * (os.cpu_count() or 2) * 1000 / cost)
        print(f"| {name} | {n} | {at.p50:.3f} | {at.p95:.3f} | "
              f"{at.cpu_ms_per_stream_second:.0f} | {estimate} |")  # fmt: skip
    ratio = best(safe) / best(peer) if best(peer) else float("inf")
    cost = peer[0].cpu_ms_per_stream_second / safe[0].cpu_ms_per_stream_second
    print(f"\nCPU per stream-second, peer / SafeStream at their first level: {cost:.2f}x")
    print(f"ratio SafeStream / peer streams sustained (1 fps): {ratio:.2f}x "
          f"(load average now {os.getloadavg()[0]:.1f})")  # fmt: skip
    return 0


def _levels(text: str | None, default: list[int]) -> list[int]:
    return [int(x) for x in text.split(",")] if text else default


if __name__ == "__main__":
    sys.exit(main())
