"""Retroactive matching: a 10,000-entry bank update searched over N recently seen hashes.

SafeStream: `RecentlySeen` (its own exact radius index of recent PDQ hashes) answering
`match_new_entries` for the update (one thread, its default), timed `--repeats` times (median
reported; the index is built once, as a running matcher holds it), then once on two threads.
Peer: faiss `IndexBinaryFlat.range_search` (brute force, exact) over the same hashes. At 10M
seen hashes brute force needs several minutes for the whole update, so the peer runs a strided
sample of `--peer-sample` entries; its time is scaled to the whole update and labelled so, and
SafeStream's pairs for the sampled entries must equal the peer's exactly.

Two data shapes: uniform random codes, and PDQ-shaped codes (`bench_index.PdqShapedCodes`:
real-image bit correlations and clusters of near-duplicates, which crowd index buckets). Half the
new entries lie 0-31 bits from a seen hash, half are fresh. Target (issue 12): 10M seen, 10,000
entries, under 10 s.

Run: `python -m bench.bench_retro [--quick] [--seen N] [--entries M] [--shape uniform|pdq|both]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import timedelta

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from bench.bench_index import PdqShapedCodes, make_queries

RADIUS = 31


def _data(
    shape: str, n: int, entries: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    if shape == "pdq":
        shaped = PdqShapedCodes(rng)
        seen, fresh = shaped.codes(n), shaped.fresh(entries)
    else:
        seen = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
        fresh = rng.integers(0, 256, size=(entries, 32), dtype=np.uint8)
    return seen, make_queries(seen, fresh, rng, entries)


def run_shape(shape: str, n: int, entries: int, repeats: int, sample: int) -> list[str]:
    """Measure one data shape; return its report lines."""
    import faiss

    from safestream.media.index.codes import codes_to_hex
    from safestream.media.recent_seen import RecentlySeen

    rng = np.random.default_rng(12)
    seen_codes, update = _data(shape, n, entries, rng)
    hexes = codes_to_hex(update)
    # Compile the index kernels (numba) first, as a running matcher has long done.
    warm = RecentlySeen(timedelta(days=1))
    warm.observe_codes(["w"] * 4096, seen_codes[:4096], np.full(4096, time.time()))
    warm.match_new_entries([(0, hexes[0])], RADIUS)
    recent = RecentlySeen(timedelta(days=30))
    start = time.perf_counter()
    recent.observe_stored(np.arange(n, dtype=np.int64), seen_codes, np.full(n, time.time()))
    build = time.perf_counter() - start
    times, ours = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        ours = recent.match_new_entries(list(enumerate(hexes)), RADIUS)
        times.append(time.perf_counter() - start)
        print(f"  {shape}: match {times[-1]:.2f} s, load {os.getloadavg()[0]:.1f}", flush=True)
    ours_s = statistics.median(times)
    start = time.perf_counter()
    recent.match_new_entries(list(enumerate(hexes)), RADIUS, workers=2)
    two_threads = time.perf_counter() - start

    flat = faiss.IndexBinaryFlat(256)
    flat.add(seen_codes)
    picked = np.arange(0, entries, max(1, entries // sample))
    start = time.perf_counter()
    lims, _, labels = flat.range_search(update[picked], RADIUS + 1)
    peer_s = (time.perf_counter() - start) * entries / picked.shape[0]
    peer_pairs = {
        (int(e), int(labels[j])) for i, e in enumerate(picked) for j in range(lims[i], lims[i + 1])
    }
    wanted = set(picked.tolist())
    our_pairs = {(m.entry_id, int(m.source_id or 0)) for m in ours if m.entry_id in wanted}
    if our_pairs != peer_pairs:
        raise SystemExit(f"{shape}: different answers on the sample ({len(our_pairs)} pairs "
                         f"against brute force's {len(peer_pairs)})")  # fmt: skip
    peer_label = "faiss flat" + ("" if picked.shape[0] == entries else "*")
    return [
        f"{shape} codes: {entries:,} new entries over {n:,} seen hashes, radius {RADIUS}",
        f"{'':26}{'SafeStream':>12}{peer_label:>14}{'ratio':>8}",
        f"{'match the update (s)':26}{ours_s:12.2f}{peer_s:14.2f}{peer_s / ours_s:8.1f}x",
        f"{'  each run (s)':26}{', '.join(f'{t:.2f}' for t in times):>12}",
        f"{'  one run on 2 threads (s)':26}{two_threads:12.2f}",
        f"{'build the index (s)':26}{build:12.2f}",
        f"pairs found: {len(ours):,}; on the {picked.shape[0]:,} sampled entries identical to "
        f"brute force; target < 10 s: {'met' if ours_s < 10 else 'NOT met'}",
        *(
            [f"* brute force timed on {picked.shape[0]:,} strided entries, scaled to {entries:,}"]
            if picked.shape[0] != entries
            else []
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M seen hashes, one run")
    parser.add_argument("--seen", type=int, default=10_000_000)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-sample", type=int, default=500)
    parser.add_argument("--shape", choices=("uniform", "pdq", "both"), default="both")
    args = parser.parse_args(argv)
    n = 1_000_000 if args.quick else args.seen
    repeats = 1 if args.quick else args.repeats
    shapes = ("uniform", "pdq") if args.shape == "both" else (args.shape,)
    print(f"load average at start {os.getloadavg()[0]:.1f}, medians of {repeats} runs")
    for shape in shapes:
        lines = run_shape(shape, n, args.entries, repeats, args.peer_sample)
        print("\n".join(lines), flush=True)
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
