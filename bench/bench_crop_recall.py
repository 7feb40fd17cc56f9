"""Crops, captions, picture-in-picture, filmed screens and known rooms: PDQ alone, the ORB
brute-force peer and SafeStream's two stages (PDQ, then local features) in one run.

Bank: the known images (PDQ hash and local features), banked rooms (one photo each, local
features only; including generic rooms with plain walls and catalogue furniture) and `--bank-size`
generated filler images (kept in `--bank-dir` for later runs, see `crop_bank`), so lookups run
against a bank of that many images. Queries: every known image under every transform, and each
banked room from a new viewpoint and light. False matches: `--distractors` unrelated frames
(package pictures cropped, scaled and flipped, generated scenes, other rooms, generic rooms
sharing the banked generic rooms' furniture).

Peer: the straightforward ORB matcher a user would write from OpenCV's tutorial: ORB (500
keypoints) on the query, brute-force Hamming k-NN against every known image and room, Lowe's
ratio 0.75, RANSAC homography, a match at 10 or more inliers. It has no index, so it is run against
the known images and rooms only (not the filler) and on a sample of the distractors.

    python -m bench.bench_crop_recall [--quick] [--distractors N] [--bank-size N] [--workers W]
        [--bank-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from bench import crop_workloads as wl
from bench.crop_bank import STATE as _STATE
from bench.crop_bank import build_bank, done_spans, grey_for_pdq, make_pool
from safestream.media.features.stage import StageStats

PEER_MIN_INLIERS = 10


@dataclass
class Query:
    """One altered copy and the bank image it must match."""

    family: str  # row of the table
    held_out: bool
    target: str
    pixels: np.ndarray


# --- the three matchers ------------------------------------------------------------------------


class Peer:
    """ORB brute force with a RANSAC homography (OpenCV's feature-homography tutorial)."""

    def __init__(self, bank: dict[str, np.ndarray]) -> None:
        self.orb = cv2.ORB.create(nfeatures=500)
        self.bf = cv2.BFMatcher(cv2.NORM_HAMMING)
        self.bank = {}
        for name, pixels in bank.items():
            kp, desc = self.orb.detectAndCompute(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY), None)
            if desc is not None:
                self.bank[name] = (np.float32([k.pt for k in kp]), desc)

    def match(self, pixels: np.ndarray) -> set[str]:
        kp, desc = self.orb.detectAndCompute(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY), None)
        if desc is None or len(kp) < 2:
            return set()
        qpts = np.float32([k.pt for k in kp])
        found = set()
        for name, (bpts, bdesc) in self.bank.items():
            good = [
                p[0]
                for p in self.bf.knnMatch(desc, bdesc, k=2)
                if len(p) == 2 and p[0].distance < 0.75 * p[1].distance
            ]
            if len(good) < PEER_MIN_INLIERS:
                continue
            src = bpts[[m.trainIdx for m in good]]
            dst = qpts[[m.queryIdx for m in good]]
            _, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
            if mask is not None and int(mask.sum()) >= PEER_MIN_INLIERS:
                found.add(name)
        return found


def ours(pixels: np.ndarray) -> tuple[set[int], set[int], float]:
    """SafeStream: (entries PDQ matched, entries the local stage matched, local ms)."""
    from safestream.media.frames import hash_luma

    matcher, stage = _STATE["matcher"], _STATE["stage"]
    pdq = {m.entry_id for m in matcher.match_variants([hash_luma(grey_for_pdq(pixels))])[0]}
    if pdq:
        return pdq, set(), 0.0
    t0 = time.perf_counter()
    local = {m.entry_id for m in stage.match_pixels(pixels)}
    return pdq, local, (time.perf_counter() - t0) * 1000


# --- queries -----------------------------------------------------------------------------------


def make_queries(
    tuned: dict[str, np.ndarray],
    held: dict[str, np.ndarray],
    room_queries: list[tuple[str, str, np.ndarray]],
) -> list[Query]:
    queries = []
    for group, images, held_out in (("", tuned, False), ("held-out photos: ", held, True)):
        for i, (name, pixels) in enumerate(sorted(images.items())):
            for tname, transform in wl.TRANSFORMS.items():
                queries.append(Query(group + tname, held_out, name, transform(pixels, 1000 + i)))
            for tname, transform in wl.HELD_OUT_TRANSFORMS.items():
                queries.append(
                    Query(
                        f"held-out transform: {tname}" if not held_out else group + tname,
                        True,
                        name,
                        transform(pixels, 2000 + i),
                    )
                )
    for i, (name, pixels) in enumerate(sorted(tuned.items())):
        for k in range(3):  # the copies the picture-in-picture tuning looked at
            queries.append(
                Query("tuning set: pip_tuning", False, name, wl.pip_tuning(pixels, i * 10 + k))
            )
    for family, name, pixels in room_queries:
        queries.append(Query(family, family.startswith("held-out"), name, pixels))
    return queries


