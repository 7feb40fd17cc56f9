"""Keeping looked-up hashes for retroactive matching: what it costs a raw lookup, in process.

`RawLookupAnswers.answer_now` (the path `serve` answers a plain `/m/raw_lookup` from) timed in
one process over a 10,000-entry bank, alternating three modes per run: seen hashes not kept, kept
with new hashes, kept with the previous run's hashes again (an organisation's repeat within the
hour is kept once). Process CPU includes the background writer thread: each run waits until its
hashes are written. Medians of `--runs`; the load average is printed beside each run.

Run: `python -m bench.bench_seen_lookups [--runs N] [--lookups M]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lookups", type=int, default=20_000)
    args = parser.parse_args(argv)
    from fastapi.testclient import TestClient

    from safestream.api.app import create_app
    from safestream.api.seen_lookups import SeenLookups
    from safestream.core.config import Settings
    from safestream.store.access import create_api_key, create_org
    from safestream.store.banks import BankRepository, NewEntry

    tmp = Path(tempfile.mkdtemp(prefix="bench-seen-"))
    settings = Settings(home=tmp / "home", database_url=f"sqlite:///{tmp / 'store.db'}")
    app = create_app(settings, link_in_background=False)
    rng = np.random.default_rng(3)

    def hexes(n: int) -> list[str]:
        return [c.tobytes().hex() for c in rng.integers(0, 256, (n, 32), dtype=np.uint8)]

    with TestClient(app):
        db = app.state.db
        create_org(db, "Acme")
        key = create_api_key(db, "Acme").key
        BankRepository(db).create("known")
        BankRepository(db).add_entries("known", [NewEntry("pdq", h) for h in hexes(10_000)])
        answers, service = app.state.raw_lookup_answers, app.state.media
        kept, not_kept = service.seen, SeenLookups(None)
        auth = f"Bearer {key}".encode()
        wall: dict[str, list[float]] = {"off": [], "new": [], "repeat": []}
        cpu: dict[str, list[float]] = {"off": [], "new": [], "repeat": []}
        queries: list[bytes] = []
        for run in range(args.runs):
            for mode in ("off", "new", "repeat"):
                if mode != "repeat":
                    queries = [f"signal_type=pdq&signal={h}".encode() for h in hexes(args.lookups)]
                service.seen = not_kept if mode == "off" else kept
                took, cpu_start = 0.0, time.process_time()
                for q in queries:
                    while True:
                        start = time.perf_counter()
                        if answers.answer_now(q, auth) is not None:
                            took += time.perf_counter() - start
                            break
                        service.index()  # keep the index and the key cache fresh, untimed
                        answers.keys.lookup(key)
                kept.flush(60)
                wall[mode].append(took / len(queries) * 1e6)
                cpu[mode].append((time.process_time() - cpu_start) / len(queries) * 1e6)
                print(f"run {run} {mode:6}: wall {wall[mode][-1]:7.1f} us, process CPU "
                      f"{cpu[mode][-1]:7.1f} us per lookup, load {os.getloadavg()[0]:.1f}",
                      flush=True)  # fmt: skip
        service.seen = kept
    for mode in ("off", "new", "repeat"):
        print(f"median {mode:6}: wall {statistics.median(wall[mode]):7.1f} us, process CPU "
              f"{statistics.median(cpu[mode]):7.1f} us per lookup")  # fmt: skip
    print(f"hashes kept {kept.queue.recorded if kept.queue else 0:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
