"""Hash lookups over HTTP: SafeStream's HMA-compatible `/m/raw_lookup` against an HMA-style peer.

Both answer `GET /m/raw_lookup?signal_type=pdq&signal=HEX` with `{"matches": [ids]}` from the same
N random PDQ hashes, on 127.0.0.1, with 2 worker processes each:
- peer: Flask + pytx `PDQIndex` (faiss multi-index hashing) under gunicorn (2 workers x 4
  threads), the index pickled once and unpickled by every worker, as HMA's matchers do;
- SafeStream: `safestream serve --workers 2`, the index files memory-mapped by both workers,
  an API key on every request.
Queries: half are stored hashes with up to 8 bits flipped (hits), half random (misses). The
load generator is one asyncio process with keep-alive sockets on the same 2 cores (closed loop:
each connection sends the next request when the previous is answered). Before timing, answers
to 200 queries are checked against brute force (SafeStream) and against each other.
Memory: resident (RSS), unique (USS) and proportional (PSS) set size of each server's workers.

Run: `.venv/bin/python -m bench.bench_http_lookup [--quick] [--hashes N] [--peer-max N]`
Real HMA (OpenMediaMatch) as the peer, installed by the user from its source (how: the
docstring of bench/hma_source_peer.py): `--peer hma --hma-venv VENV --hma-src
ThreatExchange/hasher-matcher-actioner`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil

from bench import hma_source_peer, wrk_load
from bench.bench_store import BANK, bench_store
from bench.tables import markdown_table

ROOT = Path(__file__).resolve().parents[1]
REAL_ENTRIES = 2000
SYNTHETIC_ID_BASE = 1_000_000_000


@dataclass
class LoadResult:
    """Throughput and latency of one closed-loop run."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        """Answered requests per second."""
        return self.requests / self.seconds


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def random_codes(n: int, seed: int) -> np.ndarray:
    """N uniformly random 256-bit codes."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, 32), dtype=np.uint8)


def queries(codes: np.ndarray, count: int, seed: int) -> list[str]:
    """Half near-duplicates of stored codes (<= 8 bits off), half random codes, as hex."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        if i % 2 == 0:
            code = codes[int(rng.integers(0, min(len(codes), REAL_ENTRIES)))].copy()
            for bit in rng.choice(256, size=int(rng.integers(0, 9)), replace=False):
                code[bit // 8] ^= np.uint8(1 << (bit % 8))
        else:
            code = rng.integers(0, 256, size=32, dtype=np.uint8)
        out.append(code.tobytes().hex())
    return out


# --- SafeStream ------------------------------------------------------------------------------


def prepare_safestream(home: Path, codes: np.ndarray) -> tuple[str, dict[int, int]]:
    """A store with one bank of real entries and an index of all N codes; its API key."""
    from safestream.media.bank_index import BankIndex
    from safestream.media.index import PdqIndex
    from safestream.store.banks import NewEntry

    store = bench_store(home)
    banks = store.banks
    real = [c.tobytes().hex() for c in codes[:REAL_ENTRIES]]
    real_ids = banks.add_entries(BANK, [NewEntry("pdq", h) for h in real])
    ids = np.concatenate(
        [
            np.asarray(real_ids, dtype=np.int64),
            SYNTHETIC_ID_BASE + np.arange(len(codes) - REAL_ENTRIES, dtype=np.int64),
        ]
    )
    index = PdqIndex()
    index.add(ids, codes)
    bank_index = BankIndex(banks, store.settings.pdq_index_dir)
    bank_index.index = index
    bank_index.applied_seq = banks.last_change()
    bank_index.save()
    store.db.dispose()
    row_of = {int(i): row for row, i in enumerate(ids.tolist())}
    return store.api_key, row_of


def start_safestream(home: Path, port: int, workers: int = 2) -> subprocess.Popen[bytes]:
    """`safestream serve --workers N` on the prepared home."""
    env = {**os.environ, "SAFESTREAM_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    env.pop("SAFESTREAM_DATABASE_URL", None)
    # No access log: nobody reads the stderr pipe until the server exits, and a line per request
    # fills it within seconds, after which every worker blocks writing its next line.
    command = [sys.executable, "-m", "safestream.cli", "serve", "--port", str(port),
               "--workers", str(workers), "--linker", "off", "--no-access-log"]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# --- the peer --------------------------------------------------------------------------------


def prepare_peer(directory: Path, codes: np.ndarray) -> Path:
    """pytx's PDQIndex over the same codes (ids are row numbers), pickled as HMA stores it."""
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    index = PDQIndex.build((c.tobytes().hex(), i) for i, c in enumerate(codes))
    path = directory / "peer-index.pickle"
    with path.open("wb") as fh:
        pickle.dump(index, fh)
    return path


