"""Finance benchmark: SafeStream's payer score against the one-rule baseline, and its throughput.

One run generates a ledger (default mix: offenders 0.3% of payers) into a temporary folder,
scores it with DuckDB, and evaluates both detectors against the labels. The peer is the rule
banks commonly run (three or more transfers under 100 USD to a high-risk country in 30 days),
computed on the same engine and ledger. The ledger is deleted afterwards unless --keep.

    .venv/bin/python -m bench.bench_finance --quick        # about 6 million rows
    .venv/bin/python -m bench.bench_finance                # about 100 million rows
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psutil
import pyarrow as pa
import sklearn

from safestream.finance.alerts import alerts_table, score_accounts, write_alerts
from safestream.finance.engine import DuckDBEngine
from safestream.finance.evaluate import Metrics, evaluate, load_labels
from safestream.finance.generator import generate, load_config
from safestream.finance.scoring import load_scoring

QUICK_PAYERS = 100_000  # about 6 million rows
FULL_PAYERS = 1_700_000  # about 100 million rows
RESULTS = Path(__file__).parent / "results"

BASELINE_SQL = """
SELECT payer_id, MAX(n) AS n FROM (
  SELECT payer_id, SUM(CASE WHEN dest_risk > 0 AND channel NOT IN ('card', 'cash')
                             AND amount_usd < 100 THEN 1 ELSE 0 END)
    OVER (PARTITION BY payer_id ORDER BY t RANGE BETWEEN 2591999 PRECEDING AND CURRENT ROW) AS n
  FROM ledger WHERE dest_risk > 0
) GROUP BY payer_id HAVING MAX(n) >= 3
"""


class PeakMemory:
    """Samples this process's resident memory (DuckDB runs in-process) in a thread."""

    def __init__(self, every: float = 0.2) -> None:
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, me.memory_info().rss)
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.peak = max(self.peak, maxrss_kib * 1024)


@contextmanager
def timed(label: str, times: dict[str, float]) -> Iterator[None]:
    """Record the wall time of a block under `label` and print it."""
    began = time.perf_counter()
    yield
    times[label] = time.perf_counter() - began
    print(f"  {label:<24} {times[label]:8.1f} s", flush=True)


def _row(name: str, peer: str, ours: str, ratio: str) -> str:
    return f"| {name} | {peer} | {ours} | {ratio} |"


