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

Run: `python -m bench.bench_exchange [--quick] [--rows N] [--repeats R]`.
"""

from __future__ import annotations

import argparse
import os
import secrets
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
    from safestream.exchange.peers import PeerRegistry
    from safestream.store import Database
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
    from safestream.exchange.store import NewSignal, SignalStore
    from safestream.store import Database

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


def run_once(rows: int) -> dict[str, float]:
    """One full and one incremental exchange for SafeStream and the pytx peer."""
    with tempfile.TemporaryDirectory(prefix="bench-exchange-") as tmp:
        root = Path(tmp)
        hotline, platform, lines = _setup(root, rows)
        port = _free_port()
        _register(hotline, platform, port)
        publish = _cli(hotline, "exchange", "publish", "bench", str(lines))
        env = {**os.environ, "SAFESTREAM_HOME": str(hotline)}
        server = subprocess.Popen(
            [sys.executable, "-m", "safestream.cli", "exchange", "serve", "--port", str(port)],
            env=env, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait(port)
            full = _cli(platform, "exchange", "pull", "hotline", "--no-banks")
            changed = _changes(hotline, lines)
            incremental = _cli(platform, "exchange", "pull", "hotline", "--no-banks")
            _changes(hotline, changed)
            running = _pull_in_process(platform)
        finally:
            server.terminate()
            server.wait(timeout=30)
        pytx_home = root / "pytx"
        pytx_home.mkdir()
        _pytx(pytx_home, "config", "collab", "edit", "local_file", "--create", "bench",
              "--filename", str(lines))  # fmt: skip
        peer_full = _pytx(pytx_home, "fetch")
        lines.write_text(changed.read_text())
        peer_incremental = _pytx(pytx_home, "fetch")
        return {
            "publish": publish, "full": full, "incremental": incremental, "running": running,
            "peer_full": peer_full, "peer_incremental": peer_incremental,
        }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 entries, one run")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = 100_000 if args.quick else args.rows
    repeats = 1 if args.quick else args.repeats
    runs = []
    for i in range(repeats):
        runs.append(run_once(rows))
        print(
            f"run {i + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in runs[-1].items()), flush=True
        )
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"exchange of {rows:,} entries, medians of {repeats} runs (whole processes)")
    print(f"{'':28}{'SafeStream':>12}{'pytx local_file':>18}{'ratio':>8}")
    for label, ours, peer in (
        ("full exchange (s)", "full", "peer_full"),
        (f"after {CHANGES:,} changes (s)", "incremental", "peer_incremental"),
    ):
        print(f"{label:28}{med[ours]:12.2f}{med[peer]:18.2f}{med[peer] / med[ours]:8.1f}x")
    print(f"{'  same, in a running puller (s)':28}{med['running']:12.2f}")
    print(f"{'publish into the collection (s)':34}{med['publish']:6.2f}")
    ok = med["full"] < 60 and med["running"] < 1
    verdict = "met" if ok else "NOT met"
    print(f"targets: full < 60 s, 1,000 changes < 1 s (running puller): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