def run_recall(
    queries: list[Query], names: dict[int, str], peer: Peer
) -> list[tuple[str, int, int, int, int]]:
    """Per workload: (name, queries, PDQ hits, peer hits, SafeStream hits)."""
    rows: dict[str, list[int]] = {}
    for q in queries:
        pdq, local, _ = ours(q.pixels)
        pdq_hit = any(names.get(e) == q.target for e in pdq)
        ours_hit = pdq_hit or any(names.get(e) == q.target for e in local)
        peer_hit = q.target in peer.match(q.pixels)
        row = rows.setdefault(q.family, [0, 0, 0, 0])
        row[0] += 1
        row[1] += pdq_hit
        row[2] += peer_hit
        row[3] += ours_hit
    return [(k, v[0], v[1], v[2], v[3]) for k, v in rows.items()]


# --- distractors -------------------------------------------------------------------------------


@dataclass
class DistractorResult:
    """False matches over the distractors, per-frame times and the allowlist's share."""

    false_pdq: int = 0
    false_local: int = 0
    silenced: int = 0
    cpu_ms: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def merge(self, other: DistractorResult) -> None:
        self.false_pdq += other.false_pdq
        self.false_local += other.false_local
        self.silenced += other.silenced
        self.cpu_ms.extend(other.cpu_ms)
        self.examples.extend(other.examples[: max(0, 10 - len(self.examples))])


def _distractor_worker(span: tuple[int, int]) -> DistractorResult:
    seed, sources, stage = _STATE["seed"], _STATE["sources"], _STATE["stage"]
    out = DistractorResult()
    silenced_before = stage.stats.silenced
    for i in range(*span):
        pixels = wl.distractor(i, sources, seed)
        c0 = time.process_time()
        pdq, local, _ = ours(pixels)
        out.cpu_ms.append((time.process_time() - c0) * 1000)
        out.false_pdq += bool(pdq)
        out.false_local += bool(local)
        if (pdq or local) and len(out.examples) < 10:
            out.examples.append(f"distractor {i} (kind {i % 5}) -> entries {sorted(pdq | local)}")
    out.silenced = stage.stats.silenced - silenced_before
    return out


def run_distractors(count: int, workers: int, folder: Path | None, seed: int) -> DistractorResult:
    """Run every distractor through PDQ and the local stage in `workers` forked processes; with
    a kept folder, slices already logged there are not run again and new ones are logged."""
    step = 500
    spans = [(s, min(s + step, count)) for s in range(0, count, step)]
    log, done = done_spans(folder, seed)
    logged = {(row.pop("start"), row.pop("end")): row for row in done}
    total = DistractorResult()
    for span in spans:
        if span in logged:
            total.merge(DistractorResult(**logged[span]))
    todo = [span for span in spans if span not in logged]
    if len(todo) < len(spans):
        print(f"distractors: {len(spans) - len(todo)} slices of {step} resumed from {log}")
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for span, part in zip(todo, pool.imap(_distractor_worker, todo), strict=True):
            total.merge(part)
            if log is not None:
                with log.open("a") as out:
                    out.write(json.dumps({"start": span[0], "end": span[1], **asdict(part)}))
                    out.write("\n")
    return total


def bank_rooms() -> tuple[
    dict[str, np.ndarray], list[tuple[str, str, np.ndarray]], list[np.ndarray]
]:
    """Banked room photos, room queries (family label, room, frame) and the common scenes."""
    rooms_bank: dict[str, np.ndarray] = {}
    room_queries: list[tuple[str, str, np.ndarray]] = []
    for family, label, count, seed in (
        ("bedroom", "rooms: new viewpoint", 40, 100),
        ("loft", "held-out rooms (loft): new viewpoint", 30, 300),
    ):
        for name, bank_photo, query in wl.room_cases(family, count, seed):
            rooms_bank[name] = bank_photo
            room_queries.append((label, name, query))
    for i in range(12):  # banked generic rooms: distractors share their furniture
        room = wl.make_room(4_000_000 + i, generic=True)
        view = wl.random_view(np.random.default_rng(i), 0.3)
        rooms_bank[f"generic_{i}"] = wl.render_room(room, view, 960, 540)
    # The allowlist a hotline keeps of common scenes: generic rooms with catalogue furniture.
    common = [
        wl.render_room(
            wl.make_room(3_000_000 + i, generic=True),
            wl.random_view(np.random.default_rng(50 + i), 0.5),
            960,
            540,
        )
        for i in range(24)
    ]
    return rooms_bank, room_queries, common


