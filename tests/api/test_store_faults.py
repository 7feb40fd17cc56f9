"""Intake under real store faults: a PostgreSQL restart and a full disk.

Each test runs its own PostgreSQL cluster or tmpfs (never the shared services). Every report
acknowledged is stored, every refusal is a 503/507 with Retry-After, and intake serves again
within a second of the fault ending.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.fault_harness import PrivatePostgres
from bench.fault_store import StoreFaultResult, can_mount, db_restart, disk_full

pytestmark = pytest.mark.timeout(300)


def _holds_up(result: StoreFaultResult, refused_status: int) -> None:
    assert result.acknowledged > 0 and result.refused > 0
    assert result.lost == 0
    assert set(result.refused_statuses) == {refused_status}
    assert result.refused_without_retry_after == 0
    assert result.ready_during == 503
    assert result.serving_after_s is not None and result.serving_after_s < 1.0
    assert result.linked_after_s is not None and result.linked_after_s < 30


@pytest.mark.skipif(PrivatePostgres.bin_dir() is None, reason="PostgreSQL binaries not installed")
def test_a_database_restart_loses_nothing_and_refuses_with_503(tmp_path: Path) -> None:
    _holds_up(db_restart(tmp_path, down_s=2.0), 503)


@pytest.mark.skipif(not can_mount(), reason="needs root to mount a small tmpfs")
def test_a_full_disk_loses_nothing_and_refuses_with_507(tmp_path: Path) -> None:
    _holds_up(disk_full(tmp_path, full_s=1.5), 507)
