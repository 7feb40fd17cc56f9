"""Live workers under real faults: their NATS goes away and comes back; one is killed -9.

Each test runs its own nats-server (never the shared one) and real `live serve` processes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.fault_harness import PrivateNats
from bench.fault_live import nats_outage, worker_kill

pytestmark = [
    pytest.mark.nats,
    pytest.mark.timeout(600),
    pytest.mark.skipif(not PrivateNats.available(), reason="nats-server is not installed"),
]


def test_a_worker_rides_out_a_nats_outage_longer_than_the_old_give_up(tmp_path: Path) -> None:
    result = nats_outage(tmp_path, outage_s=9.0)  # nats-py used to give up after about 6 s
    assert not result.worker_exited
    assert result.streams_held_during
    assert result.alerts_during > 0  # watching never depended on the bus
    assert result.reconnect_s is not None and result.reconnect_s < 5
    assert result.alert_after_s is not None and result.alert_after_s < 5
    assert result.new_stream_taken_s is not None and result.new_stream_taken_s < 5


def test_a_killed_workers_stream_is_taken_over_within_5_s_where_it_is(tmp_path: Path) -> None:
    result = worker_kill(tmp_path, run_for_s=8.0)
    assert result.takeover_s is not None and result.takeover_s < 5
    assert result.delivery == 2
    assert result.resumed_at_s is not None and result.resumed_at_s >= result.expected_at_s
    assert result.first_sample_t >= result.expected_at_s  # not from t=0
