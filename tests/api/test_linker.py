"""The linker: its own process links what intake nodes stored, and its lag shows on /metrics."""

from __future__ import annotations

import re
import threading

import pytest

from safestream.api.linker import (
    MAX_REST_SECONDS,
    next_batch,
    pause_after_batch,
    run_linker_process,
)
from safestream.cases.engine import BACKLOG_BATCH, BATCH
from safestream.store.base import utcnow
from safestream.store.reports import ReportRepository
from tests.api.conftest import Api
from tests.api.test_intake_api import REPORT


def _gauge(metrics: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", metrics, re.MULTILINE)
    assert found, f"{name} missing from /metrics"
    return float(found.group(1))


def test_metrics_show_unlinked_reports_and_the_oldest_ones_age(api: Api) -> None:
    for _ in range(3):
        assert api.client.post("/v1/reports", json=REPORT, headers=api.headers).status_code == 202
    metrics = api.metrics()
    assert _gauge(metrics, "safestream_reports_unlinked") == 3
    assert _gauge(metrics, "safestream_linker_lag_seconds") > 0


def test_lag_is_zero_once_everything_is_linked(api: Api) -> None:
    api.client.post("/v1/reports", json=REPORT, headers=api.headers)
    api.link()
    metrics = api.metrics()
    assert _gauge(metrics, "safestream_reports_unlinked") == 0
    assert _gauge(metrics, "safestream_linker_lag_seconds") == 0


def test_linker_process_links_reports_an_intake_node_stored(api: Api) -> None:
    rid = api.client.post("/v1/reports", json=REPORT, headers=api.headers).json()["id"]
    stop = threading.Event()
    linker = threading.Thread(
        target=run_linker_process,
        args=(api.app.state.engine,),
        kwargs={"niceness": 0, "poll_seconds": 0.05, "stop": stop},
    )
    linker.start()
    try:
        for _ in range(200):
            if ReportRepository(api.db).get(rid).case_id is not None:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        linker.join(timeout=30)
    assert ReportRepository(api.db).get(rid).case_id is not None
    assert not linker.is_alive()


def test_linker_rests_while_intake_is_busy_so_it_takes_its_share_at_most() -> None:
    assert pause_after_batch(0.1, intake_active=True, busy_share=0.25) == pytest.approx(0.3)


def test_linker_rests_at_most_a_second_so_it_notices_the_end_of_a_burst() -> None:
    assert pause_after_batch(5.0, intake_active=True, busy_share=0.25) == MAX_REST_SECONDS == 1


def test_linker_stops_resting_once_the_linking_lag_reaches_its_bound() -> None:
    assert pause_after_batch(0.1, intake_active=True, busy_share=0.25, lag_seconds=4.0) > 0
    assert pause_after_batch(0.1, intake_active=True, busy_share=0.25, lag_seconds=5.0) == 0


def test_linker_does_not_rest_while_intake_is_quiet() -> None:
    assert pause_after_batch(0.1, intake_active=False, busy_share=0.25) == 0


def test_linker_takes_larger_batches_while_a_backlog_waits() -> None:
    assert next_batch(BATCH, BATCH) == BACKLOG_BATCH > BATCH
    assert next_batch(BACKLOG_BATCH, BACKLOG_BATCH) == BACKLOG_BATCH


def test_linker_goes_back_to_small_batches_once_the_backlog_is_worked_off() -> None:
    assert next_batch(BACKLOG_BATCH - 1, BACKLOG_BATCH) == BATCH
    assert next_batch(0, BATCH) == BATCH


def test_store_tells_whether_reports_arrived_since_a_moment(api: Api) -> None:
    before = utcnow()
    repo = ReportRepository(api.db)
    assert not repo.received_since(before)
    api.client.post("/v1/reports", json=REPORT, headers=api.headers)
    assert repo.received_since(before)
