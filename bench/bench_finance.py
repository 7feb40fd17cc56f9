"""Finance benchmark: SafeStream's payer score against the one-rule baseline, and its throughput.

One run generates a ledger (default mix: offenders 0.3% of payers) into a temporary folder, or
takes one made earlier with `safestream finance generate` (--ledger, --labels), scores it with
DuckDB, and evaluates both detectors against the labels. The peer is the rule banks commonly run
(three or more transfers under 100 USD to a high-risk country in 30 days) as one query over the
ledger file, timed in the same run on the same engine. A generated ledger is deleted afterwards
unless --keep.

    .venv/bin/python -m bench.bench_finance --quick        # about 6 million rows
    .venv/bin/python -m bench.bench_finance                # about 100 million rows
    .venv/bin/python -m bench.bench_finance --ledger L.parquet --labels L.csv --workdir /tmp
"""

from __future__ import annotations

import argparse
import logging
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

from safestream.finance.alerts import alerts_table, relevant_rows, score_accounts, write_alerts
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
    parser.add_argument("--ledger", type=Path, default=None, help="score this ledger instead")
    parser.add_argument("--labels", type=Path, default=None, help="labels of --ledger")
    args = parser.parse_args(argv)
    # The scoring stages log their times; show them under "indicators + score".
    logging.basicConfig(format="    %(message)s")
    logging.getLogger("safestream.finance.alerts").setLevel(logging.INFO)
    if (args.ledger is None) != (args.labels is None):
        parser.error("--ledger and --labels go together")
    payers = args.payers or (QUICK_PAYERS if args.quick else FULL_PAYERS)
    work = Path(tempfile.mkdtemp(prefix="bench_finance_", dir=args.workdir))
    load_at_start = os.getloadavg()
    print(
        f"finance bench  {'ledger made earlier' if args.ledger else f'payers={payers:,}'}  "
        f"seed={args.seed}  threads={args.threads}  "
        f"memory_limit={args.memory}  cores={os.cpu_count()}  "
        f"python={platform.python_version()}  duckdb={duckdb.__version__}  "
        f"pyarrow={pa.__version__}  scikit-learn={sklearn.__version__}"
    )
    print(f"load average at start: {_loads(load_at_start)}")
    times: dict[str, float] = {}
    try:
        if args.ledger is not None:
            ledger, labels = args.ledger, args.labels
            print(f"ledger: {ledger} (made earlier; not generated in this run)")
        else:
            rerun = f"--payers {payers} --seed {args.seed}"
            print(f"rerun: .venv/bin/python -m bench.bench_finance {rerun}")
            config = load_config()
            config["payers"] = payers
            ledger, labels = work / "ledger.parquet", work / "labels.csv"
            with timed("generate", times):
                summary = generate(ledger, labels, args.seed, config)
            print(f"  generator: {summary.rows / times['generate'] * 60 / 1e6:.1f} M rows/min")
        truth = load_labels(labels)
        payers = len(truth.by_role["payer"])
        offenders = len(truth.positives("payer"))
        scoring = load_scoring()
        # In memory, spilling to the work folder past the limit: writing every intermediate
        # table to a database file costs more than it saves.
        engine = DuckDBEngine(
            threads=args.threads, memory_limit=args.memory, spill_directory=work / "spill"
        )
        with PeakMemory() as memory:
            with timed("load + validate", times):
                report = engine.load(ledger, relevant=relevant_rows(scoring))
            with timed("indicators + score", times):
                scored = score_accounts(engine, scoring)
                write_alerts(alerts_table(scored), work / "alerts.parquet")
        # The peer reads the file itself: its time is a scan of every row plus its one window.
        with timed("baseline rule (peer)", times):
            engine.query(BASELINE_SQL)
        rows = report.rows_read
        print(
            f"  ledger: {rows:,} rows, {payers:,} payers, {offenders:,} offenders "
            f"({offenders / payers:.2%} of payers)"
        )
        results = evaluate(engine, scored, truth)
        engine.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    ours, queue, ranked = results["payer"]
    payee = results["payee"][0]
    score_s = times["load + validate"] + times["indicators + score"]
    peer_s = times["baseline rule (peer)"]
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
        _row(
            "seconds, file to result",
            f"{peer_s:.1f}",
            f"{score_s:.1f}",
            _ratio(score_s, peer_s),
        ),
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
    load_at_end = os.getloadavg()
    print(
        f"\nSafeStream: {rows / score_s:,.0f} rows per second over {rows:,} rows; "
        f"peak memory (whole process): {memory.peak / 2**30:.2f} GiB"
    )
    print(f"load average at end: {_loads(load_at_end)}")
    checks = _check_targets(ours, queue, ranked, score_s, memory.peak, rows)
    _write_results(
        args,
        ledger,
        payers,
        rows,
        offenders,
        times,
        memory.peak,
        table,
        checks,
        (load_at_start, load_at_end),
    )
    return 0


