"""Image upload, hash and match over HTTP: SafeStream `POST /v1/match` against an HMA-style peer.

Each request uploads one 1080p JPEG (benign scikit-image photos, resized and shifted so no two
files are alike) as multipart form data; the server hashes it and matches it against a bank
holding 20 of them plus 100,000 random hashes. SafeStream (`safestream serve --workers 2`)
hashes in fast mode with the 8 rotations/mirrors and border trim, and also checks MD5/SHA-256;
the peer (Flask + pytx under gunicorn, 2 workers x 4 threads, as HMA) decodes with Pillow and
hashes with pdqhash, then queries its PDQIndex. Same closed-loop client as `bench_http_lookup`.

Run: `.venv/bin/python -m bench.bench_http_upload [--quick]`
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as samples

from bench import wrk_load
from bench.bench_http_lookup import (
    LoadResult,
    _closed_loop,
    _stop,
    free_port,
    memory,
    prepare_peer,
    random_codes,
    start_peer,
    start_safestream,
    wait_ready,
)
from bench.bench_store import BANK, bench_store
from bench.tables import markdown_table

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field")
BANKED = 20
RANDOM_HASHES = 100_000


def photos(count: int) -> list[bytes]:
    """`count` distinct 1080p JPEGs (quality 90) made from the sample photos."""
    out = []
    for i in range(count):
        base = Image.fromarray(getattr(samples, PHOTOS[i % len(PHOTOS)])()).convert("RGB")
        shift = 1 + i // len(PHOTOS)
        box = (shift, shift, base.width - shift, base.height - shift)
        buffer = io.BytesIO()
        base.crop(box).resize((1920, 1080)).save(buffer, format="JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


BOUNDARY = "safestream-bench-" + uuid.uuid4().hex


def multipart_body(field: str, data: bytes, boundary: str = BOUNDARY) -> bytes:
    """One file as a multipart form body."""
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="u.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )


def multipart(path: str, field: str, data: bytes, headers: dict[str, str]) -> bytes:
    """A raw HTTP/1.1 POST of one file as multipart form data."""
    boundary = uuid.uuid4().hex
    body = multipart_body(field, data, boundary)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def prepare_safestream(home: Path, files: list[bytes], codes: np.ndarray) -> str:
    """A store whose bank holds the reference hashes of the first files, and random hashes."""
    from safestream.media.hashing import hash_image
    from safestream.store.banks import NewEntry

    store = bench_store(home)
    entries = [NewEntry("pdq", hash_image(f, mode="exact").pdq) for f in files[:BANKED]]
    entries += [NewEntry("pdq", c.tobytes().hex()) for c in codes]
    store.banks.add_entries(BANK, entries)
    store.db.dispose()
    return store.api_key


def run(
    port: int,
    path: str,
    field: str,
    files: list[bytes],
    headers: dict[str, str],
    args: argparse.Namespace,
) -> list[LoadResult]:
    """Warm up, then closed-loop runs of uploads of `files` from the chosen client."""
    if args.client == "wrk":
        bodies = [multipart_body(field, f) for f in files]
        sent = {**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}

        def once(seconds: float) -> LoadResult:
            return LoadResult(
                *wrk_load.run_posts(port, path, bodies, sent, args.connections, seconds)
            )
    else:
        requests = [multipart(path, field, f, headers) for f in files]

        def once(seconds: float) -> LoadResult:
            return asyncio.run(_closed_loop(port, requests, args.connections, seconds))

    once(2.0)
    return [once(args.seconds) for _ in range(args.runs)]


def main(argv: list[str] | None = None) -> int:
    """Both servers, one table; exit 1 if SafeStream stays under 200 images per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--client",
        choices=["asyncio", "wrk"],
        default="asyncio",
        help="load generator: the asyncio client here, or wrk (C, cheaper)",
    )
    args = parser.parse_args(argv)
    if args.client == "wrk" and not wrk_load.available():
        parser.error("--client wrk needs wrk on PATH (Debian: apt-get install wrk)")
    if args.quick:
        args.files, args.seconds, args.runs = 24, 3.0, 1
    files = photos(args.files)
    codes = random_codes(RANDOM_HASHES, seed=5)
    rows = []
    rates = {}
    with tempfile.TemporaryDirectory(prefix="bench-http-upload-") as tmp:
        key = prepare_safestream(Path(tmp) / "home", files, codes)
        port = free_port()
        server = start_safestream(Path(tmp) / "home", port)
        try:
            wait_ready(port, server)
            headers = {"Authorization": f"Bearer {key}"}
            results = run(port, "/v1/match", "file", files, headers, args)
            rows.append(("SafeStream", results, memory(server)))
        finally:
            _stop(server)
        peer_codes = np.concatenate(
            [np.frombuffer(bytes.fromhex(_pytx_hash(f)), dtype=np.uint8).reshape(1, 32)
             for f in files[:BANKED]] + [codes]
        )  # fmt: skip
        pickled = prepare_peer(Path(tmp), peer_codes)
        port = free_port()
        peer = start_peer(pickled, port)
        try:
            wait_ready(port, peer)
            results = run(port, "/m/lookup", "photo", files, {}, args)
            rows.append(("HMA-style peer", results, memory(peer)))
        finally:
            _stop(peer)
    table = []
    for name, results, workers in rows:
        rate = statistics.median(r.per_second for r in results)
        rates[name] = rate
        table.append([
            name, f"{rate:,.0f}", f"{statistics.median(r.p50_ms for r in results):.1f}",
            f"{statistics.median(r.p99_ms for r in results):.1f}",
            " / ".join(f"{w[0]:.0f}" for w in workers), str(sum(r.errors for r in results)),
        ])  # fmt: skip
    columns = ["server", "1080p JPEGs/s", "p50 ms", "p99 ms", "RSS MiB per worker", "errors"]
    print("\n".join(markdown_table(columns, table)), flush=True)
    print(f"ratio SafeStream / peer: {rates['SafeStream'] / rates['HMA-style peer']:.2f}")
    return 0 if rates["SafeStream"] >= 200 else 1


def _pytx_hash(data: bytes) -> str:
    from threatexchange.signal_type.pdq.signal import PdqSignal

    return str(PdqSignal.hash_from_bytes(data))


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"({time.monotonic() - started:.0f} s)")
    raise SystemExit(code)
