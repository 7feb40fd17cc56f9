"""The fault suite, long forms: what each fault does to SafeStream and how fast it recovers.

    python -m bench.bench_faults [--quick] [--only nats,kill,db,disk,media]

Faults are real, on throwaway servers of this run (never the shared services): a private
nats-server stopped for 60 s (10 s quick) under a live worker; kill -9 of the worker holding a
stream; a private PostgreSQL cluster stopped for 5 s (2 s quick) under intake load; a tmpfs
filled under intake load for 5 s; a folder of 200 (40 quick) corrupt and hostile files mixed
with good ones through `hash`, `bank add` and `match`. Each row prints what was acknowledged
against what was stored and the time to recover, next to the target of issue 15.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.fault_harness import PrivateNats, PrivatePostgres
from bench.fault_live import nats_outage, worker_kill
from bench.fault_media import run_folder
from bench.fault_store import StoreFaultResult, can_mount, db_restart, disk_full
from bench.tables import markdown_table

COLUMNS = ("fault", "acknowledged / stored", "refused", "recovery", "target", "met")
Row = tuple[str, str, str, str, str, str]


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def nats_row(folder: Path, quick: bool) -> Row:
    """NATS away for 60 s (10 s quick) under a worker watching a stream."""
    r = nats_outage(folder, 10.0 if quick else 60.0)
    met = (
        not r.worker_exited
        and r.streams_held_during
        and r.alert_after_s is not None
        and r.alert_after_s < 5
        and r.new_stream_taken_s is not None
        and r.new_stream_taken_s < 5
    )
    recovery = (
        f"bus back {_s(r.reconnect_s)}, next alert {_s(r.alert_after_s)}, new stream taken "
        f"{_s(r.new_stream_taken_s)}; worker exited: {r.worker_exited}; "
        f"{r.alerts_during} alert(s) during the outage"
    )
    return (f"NATS away {r.outage_s:g} s", "n/a", "none", recovery,
            "no exit; alerts within 5 s of return", "yes" if met else "NO")  # fmt: skip


def kill_row(folder: Path, quick: bool) -> Row:
    """kill -9 of the worker holding a stream."""
    del quick
    r = worker_kill(folder)
    met = r.takeover_s is not None and r.takeover_s < 5 and r.first_sample_t >= r.expected_at_s
    recovery = (
        f"taken over in {_s(r.takeover_s)} (delivery {r.delivery}), resumed at "
        f"{r.resumed_at_s} s of stream time, first sample t={r.first_sample_t:.1f} s "
        f"(killed at {r.expected_at_s:.1f} s)"
    )
    return ("worker kill -9", "n/a", "none", recovery, "takeover within 5 s, where it is",
            "yes" if met else "NO")  # fmt: skip


def _store_row(r: StoreFaultResult, target_status: int) -> Row:
    statuses = ", ".join(f"{n}x {s}" for s, n in sorted(r.refused_statuses.items()))
    met = (
        r.lost == 0
        and set(r.refused_statuses) <= {503, 507}
        and r.refused_without_retry_after == 0
        and r.serving_after_s is not None
        and r.serving_after_s < 1
        and r.linked_after_s is not None
        and r.linked_after_s < 30
    )
    recovery = (
        f"serving {_s(r.serving_after_s)} after, all linked {_s(r.linked_after_s)} after; "
        f"/readyz during: {r.ready_during}"
    )
    refused = f"{statuses or 'none'} ({r.refused_without_retry_after} without Retry-After)"
    target = f"0 lost, {target_status} + Retry-After, serving < 1 s, linked < 30 s"
    return (r.fault, f"{r.acknowledged} / {r.stored}", refused, recovery, target,
            "yes" if met else "NO")  # fmt: skip


def db_row(folder: Path, quick: bool) -> Row:
    """A private PostgreSQL stopped (fast shutdown) under intake load, then started."""
    return _store_row(db_restart(folder, down_s=2.0 if quick else 5.0), 503)


def disk_row(folder: Path, quick: bool) -> Row:
    """A tmpfs SQLite home filled under intake load, then space freed."""
    return _store_row(disk_full(folder, full_s=2.0 if quick else 5.0), 507)


def media_row(folder: Path, quick: bool) -> Row:
    """A folder of corrupt and hostile files mixed with good ones."""
    r = run_folder(folder / "folder", 40 if quick else 200, folder / "home")
    kind, cpu, wall, peak = r.slowest_bad_kind
    met = (
        r.good_hashed == r.good_matched == r.good
        and r.bad_with_one_error_line == r.bad
        and r.other_error_lines == 0
        and cpu < 10
        and peak < 1024
    )
    timings = ", ".join(
        f"{run.command.split()[0]} {run.seconds:.0f} s wall / {run.cpu_seconds:.0f} s CPU / "
        f"{run.max_rss_mb:.0f} MB"
        for run in r.runs
    )
    recovery = (
        f"{r.good_hashed}/{r.good} good hashed, {r.good_matched}/{r.good} matched; "
        f"{r.bad_with_one_error_line}/{r.bad} bad with one error line; {timings}; costliest "
        f"bad file alone (whole CLI run): {kind} {cpu:.1f} s CPU, {wall:.1f} s wall, "
        f"{peak:.0f} MB peak"
    )
    return (f"{r.files} files, {r.bad} corrupt/hostile", "n/a", f"{r.bad} error lines",
            recovery, "all good matched, 1 line per bad, < 10 s and < 1 GB each",
            "yes" if met else "NO")  # fmt: skip


FAULTS: dict[str, tuple[Callable[[Path, bool], Row], Callable[[], bool]]] = {
    "nats": (nats_row, PrivateNats.available),
    "kill": (kill_row, PrivateNats.available),
    "db": (db_row, lambda: PrivatePostgres.bin_dir() is not None),
    "disk": (disk_row, can_mount),
    "media": (media_row, lambda: True),
}


def main(argv: list[str] | None = None) -> int:
    """Run the faults and print one Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_faults", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter outages, 40 files")
    parser.add_argument("--only", default=",".join(FAULTS), help="comma-separated faults")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # intake and linker log every refused write; see the table
    rows: list[Row] = []
    for name in args.only.split(","):
        run, available = FAULTS[name]
        if not available():
            print(f"skipped {name}: its server or mount is not available here", flush=True)
            continue
        with tempfile.TemporaryDirectory(prefix=f"safestream-fault-{name}-") as folder:
            rows.append(run(Path(folder), args.quick))
        print(" | ".join(rows[-1]), flush=True)
    print("\n".join(markdown_table(COLUMNS, rows)))
    return 0 if all(row[-1] == "yes" for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
