"""Memory of 64 concurrent wrong-password logins: SafeStream's console against an unbounded peer.

Issue 10's target: 64 concurrent wrong-password attempts keep the server under 500 MiB resident.
Argon2id (argon2-cffi defaults) takes 64 MiB per check, so a server hashing every guess at once
needs 64 x 64 MiB. SafeStream bounds concurrent checks (2, `api/web/login_throttle.py`).

- SafeStream: `safestream serve` (1 worker, real Argon2 defaults), a console user; each of the
  64 clients fetches the login form (cookie and CSRF token) first, then all post a wrong password
  at once (64 different e-mails, 1 of them real: unknown e-mails are hashed too), each client
  from its own loopback address (127.0.0.2, .3, ...), so the per-address login throttle (20
  attempts) does not refuse most of the burst before any password is hashed.
- peer (`bench/login_peer.py`): Starlette under uvicorn, each POST verifies Argon2 in the thread
  pool at once, as the first console did.
The resident memory (RSS) of the process answering the logins is sampled every 10 ms from
before the burst until every answer is in, and of its whole process tree (SafeStream's `serve`
also starts a linker process); reported: before, peak, answers by status, wall time. Repeated
runs, medians.

Run: `.venv/bin/python -m bench.bench_login_memory [--quick] [--clients 64] [--runs 3]`
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.tables import markdown_table

ROOT = Path(__file__).resolve().parents[1]
EMAIL = "reviewer@hotline.example"
PASSWORD = "the right passphrase for the bench"
TARGET_MIB = 500


@dataclass
class Burst:
    """One burst of concurrent wrong-password logins: RSS of the process answering the logins,
    and of its whole tree (SafeStream's also holds the linker process, which hashes nothing)."""

    before_mib: float
    peak_mib: float
    tree_before_mib: float
    tree_peak_mib: float
    seconds: float
    statuses: Counter[int]


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int, *, tree: bool = False) -> float:
    """Resident memory of a process (with `tree`, and of its children), MiB."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)] if tree else [root]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total / 2**20


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    """Poll until the server answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def burst(pid: int, prepare: Callable[[int], Callable[[], int]], clients: int) -> Burst:
    """Prepare `clients` requests, then send them at once while sampling the server's RSS."""
    senders = [prepare(i) for i in range(clients)]
    time.sleep(1.0)  # let the server settle after the form fetches
    before, tree_before = rss_mib(pid), rss_mib(pid, tree=True)
    peak, tree_peak = before, tree_before
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    go = threading.Event()

    def run(send: Callable[[], int]) -> None:
        go.wait()
        status = send()
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    start = time.perf_counter()
    go.set()
    while any(t.is_alive() for t in threads):
        peak = max(peak, rss_mib(pid))
        tree_peak = max(tree_peak, rss_mib(pid, tree=True))
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    peak = max(peak, rss_mib(pid))
    return Burst(before, peak, tree_before, tree_peak, seconds, statuses)


def safestream_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`safestream serve` on a fresh home with one console user (real Argon2 cost)."""
    from safestream.core.config import Settings
    from safestream.store.access import add_user, create_org
    from safestream.store.database import Database

    settings = Settings(home=home)
    settings.ensure_home()
    db = Database.from_settings(settings)
    db.migrate()
    create_org(db, "Hotline", kind="operator")
    add_user(db, EMAIL, org="Hotline", role="reviewer", password=PASSWORD)
    db.dispose()
    port = free_port()
    env = {**os.environ, "SAFESTREAM_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    env.pop("SAFESTREAM_DATABASE_URL", None)
    command = [sys.executable, "-m", "safestream.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/healthz")
    return process, url


def safestream_login(url: str) -> Callable[[int], Callable[[], int]]:
    """Per client: fetch the form (cookie, CSRF token) now; the returned call posts the guess."""

    def prepare(i: int) -> Callable[[], int]:
        # Own address per client: the throttle counts 20 attempts per address.
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{2 + i % 250}")
        client = httpx.Client(base_url=url, timeout=300.0, transport=transport)
        form = client.get("/console/login")
        found = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
        assert found, "no CSRF token on the login form"
        email = EMAIL if i == 0 else f"nobody-{i}@hotline.example"
        data = {"email": email, "password": f"wrong guess {i}", "csrf_token": found.group(1)}

        def send() -> int:
            status = client.post("/console/login", data=data).status_code
            client.close()
            return status

        return send

    return prepare


def peer_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The unbounded peer under uvicorn, checking the same kind of Argon2id hash."""
    from argon2 import PasswordHasher

    hash_file = home / "peer-hash.txt"
    home.mkdir(parents=True, exist_ok=True)
    hash_file.write_text(PasswordHasher().hash(PASSWORD))
    port = free_port()
    env = {**os.environ, "LOGIN_PEER_HASH_FILE": str(hash_file), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.login_peer:app", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/login")
    return process, url


def peer_login(url: str) -> Callable[[int], Callable[[], int]]:
    """Per client: the returned call posts a wrong password."""

    def prepare(i: int) -> Callable[[], int]:
        client = httpx.Client(base_url=url, timeout=300.0)

        def send() -> int:
            status = client.post("/login", data={"password": f"wrong guess {i}"}).status_code
            client.close()
            return status

        return send

    return prepare


def measure(
    start: Callable[[Path], tuple[subprocess.Popen[bytes], str]],
    login: Callable[[str], Callable[[int], Callable[[], int]]],
    clients: int,
    runs: int,
) -> list[Burst]:
    """`runs` bursts, each on a freshly started server (a fresh throttle and heap)."""
    found = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            process, url = start(Path(tmp) / "home")
            try:
                found.append(burst(process.pid, login(url), clients))
            finally:
                process.terminate()
                process.wait(30)
    return found


def summary(name: str, bursts: list[Burst]) -> list[str]:
    """One table row: medians over the runs, and the answers of the first run."""
    statuses = ", ".join(f"{n} x {s}" for s, n in sorted(bursts[0].statuses.items()))
    return [
        name,
        f"{statistics.median(b.before_mib for b in bursts):.0f}",
        f"{statistics.median(b.peak_mib for b in bursts):.0f}",
        f"{max(b.peak_mib for b in bursts):.0f}",
        f"{statistics.median(b.tree_before_mib for b in bursts):.0f} / "
        f"{statistics.median(b.tree_peak_mib for b in bursts):.0f}",
        f"{statistics.median(b.seconds for b in bursts):.1f}",
        statuses,
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure both servers; print a Markdown table; exit 1 if SafeStream misses the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run of each")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    ours = measure(safestream_server, safestream_login, args.clients, runs)
    peer = measure(peer_server, peer_login, args.clients, runs)
    header = ["server", "RSS before (MiB)", "peak RSS, median (MiB)", "peak RSS, max (MiB)",
              "process tree before / peak (MiB)", "burst (s)", "answers (run 1)"]  # fmt: skip
    print(f"{args.clients} concurrent wrong-password logins, {runs} run(s) each, "
          f"{os.cpu_count()} CPUs; target: SafeStream peak < {TARGET_MIB} MiB")  # fmt: skip
    print("\n".join(markdown_table(header, [summary("SafeStream", ours), summary("peer", peer)])))
    return 0 if max(b.peak_mib for b in ours) < TARGET_MIB else 1


if __name__ == "__main__":
    raise SystemExit(main())