def start_peer(index_path: Path, port: int) -> subprocess.Popen[bytes]:
    """gunicorn serving the peer with 2 workers of 4 threads."""
    env = {**os.environ, "HMA_PEER_INDEX": str(index_path), "PYTHONPATH": str(ROOT),
           "OMP_NUM_THREADS": "1"}  # fmt: skip
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "4", "-b",
               f"127.0.0.1:{port}", "--timeout", "600", "bench.hma_peer:create_app()"]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip


# --- load ------------------------------------------------------------------------------------


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 900.0) -> None:
    """Block until GET /status answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            status, _ = asyncio.run(_one(port, "/status", {}))
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError("server did not become ready")


async def _one(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await _request(reader, writer, _encode(path, headers))
    finally:
        writer.close()


def _encode(path: str, headers: dict[str, str]) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]
    return status, await reader.readexactly(length)


async def _closed_loop(
    port: int, paths: list[bytes], connections: int, seconds: float
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = offset
        while time.perf_counter() < stop:
            started = time.perf_counter()
            status, _ = await _request(reader, writer, paths[i % len(paths)])
            latencies.append(time.perf_counter() - started)
            errors += status != 200
            i += connections
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(connections)))
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return LoadResult(
        len(ordered), elapsed, 1000 * ordered[len(ordered) // 2],
        1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], errors,
    )  # fmt: skip


def load(port: int, hexes: list[str], headers: dict[str, str], connections: int,
         seconds: float, client: str = "asyncio") -> LoadResult:  # fmt: skip
    """Closed-loop raw lookups of the query hashes for `seconds`, from the asyncio client or wrk."""
    if client == "wrk":
        paths = [f"/m/raw_lookup?signal_type=pdq&signal={h}" for h in hexes]
        return LoadResult(*wrk_load.run(port, paths, headers, connections, seconds))
    raw = [_encode(f"/m/raw_lookup?signal_type=pdq&signal={h}", headers) for h in hexes]
    return asyncio.run(_closed_loop(port, raw, connections, seconds))


def batch_load(port: int, hexes: list[str], headers: dict[str, str], batch: int,
               connections: int, seconds: float) -> LoadResult:  # fmt: skip
    """Closed-loop `POST /v1/lookup` of `batch` hashes per request."""
    import json

    paths = []
    for start in range(0, len(hexes) - batch + 1, batch):
        body = json.dumps({"hashes": hexes[start : start + batch]}).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = (
            f"POST /v1/lookup HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        paths.append(head.encode() + body)
    return asyncio.run(_closed_loop(port, paths, connections, seconds))


def answers(port: int, hexes: list[str], headers: dict[str, str]) -> list[list[int]]:
    """The matched ids of each query."""
    import json

    async def run() -> list[list[int]]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        out = []
        for h in hexes:
            raw = _encode(f"/m/raw_lookup?signal_type=pdq&signal={h}", headers)
            _, body = await _request(reader, writer, raw)
            out.append(sorted(json.loads(body)["matches"]))
        writer.close()
        return out

    return asyncio.run(run())


def memory(process: subprocess.Popen[bytes]) -> list[tuple[float, float, float]]:
    """(RSS, USS, PSS) in MiB of each worker process under a server."""
    out = []
    for child in psutil.Process(process.pid).children(recursive=True):
        info = child.memory_full_info()
        out.append((info.rss / 2**20, info.uss / 2**20, info.pss / 2**20))
    return out


def brute_force(codes: np.ndarray, hexes: list[str], radius: int = 31) -> list[list[int]]:
    """Row numbers within `radius` of each query, by comparing with every code."""
    words = codes.view(np.uint64).reshape(-1, 4)
    out = []
    for h in hexes:
        q = np.frombuffer(bytes.fromhex(h), dtype=np.uint64)
        distances = np.bitwise_count(words ^ q).sum(axis=1)
        out.append(sorted(np.nonzero(distances <= radius)[0].tolist()))
    return out


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class ServerResult:
    """One server's runs at one index size."""

    name: str
    hashes: int
    prepare_seconds: float
    ready_seconds: float
    runs: list[LoadResult]
    workers: list[tuple[float, float, float]]
    exact: bool

    def row(self) -> list[str]:
        """A table row of medians."""
        rate = statistics.median(r.per_second for r in self.runs)
        p50 = statistics.median(r.p50_ms for r in self.runs)
        p99 = statistics.median(r.p99_ms for r in self.runs)
        rss = " / ".join(f"{w[0]:.0f}" for w in self.workers)
        uss = " / ".join(f"{w[1]:.0f}" for w in self.workers)
        pss = sum(w[2] for w in self.workers)
        errors = sum(r.errors for r in self.runs)
        exact = "yes" if self.exact else "NO"
        return [self.name, f"{self.hashes:,}", f"{rate:,.0f}", f"{p50:.2f}", f"{p99:.2f}",
                rss, uss, f"{pss:,.0f}", f"{self.prepare_seconds:.0f}",
                f"{self.ready_seconds:.1f}", exact, str(errors)]  # fmt: skip


