"""Single lookups while batches run in the same server worker (one process, no HTTP).

A platform sends single `GET /m/raw_lookup` requests and `POST /v1/lookup` batches to the same
workers. This measures what a batch does to the single lookups beside it: threads run 100-hash
batches through the batch route's code (`lookup_batch`) back to back, while the main thread
times single lookups (`MediaService.raw_lookup`, what the ASGI fast path calls) for `--seconds`.
Also reported: the CPU cost per hash of the batch route, of the index alone, and of single
lookups, with nothing else running. The index is the HTTP bench's (N random codes, 2,000 real
bank entries) and so are the queries (half near-duplicates, half random).

Run: `.venv/bin/python -m bench.bench_lookup_sharing [--hashes N] [--home DIR] [--runs R]`
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.bench_http_lookup import prepare_safestream, queries, random_codes


def _service(home: Path):  # type: ignore[no-untyped-def]
    from safestream.api.media_service import MediaService
    from safestream.core.config import Settings
    from safestream.store.database import Database

    settings = Settings(home=home)
    service = MediaService(settings, Database(settings.database_url))
    service.index()
    return service


def _batch(service, hexes: list[str]) -> None:  # type: ignore[no-untyped-def]
    from safestream.api.media_routes import BatchIn, lookup_batch

    lookup_batch(None, service, BatchIn.model_validate({"hashes": hexes}))  # type: ignore[arg-type]


def cpu_per_hash(service, hexes: list[str]) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """CPU ms per hash: batch route, index alone (batches of 100), single lookups."""
    from safestream.media.index import hex_to_codes

    chunks = [hexes[i : i + 100] for i in range(0, len(hexes), 100)]
    started = time.process_time()
    for chunk in chunks:
        _batch(service, chunk)
    route = time.process_time() - started
    started = time.process_time()
    for chunk in chunks:
        service.index().index.query_many(hex_to_codes(chunk), 31)
    index = time.process_time() - started
    started = time.process_time()
    for h in hexes:
        service.raw_lookup([h], 31)
    single = time.process_time() - started
    return tuple(1000 * x / len(hexes) for x in (route, index, single))  # type: ignore[return-value]


def beside_batches(service, hexes: list[str], threads: int, seconds: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Single lookups timed while `threads` threads run batches of 100."""
    stop = threading.Event()
    batched = [0]

    def run_batches() -> None:
        i = 0
        while not stop.is_set():
            start = (i % (len(hexes) // 100)) * 100
            _batch(service, hexes[start : start + 100])
            batched[0] += 100
            i += 1

    workers = [threading.Thread(target=run_batches) for _ in range(threads)]
    for w in workers:
        w.start()
    latencies: list[float] = []
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        h = hexes[len(latencies) % len(hexes)]
        started = time.perf_counter()
        service.raw_lookup([h], 31)
        latencies.append(1000 * (time.perf_counter() - started))
    stop.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "single/s": len(latencies) / elapsed,
        "p50 ms": latencies[len(latencies) // 2],
        "p99 ms": latencies[int(len(latencies) * 0.99)],
        "batched hashes/s": batched[0] / elapsed,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the CPU costs and the medians of `--runs` runs beside batches."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--home", type=Path, help="reuse (or create) a prepared home here")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=1, help="threads running batches")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-lookup-sharing-") as tmp:
        home = args.home or Path(tmp) / "home"
        codes = random_codes(args.hashes, seed=args.hashes)
        if not (home / "index").exists():
            prepare_safestream(home, codes)
        hexes = queries(codes, 3000, seed=1)
        service = _service(home)
        cpu_per_hash(service, hexes[:200])  # warm-up
        route, index, single = cpu_per_hash(service, hexes[:1000])
        print(f"{args.hashes:,} hashes, CPU ms per hash: batch route {route:.3f}, "
              f"index alone {index:.3f}, single lookups {single:.3f}")  # fmt: skip
        runs = [
            beside_batches(service, hexes, args.threads, args.seconds) for _ in range(args.runs)
        ]
        for run in runs:
            print("  run: " + ", ".join(f"{k} {v:,.2f}" for k, v in run.items()))
        medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print("median: " + ", ".join(f"{k} {v:,.2f}" for k, v in medians.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
