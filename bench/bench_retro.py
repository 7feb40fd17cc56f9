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

Start-up (`--startup`): N seen hashes written to a fresh store (SQLite file, or PostgreSQL with
`--database-url`), then a new `RetroMatcher` reads them all on its first refresh, as a process
that has just started does: the time, the process's resident memory after it and its peak.

Run: `python -m bench.bench_retro [--quick] [--seen N] [--entries M] [--shape uniform|pdq|both]`
or `python -m bench.bench_retro --startup [--seen N] [--database-url URL]`.
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


def _memory_mib(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _fill_store(url: str, n: int, rng: np.random.Generator) -> float:
    """Write n seen hashes (frames of 1,000 streams over the last 29 days); return seconds."""
    import sqlite3
    from datetime import UTC, datetime

    from sqlalchemy import delete, insert

    from safestream.store.database import Database
    from safestream.store.models.media import SeenHashRow

    db = Database(url)
    db.migrate()
    with db.session() as s:
        s.execute(delete(SeenHashRow))
    raw = sqlite3.connect(url.removeprefix("sqlite:///")) if url.startswith("sqlite") else None
    start = time.perf_counter()
    now = datetime.now(UTC).timestamp()
    chunk = 100_000
    for first in range(0, n, chunk):
        size = min(chunk, n - first)
        codes = rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
        base = now - 29 * 86400 * (1 - first / n)  # arrival order is time order
        at = [datetime.fromtimestamp(base + i * 1e-3, UTC) for i in range(size)]
        if raw is not None:  # as SQLAlchemy stores them, without its per-row cost
            raw.executemany(
                "INSERT INTO seen_hashes (kind, ref, t, pdq, seen_at) VALUES (?, ?, ?, ?, ?)",
                [("frame", f"stream-{(first + i) % 1000}", float(first + i), codes[i].tobytes(),
                  at[i].strftime("%Y-%m-%d %H:%M:%S.%f")) for i in range(size)],
            )  # fmt: skip
            raw.commit()
            continue
        rows = [
            {"kind": "frame", "ref": f"stream-{(first + i) % 1000}", "t": float(first + i),
             "pdq": codes[i].tobytes(), "seen_at": at[i]}
            for i in range(size)
        ]  # fmt: skip
        with db.session() as s:
            s.execute(insert(SeenHashRow), rows)
    if raw is not None:
        raw.close()
    db.dispose()
    return time.perf_counter() - start


def run_startup(n: int, url: str | None) -> list[str]:
    """A fresh `RetroMatcher` reading n seen hashes from the store; return report lines."""
    import tempfile

    from safestream.media.retro import RetroMatcher
    from safestream.store.database import Database

    with tempfile.TemporaryDirectory(prefix="bench-retro-") as tmp:
        target = url or f"sqlite:///{tmp}/store.db"
        fill = _fill_store(target, n, np.random.default_rng(7))
        # Compile the index kernels first (a server's start-up does this once, before any load).
        from safestream.media.recent_seen import RecentlySeen

        RecentlySeen(timedelta(days=1)).observe("w", ["0" * 64])
        db = Database(target)
        before = _memory_mib("VmRSS")
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")  # reset the peak (VmHWM) to the current size
        matcher = RetroMatcher(db, timedelta(days=30), sink=None)  # type: ignore[arg-type]
        start = time.perf_counter()
        loaded = matcher.refresh()
        took = time.perf_counter() - start
        after, peak = _memory_mib("VmRSS"), _memory_mib("VmHWM")
        db.dispose()
    kind = "PostgreSQL" if target.startswith("postgresql") else "SQLite"
    return [
        f"start-up: a new RetroMatcher reading {loaded:,} seen hashes from {kind}",
        f"{'first refresh (s)':26}{took:12.1f}   ({loaded / took:,.0f} hashes/s)",
        f"{'resident after (MiB)':26}{after:12.0f}   (before {before:.0f}; "
        f"+{after - before:.0f} for the index)",
        f"{'peak while loading (MiB)':26}{peak:12.0f}",
        f"{'filling the store (s)':26}{fill:12.1f}   (bench set-up, not start-up)",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M seen hashes, one run")
    parser.add_argument("--seen", type=int, default=10_000_000)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-sample", type=int, default=500)
    parser.add_argument("--shape", choices=("uniform", "pdq", "both"), default="both")
    parser.add_argument("--startup", action="store_true", help="time loading N from a store")
    parser.add_argument("--database-url", default=None, help="PostgreSQL for --startup")
    args = parser.parse_args(argv)
    n = 1_000_000 if args.quick else args.seen
    if args.startup:
        print(f"load average at start {os.getloadavg()[0]:.1f}")
        print("\n".join(run_startup(n, args.database_url)), flush=True)
        print(f"load average at end {os.getloadavg()[0]:.1f}")
        return 0
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