def main(argv: list[str] | None = None) -> int:
    """Build the bank, run recall for the three matchers, count false matches, print tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small bank and few distractors")
    parser.add_argument("--distractors", type=int, default=None)
    parser.add_argument("--bank-size", type=int, default=None)
    parser.add_argument("--peer-distractors", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-recall", action="store_true", help="only count false matches")
    parser.add_argument(
        "--bank-dir",
        type=Path,
        default=None,
        help="keep the bank's store here and reuse it; log finished distractor slices to resume",
    )
    args = parser.parse_args(argv)
    distractors = args.distractors or (3_000 if args.quick else 100_000)
    bank_size = args.bank_size if args.bank_size is not None else (3_000 if args.quick else 100_000)

    import faiss

    faiss.omp_set_num_threads(1)
    cv2.setNumThreads(1)
    tuned, held = wl.known_images()
    rooms_bank, room_queries, common = bank_rooms()
    known = {**tuned, **held}
    print(
        f"crop recall  known={len(tuned)}+{len(held)} held out  rooms={len(rooms_bank)}  "
        f"bank filler={bank_size:,}  distractors={distractors:,}  seed={args.seed}  "
        f"python={platform.python_version()}  opencv={cv2.__version__}  workers={args.workers}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.bank_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        images = {"known": known, "rooms": rooms_bank, "common": common}
        names = build_bank(folder, Path(tmp), images, bank_size, args.workers)
        peer = Peer({**known, **rooms_bank})
        if not args.no_recall:
            run_recall_and_timing(tuned, held, room_queries, names, peer)
        pool = make_pool(6_000_000, wl.POOL_SIZE, 640, 360, args.workers)
        _STATE["seed"], _STATE["sources"] = args.seed, pool + wl.distractor_sources()
        t0 = time.perf_counter()
        result = run_distractors(distractors, args.workers, args.bank_dir, args.seed)
        d_s = time.perf_counter() - t0
        peer_n = min(args.peer_distractors, distractors)
        peer_false = sum(
            bool(peer.match(wl.distractor(i, _STATE["sources"], args.seed))) for i in range(peer_n)
        )
    print_false(result, distractors, d_s, peer_false, peer_n)
    return 0


def run_recall_and_timing(
    tuned: dict[str, np.ndarray],
    held: dict[str, np.ndarray],
    room_queries: list[tuple[str, str, np.ndarray]],
    names: dict[int, str],
    peer: Peer,
) -> None:
    """Recall of the three matchers per workload, then the 720p timing, printed."""
    queries = make_queries(tuned, held, room_queries)
    rows = run_recall(queries, names, peer)
    print_recall(rows, timing_720p(queries))
    stage = _STATE["stage"]
    print(
        f"second stage on recall queries: {stage.stats.frames} frames, "
        f"{stage.stats.over_budget} over the {stage.budget_ms:.0f} ms CPU budget, "
        f"{stage.features.index.cut_short} lookups cut short"
    )
    stage.stats = StageStats()


def timing_720p(queries: list[Query]) -> list[tuple[float, float]]:
    """CPU and wall ms of the local stage (extract + lookup + verify) on 720p frames."""
    stage = _STATE["stage"]
    frames = [q.pixels for q in queries if q.pixels.shape[:2] == (wl.FRAME_H, wl.FRAME_W)]
    times = []
    for pixels in frames[:300]:
        c0, t0 = time.process_time(), time.perf_counter()
        stage.match_pixels(pixels)
        times.append(((time.process_time() - c0) * 1000, (time.perf_counter() - t0) * 1000))
    return times


def print_recall(
    rows: list[tuple[str, int, int, int, int]], timing: list[tuple[float, float]]
) -> None:
    """The recall table (markdown) and the 720p timing line."""
    print("\n| workload | n | PDQ alone | ORB brute force (peer) | SafeStream PDQ + local |")
    print("|---|---|---|---|---|")
    for family, n, pdq, peer, ours_hits in rows:
        print(f"| {family} | {n} | {pdq / n:.0%} | {peer / n:.0%} | {ours_hits / n:.0%} |")
    cpu, wall = [t[0] for t in timing], [t[1] for t in timing]
    p = np.percentile
    print(
        f"\n720p frame, local stage (extract + lookup + verify), one thread: CPU median "
        f"{p(cpu, 50):.1f} ms, p95 {p(cpu, 95):.1f} ms; wall median {p(wall, 50):.1f} ms, "
        f"p95 {p(wall, 95):.1f} ms (shared machine) over {len(timing)} frames",
        flush=True,
    )


def print_false(
    result: DistractorResult, distractors: int, d_s: float, peer_false: int, peer_n: int
) -> None:
    """False matches over the distractors, for SafeStream and the peer."""
    print(
        f"\nfalse matches: SafeStream {result.false_pdq} (PDQ) + {result.false_local} (local) in "
        f"{distractors:,} distractors; {result.silenced:,} kept silent by the common-scenes "
        f"allowlist; peer {peer_false} in the first {peer_n:,}"
    )
    for e in result.examples:
        print(f"  {e}")
    p = np.percentile
    print(
        f"distractor frame (<= 640 px), PDQ + local, CPU median {p(result.cpu_ms, 50):.1f} ms, "
        f"p95 {p(result.cpu_ms, 95):.1f} ms; {distractors:,} frames in {d_s:.0f} s wall"
    )


if __name__ == "__main__":
    raise SystemExit(main())