COLUMNS = ["server", "hashes", "lookups/s", "p50 ms", "p99 ms", "RSS MiB per worker",
           "USS MiB per worker", "PSS MiB total", "index build s", "start s",
           "= brute force", "errors"]  # fmt: skip


def measure(
    name: str,
    process: subprocess.Popen[bytes],
    port: int,
    context: tuple[list[str], dict[str, str], list[list[int]], dict[int, int] | None],
    args: argparse.Namespace,
    timings: tuple[int, float],
) -> ServerResult:
    """Check answers, then time closed-loop runs and read memory."""
    hexes, headers, expected, row_of = context
    started = time.monotonic()
    wait_ready(port, process)
    ready = time.monotonic() - started
    check = hexes[: len(expected)]
    got = answers(port, check, headers)
    if row_of is not None:
        got = [sorted(row_of.get(i, i - SYNTHETIC_ID_BASE + REAL_ENTRIES) for i in ids)
               for ids in got]  # fmt: skip
    load(port, hexes, headers, args.connections, 2.0)  # warm-up
    runs = [load(port, hexes, headers, args.connections, args.seconds, args.client)
            for _ in range(args.runs)]  # fmt: skip
    if row_of is not None and args.batch:
        batch = batch_load(port, hexes, headers, args.batch, 4, args.seconds)
        print(
            f"{name} at {timings[0]:,} hashes, POST /v1/lookup of {args.batch} hashes: "
            f"{batch.per_second * args.batch:,.0f} hashes/s, p50 {batch.p50_ms:.1f} ms, "
            f"p99 {batch.p99_ms:.1f} ms per request, {batch.errors} errors",
            flush=True,
        )
    return ServerResult(name, timings[0], timings[1], ready, runs, memory(process),
                        got == expected)  # fmt: skip


def run_size(n: int, args: argparse.Namespace) -> list[ServerResult]:
    """Both servers at one index size (the peer only up to --peer-max)."""
    codes = random_codes(n, seed=n)
    hexes = queries(codes, args.queries, seed=1)
    expected = brute_force(codes, hexes[: args.verify])
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-http-lookup-") as tmp:
        began = time.monotonic()
        key, row_of = prepare_safestream(Path(tmp) / "home", codes)
        prepared = time.monotonic() - began
        port = free_port()
        server = start_safestream(Path(tmp) / "home", port, args.workers)
        try:
            headers = {"Authorization": f"Bearer {key}"}
            context = (hexes, headers, expected, row_of)
            results.append(measure("SafeStream", server, port, context, args, (n, prepared)))
        finally:
            _stop(server)
        if n <= args.peer_max and args.peer == "hma":  # real HMA (bench/hma_source_peer.py)
            checked = (hexes, expected)
            results.append(hma_source_peer.run(n, codes, Path(tmp), checked, args))
        elif n <= args.peer_max:
            began = time.monotonic()
            pickled = prepare_peer(Path(tmp), codes)
            prepared = time.monotonic() - began
            port = free_port()
            peer = start_peer(pickled, port)
            try:
                context = (hexes, {}, expected, None)
                results.append(measure("HMA-style peer", peer, port, context, args, (n, prepared)))
            finally:
                _stop(peer)
        else:
            print(f"peer skipped at {n:,} hashes (over --peer-max {args.peer_max:,}): its two "
                  "workers would each unpickle their own faiss MIH index", flush=True)  # fmt: skip
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the sizes and print one table; exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200k hashes, short runs")
    parser.add_argument("--hashes", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--peer-max", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--verify", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100, help="hashes per batch (0: none)")
    parser.add_argument(
        "--client",
        choices=["asyncio", "wrk"],
        default="asyncio",
        help="load generator: the asyncio client here, or wrk (C, cheaper)",
    )
    parser.add_argument("--workers", type=int, default=2, help="SafeStream serve workers")
    parser.add_argument("--write-results", action="store_true")
    hma_source_peer.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.hashes, args.seconds, args.runs, args.peer_max = [200_000], 3.0, 1, 200_000
    if args.client == "wrk" and not wrk_load.available():
        parser.error("--client wrk needs wrk on PATH (Debian: apt-get install wrk)")
    rows = []
    for n in args.hashes:
        rows.extend(run_size(n, args))
    lines = markdown_table(COLUMNS, [r.row() for r in rows])
    print("\n".join(lines), flush=True)
    if args.write_results:
        out = Path(__file__).parent / "results" / "http_lookup.md"
        out.write_text("\n".join(lines) + "\n")
    safestream = [r for r in rows if r.name == "SafeStream"]
    ok = all(r.exact and sum(x.errors for x in r.runs) == 0 for r in rows)
    big = [r for r in safestream if r.hashes >= 10_000_000]
    for r in big:
        rate = statistics.median(x.per_second for x in r.runs)
        p99 = statistics.median(x.p99_ms for x in r.runs)
        ok = ok and rate >= 4000 and p99 < 20
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
