"""Exchange between two installations: a full pull of N entries and an incremental one.

Two SafeStream homes on this machine: the publisher serves `safestream exchange serve`, the
receiver runs `safestream exchange pull` as a whole process (start-up included), once for all N
entries and once after 1,000 changes (half new entries, half withdrawals). Targets (issue 12):
1M entries in under 60 s, 1,000 changes in under 1 s.

Peer: python-threatexchange's `local_file` collaboration, the way a pytx or HMA user shares a
list today: the same N `pdq <hash>` lines in a file, read by `threatexchange fetch` (a whole
process that also builds its match index, as pytx's fetch does); after the 1,000 changes it has
to read the whole file again. The file reaches the peer out of band; SafeStream's times include
the HTTP transfer and signature checks.

The publisher is filled once (its publish time is reported once) and serves every run; each run
pulls into a fresh receiving home (same identity). SafeStream's pulls are repeated `--repeats`
times (medians); the peer's fetches take minutes per million lines and are run `--peer-runs`
times (default once), which the report says.

Run: `python -m bench.bench_exchange [--quick] [--rows N] [--repeats R]`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHANGES = 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(home: Path, *args: str) -> float:
    env = {**os.environ, "SAFESTREAM_HOME": str(home)}
    env.pop("SAFESTREAM_DATABASE_URL", None)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "safestream.cli", *args], env=env, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - start


def _pytx(home: Path, *args: str) -> float:
    env = {**os.environ, "HOME": str(home)}
    exe = Path(sys.executable).with_name("threatexchange")
    start = time.perf_counter()
    subprocess.run([str(exe), *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _setup(root: Path, rows: int) -> tuple[Path, Path, Path]:
    from safestream.exchange.identity import Identity
    from safestream.store import Database

    hotline, platform = root / "hotline", root / "platform"
    lines = root / "signals.txt"
    with lines.open("w") as f:
        for _ in range(rows):
            f.write(f"pdq {secrets.token_hex(32)}\n")
    homes = {}
    for home in (hotline, platform):
        home.mkdir()
        db = Database(f"sqlite:///{home / 'safestream.db'}")
        db.migrate()
        homes[home] = (db, Identity.load_or_create(home))
    return hotline, platform, lines


def _register(hotline: Path, platform: Path, port: int) -> None:
    from safestream.core.principal import Principal
    from safestream.exchange.identity import Identity
    from safestream.store import Database
    from safestream.store.exchange.peers import PeerRegistry
    from safestream.store.exchange_grants import SharingGrants

    a = Database(f"sqlite:///{hotline / 'safestream.db'}")
    b = Database(f"sqlite:///{platform / 'safestream.db'}")
    PeerRegistry(a).add("platform", "http://unused", Identity.load_or_create(platform).public_text)
    SharingGrants(a).grant(Principal.system("bench"), "bench", "platform")
    PeerRegistry(b).add(
        "hotline", f"http://127.0.0.1:{port}", Identity.load_or_create(hotline).public_text
    )
    a.dispose()
    b.dispose()


def _pull_in_process(platform: Path) -> float:
    """An incremental pull as a running `exchange pull --every` makes it (no start-up)."""
    from safestream.exchange.identity import Identity
    from safestream.exchange.pull import pull
    from safestream.store import Database

    db = Database(f"sqlite:///{platform / 'safestream.db'}")
    me = Identity.load_or_create(platform)
    start = time.perf_counter()
    result = pull(db, me, "hotline")
    took = time.perf_counter() - start
    db.dispose()
    assert result.entries == CHANGES, result
    return took


def _changes(hotline: Path, lines: Path) -> Path:
    from safestream.core.principal import Principal
    from safestream.core.shared_signals import NewSignal
    from safestream.store import Database
    from safestream.store.exchange.shared_signals import SignalStore

    db = Database(f"sqlite:///{hotline / 'safestream.db'}")
    store = SignalStore(db)
    system = Principal.system("bench")
    old = lines.read_text().splitlines()[: CHANGES // 2]
    for line in old:
        store.withdraw("bench", "pdq", line.split()[1], principal=system)
    fresh = [f"pdq {secrets.token_hex(32)}" for _ in range(CHANGES // 2)]
    store.publish("bench", [NewSignal("pdq", v.split()[1]) for v in fresh], principal=system)
    db.dispose()
    changed = lines.with_name("signals-changed.txt")
    kept = lines.read_text().splitlines()[CHANGES // 2 :]
    changed.write_text("\n".join(kept + fresh) + "\n")
    return changed


def _wait(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("exchange server did not start")


def _receiver(root: Path, platform: Path, run: int) -> Path:
    """A fresh receiving home with the registered receiver's identity and peer entry."""
    from safestream.exchange.identity import IDENTITY_FILE
    from safestream.store import Database
    from safestream.store.exchange.peers import PeerRegistry

    home = root / f"platform-{run}"
    home.mkdir()
    shutil.copy(platform / IDENTITY_FILE, home / IDENTITY_FILE)
    peer = PeerRegistry(Database(f"sqlite:///{platform / 'safestream.db'}")).get("hotline")
    db = Database(f"sqlite:///{home / 'safestream.db'}")
    db.migrate()
    PeerRegistry(db).add("hotline", peer.url, peer.public_key)
    db.dispose()
    return home


