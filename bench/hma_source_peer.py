"""Real HMA (OpenMediaMatch) as the peer of `bench_http_lookup`, run from a source checkout.

Nothing of HMA is part of this project: the user installs it beside SafeStream, in its own venv,
and passes `--peer hma --hma-venv VENV --hma-src DIR` to the bench. Install (about 1 minute):

    git clone https://github.com/facebook/ThreatExchange   # or any copy of its source
    python3 -m venv /work/hma-venv
    /work/hma-venv/bin/pip install -e 'ThreatExchange/hasher-matcher-actioner[prod]'

(`psycopg2` builds from source: it needs `libpq-dev`; `threatexchange` comes from PyPI.)
`--hma-src` is the `hasher-matcher-actioner` directory (its migrations are read from there).

What the bench does with it, following HMA's README, Dockerfile and reference_omm_configs:
1. a fresh PostgreSQL database (`--hma-database`, dropped and created), then HMA's migrations
   (`scripts/db-migrate.sh`: `flask db upgrade`);
2. gunicorn serving `OpenMediaMatch.app:create_app()` as the Dockerfile's CMD does, with
   `-w WORKERS` (SafeStream's worker count) and jemalloc preloaded as the Dockerfile does, under
   a production config with the matcher, curator and hasher roles and the matcher's index cache
   (`TASK_INDEX_CACHE`), PDQ the only signal type;
3. a bank created with `POST /c/banks`, and the first `--hma-api-rows` hashes (by default the
   2,000 the bench's near-duplicate queries come from) added with `POST /c/bank/<bank>/signal`,
   one hash a request: HMA has no bulk route. On the shared 2-core machine that route took
   about 22 hashes a second (2,000 in 89 s at load average 10), so 100k would take over an hour
   and 1M half a day. The remaining rows go in through HMA's own storage layer, run by HMA's
   Python in its app context: the `BankContent` and `ContentSignal` rows its
   `bank_add_content` writes, committed 10,000 at a time instead of one a transaction.
   The content id HMA gives each row is recorded to compare answers;
4. the index built by HMA's own indexer task, run as its cron role's documented replacement
   (`flask build_indices`, the same `build_all_indices` the `TASK_INDEXER` job runs), into the
   database as a pickled pytx `PDQIndex`;
5. gunicorn restarted, so each worker's index cache loads that index from the database before
   `/status` answers 200 (it answers 503 `INDEX-NOT-LOADED` until then).
The bench then sends the same `GET /m/raw_lookup` queries to it as to SafeStream.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench import wrk_load

if TYPE_CHECKING:
    from bench.bench_http_lookup import ServerResult

BANK = "SAFESTREAM_BENCH"
JEMALLOC = Path("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")

CONFIG = """\
# Written by SafeStream's bench_http_lookup: one instance holding HMA's matcher, curator and
# hasher roles, as reference_omm_configs/scaled_deployment_matcher_omm_config.py with
# ROLE_HASHER on for a combined deployment, and the curator role to load the bank.
from OpenMediaMatch.storage.postgres.impl import DefaultOMMStore
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.content_type.photo import PhotoContent

DATABASE_URI = {uri!r}
PRODUCTION = True
ROLE_HASHER = True
ROLE_MATCHER = True
ROLE_CURATOR = True
UI_ENABLED = False
TASK_FETCHER = False
TASK_INDEXER = False
TASK_INDEX_CACHE = True
STORAGE_IFACE_INSTANCE = DefaultOMMStore(signal_types=[PdqSignal], content_types=[PhotoContent])
"""


@dataclass(frozen=True)
class HmaInstall:
    """Where the user installed HMA, and the database the bench may drop and recreate."""

    venv: Path
    src: Path
    database: str = "postgresql://postgres@127.0.0.1:5432/hma_bench"

    def env(self, config: Path) -> dict[str, str]:
        """The environment HMA's processes run in."""
        env = {**os.environ, "OMM_CONFIG": str(config), "OMM_DATABASE_URI": self.sqlalchemy_uri}
        env["PATH"] = f"{self.venv / 'bin'}:{env.get('PATH', '')}"
        # The Dockerfile copies src/ to its working directory /app and runs from there (the
        # package installs only HMA's dependencies), so src/ is the import path.
        env["PYTHONPATH"] = str(self.src / "src")
        env["OMP_NUM_THREADS"] = "1"
        return env

    @property
    def sqlalchemy_uri(self) -> str:
        """The database URL in the form HMA's configs use."""
        return self.database.replace("postgresql://", "postgresql+psycopg2://", 1)


