"""Bank edits while matching: the slowest single change to a large PDQ index.

A hash bank takes edits one at a time (a hotline adds an entry, an entry is withdrawn) while
frames are matched against it. `PdqIndex` keeps recent adds in a delta segment and folds them
into a rebuilt main segment when the delta reaches 1/32 of the index; at 10M codes that rebuild
takes tens of seconds. This benchmark adds codes one at a time to an index of N codes until two
folds have happened, with a lookup after every 100th add, and prints the slowest add and the
slowest lookup for:

- peer: faiss `IndexBinaryIDMap2(IndexBinaryFlat)` (no rebuilds; every lookup scans all codes),
- SafeStream with the rebuild done inside the change that crosses the threshold (in place),
- SafeStream with the rebuild in a background thread (the default for indexes of 262,144+ codes).

Run: `python -m bench.bench_index_rebuild [--quick] [--rows N]`.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

RADIUS = 31


@dataclass
class Edits:
    """Timings of one engine over the same edits."""

    engine: str
    adds: int
    slowest_add_ms: float
    p99_add_ms: float
    slowest_lookup_ms: float
    p50_lookup_ms: float
    folds: int


def run_safestream(codes: np.ndarray, extra: np.ndarray, background: bool) -> Edits:
    """Add `extra` one code at a time to an index of `codes`, timing adds and lookups."""
    from safestream.media.index import PdqIndex

    index = PdqIndex(background_rows=0 if background else 1 << 62)
    index.add(np.arange(codes.shape[0], dtype=np.int64), codes)
    add_ms: list[float] = []
    lookup_ms: list[float] = []
    folds = 0
    main_before = index._main
    for i, code in enumerate(extra):
        start = time.perf_counter()
        index.add(np.array([codes.shape[0] + i]), code[None])
        add_ms.append((time.perf_counter() - start) * 1e3)
        if index._main is not main_before:
            folds += 1
            main_before = index._main
        if i % 100 == 0:
            start = time.perf_counter()
            found, _ = index.query(code, RADIUS)
            lookup_ms.append((time.perf_counter() - start) * 1e3)
            if codes.shape[0] + i not in found:
                raise AssertionError("a just-added code was not found")
    index.settle(wait=True)
    if len(index) != codes.shape[0] + extra.shape[0]:
        raise AssertionError("codes went missing")
    name = "SafeStream, background rebuild" if background else "SafeStream, rebuild in place"
    return _edits(name, add_ms, lookup_ms, folds)


def run_faiss(codes: np.ndarray, extra: np.ndarray) -> Edits:
    """The same edits on faiss's flat binary index with an id map."""
    import faiss

    faiss.omp_set_num_threads(1)
    index = faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(256))
    index.add_with_ids(codes, np.arange(codes.shape[0], dtype=np.int64))
    add_ms: list[float] = []
    lookup_ms: list[float] = []
    for i, code in enumerate(extra):
        start = time.perf_counter()
        index.add_with_ids(code[None], np.array([codes.shape[0] + i], dtype=np.int64))
        add_ms.append((time.perf_counter() - start) * 1e3)
        if i % 100 == 0:
            start = time.perf_counter()
            index.range_search(code[None], RADIUS + 1)
            lookup_ms.append((time.perf_counter() - start) * 1e3)
    return _edits("peer: faiss IDMap2(IndexBinaryFlat)", add_ms, lookup_ms, 0)


def _edits(name: str, add_ms: list[float], lookup_ms: list[float], folds: int) -> Edits:
    adds = np.asarray(add_ms)
    lookups = np.asarray(lookup_ms)
    return Edits(
        name, adds.shape[0], float(adds.max()), float(np.percentile(adds, 99)),
        float(lookups.max()), float(np.median(lookups)), folds,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the three engines on the same codes and print a Markdown table."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_index_rebuild", description=__doc__
    )
    parser.add_argument("--quick", action="store_true", help="1M codes instead of 10M")
    parser.add_argument("--rows", type=int, help="codes in the index before the edits")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args(argv)
    rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    rng = np.random.default_rng(args.seed)
    codes = rng.integers(0, 256, size=(rows, 32), dtype=np.uint8)
    # Enough single adds for two folds: the delta folds at 1/32 of the main segment.
    extra = rng.integers(0, 256, size=(rows // 32 * 2 + rows // 64, 32), dtype=np.uint8)
    load = os.getloadavg()
    print(f"rows={rows:,} single adds={extra.shape[0]:,} load average {load[0]:.1f}", flush=True)
    results = [run_faiss(codes, extra[: min(20_000, extra.shape[0])])]
    results.append(run_safestream(codes, extra, background=False))
    results.append(run_safestream(codes, extra, background=True))
    print()
    print("| engine | single adds | folds | slowest add ms | p99 add ms "
          "| slowest lookup ms | p50 lookup ms |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.engine} | {r.adds:,} | {r.folds} | {r.slowest_add_ms:,.1f} | "
            f"{r.p99_add_ms:.3f} | {r.slowest_lookup_ms:,.1f} | {r.p50_lookup_ms:.2f} |"
        )
    in_place, background = results[1], results[2]
    print(
        f"\nslowest add: in place {in_place.slowest_add_ms:,.0f} ms, background "
        f"{background.slowest_add_ms:,.0f} ms "
        f"({in_place.slowest_add_ms / max(background.slowest_add_ms, 1e-9):,.0f}x shorter)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