def run_safestream(rows: int, repeats: int, root: Path) -> tuple[list[dict[str, float]], float]:
    """Repeated full and incremental pulls from one publisher; its publish time."""
    hotline, platform, lines = _setup(root, rows)
    port = _free_port()
    _register(hotline, platform, port)
    publish = _cli(hotline, "exchange", "publish", "bench", str(lines))
    env = {**os.environ, "SAFESTREAM_HOME": str(hotline)}
    server = subprocess.Popen(
        [sys.executable, "-m", "safestream.cli", "exchange", "serve", "--port", str(port)],
        env=env, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    runs = []
    try:
        _wait(port)
        current = lines
        for run in range(repeats):
            home = _receiver(root, platform, run)
            full = _cli(home, "exchange", "pull", "hotline", "--no-banks")
            current = _changes(hotline, current)
            incremental = _cli(home, "exchange", "pull", "hotline", "--no-banks")
            current = _changes(hotline, current)
            running = _pull_in_process(home)
            runs.append({"full": full, "incremental": incremental, "running": running})
            print(f"run {run + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in runs[-1].items())
                  + f" (load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    return runs, publish


def run_peer(root: Path, rows: int) -> dict[str, float]:
    """pytx's full fetch of N lines, then its fetch after 1,000 changed lines."""
    lines = root / "peer-signals.txt"
    lines.write_text("".join(f"pdq {secrets.token_hex(32)}\n" for _ in range(rows)))
    home = root / "pytx"
    home.mkdir()
    _pytx(home, "config", "collab", "edit", "local_file", "--create", "bench",
          "--filename", str(lines))  # fmt: skip
    full = _pytx(home, "fetch")
    kept = lines.read_text().splitlines()[CHANGES // 2 :]
    fresh = [f"pdq {secrets.token_hex(32)}" for _ in range(CHANGES // 2)]
    lines.write_text("\n".join(kept + fresh) + "\n")
    return {"peer_full": full, "peer_incremental": _pytx(home, "fetch")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 entries, one run")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-runs", type=int, default=1)
    args = parser.parse_args(argv)
    rows = 100_000 if args.quick else args.rows
    repeats = 1 if args.quick else args.repeats
    print(f"load average at start {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-exchange-") as tmp:
        runs, publish = run_safestream(rows, repeats, Path(tmp))
    peers = []
    for i in range(args.peer_runs):
        with tempfile.TemporaryDirectory(prefix="bench-exchange-peer-") as tmp:
            peers.append(run_peer(Path(tmp), rows))
        print(f"peer run {i + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in peers[-1].items())
              + f" (load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    med |= {k: statistics.median(p[k] for p in peers) for k in peers[0]}
    print(f"exchange of {rows:,} entries: SafeStream medians of {repeats} runs, pytx of "
          f"{args.peer_runs} (whole processes)")  # fmt: skip
    print(f"{'':28}{'SafeStream':>12}{'pytx local_file':>18}{'ratio':>8}")
    for label, ours, peer in (
        ("full exchange (s)", "full", "peer_full"),
        (f"after {CHANGES:,} changes (s)", "incremental", "peer_incremental"),
    ):
        print(f"{label:28}{med[ours]:12.2f}{med[peer]:18.2f}{med[peer] / med[ours]:8.1f}x")
    print(f"{'  same, in a running puller (s)':28}{med['running']:12.2f}")
    print(f"{'publish into the collection (s)':34}{publish:6.2f}  (once)")
    ok = med["full"] < 60 and med["running"] < 1
    verdict = "met" if ok else "NOT met"
    print(f"targets: full < 60 s, 1,000 changes < 1 s (running puller): {verdict}")
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