def reset_database(database: str) -> None:
    """Drop and create the bench's own database (never the project's)."""
    import psycopg

    base, _, name = database.rpartition("/")
    if not name.startswith("hma_"):
        raise ValueError(f"refusing to drop {name!r}: the HMA bench database must start hma_")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare(install: HmaInstall, directory: Path) -> Path:
    """A fresh database with HMA's schema; the config file to run HMA with."""
    config = directory / "hma_omm_config.py"
    config.write_text(CONFIG.format(uri=install.sqlalchemy_uri))
    reset_database(install.database)
    env = {**install.env(config), "MIGRATION_COMMAND": "1"}
    migrations = install.src / "src" / "OpenMediaMatch" / "migrations"
    subprocess.run(
        [
            str(install.venv / "bin" / "flask"),
            "--app",
            "OpenMediaMatch.app",
            "db",
            "upgrade",
            "--directory",
            str(migrations),
        ],
        env=env,
        cwd=directory,
        check=True,
        capture_output=True,
    )
    return config


def start(install: HmaInstall, config: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    """gunicorn as HMA's Dockerfile runs it, with `workers` sync workers."""
    env = install.env(config)
    if JEMALLOC.exists():
        env["LD_PRELOAD"] = str(JEMALLOC)
    command = [
        str(install.venv / "bin" / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--timeout",
        "600",
        "OpenMediaMatch.app:create_app()",
    ]
    return subprocess.Popen(
        command, env=env, cwd=config.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def wait_alive(port: int, process: subprocess.Popen[bytes], timeout: float = 300.0) -> None:
    """Block until `/status/live` answers (the index need not be loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"HMA exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if (
                _call(http.client.HTTPConnection("127.0.0.1", port), "GET", "/status/live")[0]
                == 200
            ):
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError("HMA did not start")


def _call(
    conn: http.client.HTTPConnection, method: str, path: str, body: object = None
) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, None if body is None else json.dumps(body), headers)
    response = conn.getresponse()
    return response.status, response.read()


def _chunks(rows: int, size: int) -> Iterator[range]:
    for begin in range(0, rows, size):
        yield range(begin, min(rows, begin + size))


def load_bank(port: int, codes: np.ndarray, connections: int = 8) -> dict[int, int]:
    """Create the bank and add the codes through HMA's curation API: {content id: row}."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    status, body = _call(conn, "POST", "/c/banks", {"name": BANK})
    if status not in (200, 201):
        raise RuntimeError(f"POST /c/banks answered {status}: {body[:300]!r}")
    hexes = [c.tobytes().hex() for c in codes]

    def add(rows: range) -> list[tuple[int, int]]:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        out = []
        for row in rows:
            status, body = _call(client, "POST", f"/c/bank/{BANK}/signal", {"pdq": hexes[row]})
            if status not in (200, 201):
                raise RuntimeError(f"adding a signal answered {status}: {body[:300]!r}")
            out.append((int(json.loads(body)["id"]), row))
        client.close()
        return out

    with ThreadPoolExecutor(connections) as pool:
        pairs = [p for part in pool.map(add, _chunks(len(hexes), 500)) for p in part]
    return dict(pairs)


BULK_SCRIPT = """\
import sys
from sqlalchemy import select
from OpenMediaMatch.app import create_app
from OpenMediaMatch.storage.postgres import database

app = create_app()
with app.app_context():
    session = database.get_write_session()
    query = select(database.Bank).where(database.Bank.name == sys.argv[1])
    bank = session.execute(query).scalar_one()
    hexes = open(sys.argv[2]).read().split()
    with open(sys.argv[3], "w") as out:
        for begin in range(0, len(hexes), 10000):
            contents = []
            for value in hexes[begin:begin + 10000]:
                content = database.BankContent(bank=bank)
                session.add(content)
                row = database.ContentSignal(content=content, signal_type="pdq", signal_val=value)
                session.add(row)
                contents.append(content)
            session.flush()
            out.write("".join(f"{c.id}\\n" for c in contents))
            session.commit()
"""


def bulk_load(
    install: HmaInstall, config: Path, codes: np.ndarray, first_row: int
) -> dict[int, int]:
    """Rows from `first_row` on, through HMA's storage layer in bulk: {content id: row}."""
    hexes = config.parent / "bulk-hashes.txt"
    hexes.write_text("\n".join(c.tobytes().hex() for c in codes[first_row:]))
    ids = config.parent / "bulk-ids.txt"
    subprocess.run(
        [str(install.venv / "bin" / "python"), "-c", BULK_SCRIPT, BANK, str(hexes), str(ids)],
        env=install.env(config),
        cwd=config.parent,
        check=True,
        capture_output=True,
    )
    return {int(line): first_row + i for i, line in enumerate(ids.read_text().split())}


def build_index(install: HmaInstall, config: Path) -> None:
    """HMA's indexer task over the bank, as its cron role runs it from the CLI."""
    subprocess.run(
        [str(install.venv / "bin" / "flask"), "--app", "OpenMediaMatch.app", "build_indices"],
        env=install.env(config),
        cwd=config.parent,
        check=True,
        capture_output=True,
    )


def index_size(port: int) -> int:
    """How many hashes HMA's latest built index holds (`GET /m/index/status`)."""
    status, body = _call(http.client.HTTPConnection("127.0.0.1", port), "GET", "/m/index/status")
    if status != 200:
        raise RuntimeError(f"/m/index/status answered {status}")
    return int(json.loads(body)["pdq"]["size"])


def hash_matches(port: int, data: bytes) -> dict[str, object]:
    """`POST /h/hash` of a file, for checking HMA's hasher answers as its blueprint says."""
    boundary = "safestreambench"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
            f'filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + data
        + (f"\r\n--{boundary}--\r\n").encode()
    )
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request(
        "POST", "/h/hash", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    response = conn.getresponse()
    result: dict[str, object] = json.loads(response.read())
    return result


def answers(port: int, hexes: list[str]) -> list[list[int]]:
    """HMA's content ids matched by each query (`GET /m/raw_lookup`, a connection each)."""
    out = []
    for h in hexes:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        status, body = _call(conn, "GET", f"/m/raw_lookup?signal_type=pdq&signal={h}")
        if status != 200:
            raise RuntimeError(f"/m/raw_lookup answered {status}: {body[:300]!r}")
        out.append([int(i) for i in json.loads(body)["matches"]])
        conn.close()
    return out


def wait_loaded(port: int, process: subprocess.Popen[bytes], timeout: float = 900.0) -> None:
    """Block until 20 `/status` calls in a row answer 200: every worker has loaded the index."""
    deadline = time.monotonic() + timeout
    streak = 0
    while streak < 20:
        if time.monotonic() > deadline:
            raise TimeoutError("HMA's workers did not load the index")
        if process.poll() is not None:
            raise RuntimeError(f"HMA exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            ok = _call(http.client.HTTPConnection("127.0.0.1", port), "GET", "/status")[0] == 200
        except OSError:
            ok = False
        streak = streak + 1 if ok else 0
        if not ok:
            time.sleep(0.5)


def check_routes(port: int, codes: np.ndarray, row_of: dict[int, int]) -> str:
    """`/m/lookup`, `/m/raw_lookup` and `/h/hash` answering as HMA's blueprints say."""
    import io

    from PIL import Image

    conn = http.client.HTTPConnection("127.0.0.1", port)
    stored = codes[0].tobytes().hex()
    content = next(i for i, row in row_of.items() if row == 0)
    _, raw = _call(conn, "GET", f"/m/raw_lookup?signal_type=pdq&signal={stored}")
    _, looked = _call(conn, "GET", f"/m/lookup?signal_type=pdq&signal={stored}")
    noise = np.random.default_rng(0).integers(0, 256, size=(256, 256, 3), dtype=np.uint8)
    png = io.BytesIO()
    Image.fromarray(noise).save(png, "PNG")
    hashed = hash_matches(port, png.getvalue())
    ok = (
        content in json.loads(raw)["matches"]
        and any(m["bank_content_id"] == content for m in json.loads(looked).get(BANK, []))
        and len(str(hashed.get("pdq", ""))) == 64
    )
    return (
        f"HMA routes {'as documented' if ok else 'NOT as documented'}: raw_lookup "
        f"{raw.decode().strip()}, lookup {looked.decode().strip()}, /h/hash {hashed}"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench's options for running real HMA as the peer."""
    parser.add_argument(
        "--peer",
        choices=["style", "hma"],
        default="style",
        help="style: the Flask + pytx stand-in (bench/hma_peer.py); hma: "
        "real HMA from --hma-venv and --hma-src (see bench/hma_source_peer.py)",
    )
    parser.add_argument("--hma-venv", type=Path, help="venv HMA is installed in")
    parser.add_argument("--hma-src", type=Path, help="its hasher-matcher-actioner directory")
    parser.add_argument(
        "--hma-database",
        default=HmaInstall.database,
        help="PostgreSQL database the bench drops and recreates (hma_*)",
    )
    parser.add_argument(
        "--hma-api-rows",
        type=int,
        default=2000,
        help="hashes added through POST /c/bank/<bank>/signal (rest in bulk)",
    )


def run(
    n: int,
    codes: np.ndarray,
    directory: Path,
    checked: tuple[list[str], list[list[int]]],
    args: argparse.Namespace,
) -> ServerResult:
    """Load, index and measure real HMA at one size, as the bench measures SafeStream."""
    from bench import bench_http_lookup as bench

    if args.hma_venv is None or args.hma_src is None:
        raise SystemExit("--peer hma needs --hma-venv and --hma-src")
    if not wrk_load.available():
        raise SystemExit("--peer hma needs wrk: HMA's sync workers close every connection")
    install = HmaInstall(args.hma_venv, args.hma_src, args.hma_database)
    began = time.monotonic()
    config = prepare(install, directory)
    port = bench.free_port()
    server = start(install, config, port, args.workers)
    api_rows = min(n, args.hma_api_rows)
    try:
        wait_alive(port, server)
        step = time.monotonic()
        row_of = load_bank(port, codes[:api_rows])
        api_seconds = time.monotonic() - step
    finally:
        bench._stop(server)
    step = time.monotonic()
    if api_rows < n:
        row_of.update(bulk_load(install, config, codes, api_rows))
    bulk_seconds = time.monotonic() - step
    step = time.monotonic()
    build_index(install, config)
    build_seconds = time.monotonic() - step
    print(
        f"HMA at {n:,} hashes: {api_rows:,} through POST /c/bank/<bank>/signal in "
        f"{api_seconds:.0f} s ({api_rows / api_seconds:.0f}/s), {n - api_rows:,} in bulk in "
        f"{bulk_seconds:.0f} s, index built (flask build_indices) in {build_seconds:.0f} s",
        flush=True,
    )
    prepared = time.monotonic() - began
    port = bench.free_port()
    server = start(install, config, port, args.workers)
    try:
        step = time.monotonic()
        wait_loaded(port, server)
        ready = time.monotonic() - step
        print(
            f"HMA /m/index/status pdq size {index_size(port):,}; "
            f"{check_routes(port, codes, row_of)}",
            flush=True,
        )
        hexes, expected = checked
        got = [sorted(row_of[i] for i in ids) for ids in answers(port, hexes[: len(expected)])]
        # gunicorn's sync workers (HMA's Dockerfile) close every connection: wrk reconnects.
        bench.load(port, hexes, {}, args.connections, 2.0, "wrk")  # warm-up
        runs = [
            bench.load(port, hexes, {}, args.connections, args.seconds, "wrk")
            for _ in range(args.runs)
        ]
        workers = bench.memory(server)
    finally:
        bench._stop(server)
    exact = got == expected
    return bench.ServerResult("HMA (OpenMediaMatch)", n, prepared, ready, runs, workers, exact)
