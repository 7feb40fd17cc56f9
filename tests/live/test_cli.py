"""`safestream watch` on the command line, and alerts filed as reports in the store."""

from __future__ import annotations

from pathlib import Path

from safestream.core.config import Settings
from safestream.live.alerts import AlertRouter, SampledMatches
from safestream.live.sinks import StoreReportSink
from safestream.store import Database
from safestream.store.reports import ReportRepository
from tests.cli.json_lines import run_cli as run

from .test_alerts import CAT

REQUIRED = {"stream", "t", "wall_time", "bank", "entry_id", "entry_hash", "distance", "label",
            "latency_ms"}  # fmt: skip


def test_watch_prints_one_json_line_per_alert_and_returns_at_the_end(
    home: Path, media_dir: Path
) -> None:
    run("bank", "create", "known")
    run("bank", "add", "known", str(media_dir / "chelsea.png"), str(media_dir / "astronaut.png"))
    code, lines, err = run("watch", str(media_dir / "known.mp4"), "--evidence-seconds", "1")
    assert code == 0, err
    assert [round(float(str(line["t"]))) for line in lines] == [2, 4]
    assert all(set(line) >= REQUIRED for line in lines)
    assert "evidence_written" in err
    assert list((home / "evidence").glob("*.mkv.enc"))


def test_watch_id_names_the_stream_in_alerts(home: Path, media_dir: Path) -> None:
    run("bank", "create", "known")
    run("bank", "add", "known", str(media_dir / "chelsea.png"))
    code, lines, err = run("watch", str(media_dir / "known.mp4"), "--id", "call-4711")
    assert code == 0, err
    assert lines and {line["stream"] for line in lines} == {"call-4711"}


def test_watch_with_more_ids_than_urls_is_a_usage_error(home: Path, media_dir: Path) -> None:
    code, _, err = run("watch", str(media_dir / "known.mp4"), "--id", "a", "--id", "b")
    assert code == 2 and "--id" in err


def test_watch_of_only_other_banks_stays_silent(home: Path, media_dir: Path) -> None:
    run("bank", "create", "known")
    run("bank", "create", "other")
    run("bank", "add", "known", str(media_dir / "chelsea.png"))
    code, lines, _ = run("watch", str(media_dir / "known.mp4"), "--bank", "other")
    assert (code, lines) == (0, [])


def test_watch_of_a_missing_file_fails_with_a_message(home: Path) -> None:
    code, _, err = run("watch", "/nonexistent/stream.mp4")
    assert code == 1
    assert "no such file" in err


def test_watch_with_an_unknown_bank_fails_with_a_message(home: Path, media_dir: Path) -> None:
    code, _, err = run("watch", str(media_dir / "benign.mp4"), "--bank", "nope")
    assert code != 0
    assert "nope" in err


def test_store_sink_files_the_alert_as_a_detector_report(home: Path) -> None:
    settings = Settings.from_env()
    db = Database.from_settings(settings)
    db.migrate()
    sink = StoreReportSink(db, settings)
    AlertRouter([sink]).observe(SampledMatches("room7", 3.0, 0.0, "11" * 32, 88, [CAT]))
    sink.close()
    assert sink.failed == 0
    [report_id] = sink.report_ids
    report = ReportRepository(db).get(report_id)
    assert report.body.live_stream is not None
    assert report.body.live_stream.stream_id == "room7"
    assert report.body.matches[0].value == CAT.entry_hash
    assert report.body.detector == "live"
    db.dispose()