def _ratio(ours: float, peer: float) -> str:
    return f"{ours / peer:.2f}x" if peer else "n/a"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print settings and a peer-versus-SafeStream table."""
    parser = argparse.ArgumentParser(prog="bench.bench_finance", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about 6M rows instead of 100M")
    parser.add_argument("--payers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory", default="14GB", help="DuckDB memory limit")
    parser.add_argument("--workdir", type=Path, default=None, help="temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the generated ledger")
    args = parser.parse_args(argv)
    payers = args.payers or (QUICK_PAYERS if args.quick else FULL_PAYERS)
    work = Path(tempfile.mkdtemp(prefix="bench_finance_", dir=args.workdir))
    print(
        f"finance bench  payers={payers:,}  seed={args.seed}  threads={args.threads}  "
        f"memory_limit={args.memory}  cores={os.cpu_count()}  "
        f"python={platform.python_version()}  duckdb={duckdb.__version__}  "
        f"pyarrow={pa.__version__}  scikit-learn={sklearn.__version__}"
    )
    print(f"rerun: .venv/bin/python -m bench.bench_finance --payers {payers} --seed {args.seed}")
    times: dict[str, float] = {}
    try:
        config = load_config()
        config["payers"] = payers
        ledger, labels = work / "ledger.parquet", work / "labels.csv"
        with timed("generate", times):
            summary = generate(ledger, labels, args.seed, config)
        rows = summary.rows
        print(
            f"  ledger: {rows:,} rows, {summary.offenders:,} offenders "
            f"({summary.offenders / payers:.2%} of payers), {summary.facilitators} facilitators"
        )
        scoring = load_scoring()
        # In memory, spilling to the work folder past the limit: writing every intermediate
        # table to a database file costs more than it saves.
        engine = DuckDBEngine(threads=args.threads, memory_limit=args.memory)
        engine.con.execute(f"SET temp_directory = '{work / 'spill'}'")
        with PeakMemory() as memory:
            with timed("load + validate", times):
                engine.load(ledger)
            with timed("baseline rule (peer)", times):
                engine.query(BASELINE_SQL)
            with timed("indicators + score", times):
                scored = score_accounts(engine, scoring)
                write_alerts(alerts_table(scored), work / "alerts.parquet")
        results = evaluate(engine, scored, load_labels(labels))
        engine.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    ours, queue, ranked = results["payer"]
    payee = results["payee"][0]
    score_s = times["load + validate"] + times["indicators + score"]
    peer_s = times["load + validate"] + times["baseline rule (peer)"]
    lines = [
        _row("measure", "baseline rule (peer)", "SafeStream", "SafeStream / peer"),
        "|---|---|---|---|",
    ]
    for k in (50, 100, 500):
        lines.append(
            _row(
                f"payer precision@{k}",
                f"{queue.precision_at[k]:.3f} (ranked by count: {ranked.precision_at[k]:.3f})",
                f"{ours.precision_at[k]:.3f}",
                _ratio(ours.precision_at[k], max(queue.precision_at[k], ranked.precision_at[k])),
            )
        )
    lines += [
        _row(
            "payer PR-AUC",
            f"{queue.pr_auc:.3f}",
            f"{ours.pr_auc:.3f}",
            _ratio(ours.pr_auc, queue.pr_auc),
        ),
        _row(
            "offenders flagged (recall)",
            f"{queue.recall:.3f}",
            f"{ours.recall:.3f}",
            _ratio(ours.recall, queue.recall),
        ),
        _row(
            "payers flagged",
            f"{queue.flagged:,}",
            f"{ours.flagged:,}",
            _ratio(ours.flagged, queue.flagged),
        ),
        _row(
            "median HRJ transfers up to first flag, all offenders",
            _num(queue.median_tx_before_flag),
            _num(ours.median_tx_before_flag),
            "",
        ),
        _row(
            "median HRJ transfers up to first flag, prolific",
            _num(queue.median_tx_before_flag_prolific),
            _num(ours.median_tx_before_flag_prolific),
            "",
        ),
        _row(
            "facilitator precision@50 / recall",
            "n/a (payer rule)",
            f"{payee.precision_at[50]:.3f} / {payee.recall:.3f}",
            "",
        ),
        _row("seconds, load + rule(s)", f"{peer_s:.1f}", f"{score_s:.1f}", _ratio(score_s, peer_s)),
        _row(
            "rows per second",
            f"{rows / peer_s:,.0f}",
            f"{rows / score_s:,.0f}",
            _ratio(peer_s, score_s),
        ),
    ]
    table = "\n".join(lines)
    print()
    print(table)
    print(
        f"\ngenerator: {rows / times['generate'] * 60 / 1e6:.1f} M rows/min; "
        f"peak memory (whole process): {memory.peak / 2**30:.2f} GiB"
    )
    _check_targets(ours, queue, ranked, score_s, memory.peak, rows)
    _write_results(args, payers, rows, summary.offenders, times, memory.peak, table)
    return 0


def _num(x: float) -> str:
    return "n/a" if x != x else f"{x:.1f}"


def _check_targets(
    ours: Metrics, queue: Metrics, ranked: Metrics, score_s: float, peak: int, rows: int
) -> None:
    best_peer = max(queue.precision_at[100], ranked.precision_at[100])
    checks = [
        ("precision@100 >= 0.9", ours.precision_at[100] >= 0.9),
        ("precision@100 >= 2x baseline", ours.precision_at[100] >= 2 * best_peer),
        ("median transfers to first flag, prolific <= 5", ours.median_tx_before_flag_prolific <= 5),
        ("peak memory <= 16 GB", peak <= 16 * 10**9),
    ]
    if rows >= 90_000_000:
        checks.append(("100M rows scored within 10 minutes", score_s <= 600))
    for name, ok in checks:
        print(f"  target {name}: {'met' if ok else 'NOT met'}")


def _write_results(
    args: argparse.Namespace,
    payers: int,
    rows: int,
    offenders: int,
    times: dict[str, float],
    peak: int,
    table: str,
) -> None:
    name = "finance_quick.md" if rows < 90_000_000 else "finance.md"
    RESULTS.mkdir(exist_ok=True)
    steps = "\n".join(f"| {k} | {v:.1f} |" for k, v in times.items())
    (RESULTS / name).write_text(
        f"# Finance benchmark ({rows:,} rows)\n\n"
        f"Command: `.venv/bin/python -m bench.bench_finance --payers {payers} "
        f"--seed {args.seed}` on {os.cpu_count()} cores, DuckDB {duckdb.__version__}, "
        f"threads={args.threads}, memory limit {args.memory}. Default generator mix: "
        f"{payers:,} payers, {offenders:,} offenders ({offenders / payers:.2%}).\n\n"
        f"{table}\n\n| step | seconds |\n|---|---|\n{steps}\n\n"
        f"Peak resident memory of the whole process: {peak / 2**30:.2f} GiB.\n"
    )
    print(f"wrote {RESULTS / name}")


if __name__ == "__main__":
    sys.exit(main())