def _loads(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def _num(x: float) -> str:
    return "n/a" if x != x else f"{x:.1f}"


def _check_targets(
    ours: Metrics, queue: Metrics, ranked: Metrics, score_s: float, peak: int, rows: int
) -> list[str]:
    best_peer = max(queue.precision_at[100], ranked.precision_at[100])
    checks = [
        ("precision@100 >= 0.9", ours.precision_at[100] >= 0.9),
        ("precision@100 >= 2x baseline", ours.precision_at[100] >= 2 * best_peer),
        ("median transfers to first flag, prolific <= 5", ours.median_tx_before_flag_prolific <= 5),
        ("peak memory <= 16 GB", peak <= 16 * 10**9),
    ]
    if rows >= 90_000_000:
        checks.append(("100M rows scored within 10 minutes", score_s <= 600))
    lines = [f"target {name}: {'met' if ok else 'NOT met'}" for name, ok in checks]
    for line in lines:
        print(f"  {line}")
    return lines


def _write_results(
    args: argparse.Namespace,
    ledger: Path,
    payers: int,
    rows: int,
    offenders: int,
    times: dict[str, float],
    peak: int,
    table: str,
    checks: list[str],
    loads: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> None:
    name = "finance_quick.md" if rows < 90_000_000 else "finance_100m.md"
    if args.ledger is not None:
        command = (
            f"`.venv/bin/python -m bench.bench_finance --ledger {ledger} --labels {args.labels} "
            f"--threads {args.threads} --memory {args.memory}` (ledger made earlier with "
            f"`safestream finance generate --seed {args.seed} --payers {payers}`)"
        )
    else:
        command = f"`.venv/bin/python -m bench.bench_finance --payers {payers} --seed {args.seed}`"
    RESULTS.mkdir(exist_ok=True)
    steps = "\n".join(f"| {k} | {v:.1f} |" for k, v in times.items())
    targets = "\n".join(f"- {line}" for line in checks)
    (RESULTS / name).write_text(
        f"# Finance benchmark ({rows:,} rows)\n\n"
        f"Run {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC. Command: {command} on "
        f"{os.cpu_count()} cores, DuckDB {duckdb.__version__}, threads={args.threads}, "
        f"memory limit {args.memory}. Load average (1, 5, 15 min) at start "
        f"{_loads(loads[0])}, at end {_loads(loads[1])}. Default generator mix: "
        f"{payers:,} payers, {offenders:,} offenders ({offenders / payers:.2%}).\n\n"
        f"{table}\n\n| step | seconds |\n|---|---|\n{steps}\n\n"
        f"SafeStream: {rows / (times['load + validate'] + times['indicators + score']):,.0f} "
        f"rows per second (load + indicators + score + alerts). "
        f"Peak resident memory of the whole process: {peak / 2**30:.2f} GiB.\n\n{targets}\n"
    )
    print(f"wrote {RESULTS / name}")


if __name__ == "__main__":
    sys.exit(main())
