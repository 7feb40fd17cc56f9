"""A worker's bus helpers: which late deliveries it must not take."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from safestream.live.bus import drop_late_deliveries


@dataclass
class _Msg:
    data: bytes = b'{"stream_id":"room-1","url":"x"}'


@dataclass
class _Sub:
    _pending_queue: asyncio.Queue[_Msg] = field(default_factory=asyncio.Queue)
    _pending_size: int = 0


@dataclass
class _Pull:
    _sub: _Sub = field(default_factory=_Sub)


def _pull_with(count: int) -> _Pull:
    pull = _Pull()
    for _ in range(count):
        pull._sub._pending_queue.put_nowait(_Msg())
        pull._sub._pending_size += len(_Msg().data)
    return pull


def test_items_that_arrived_just_after_a_timed_out_fetch_are_kept() -> None:
    pull = _pull_with(2)
    assert drop_late_deliveries(pull, idle_seconds=0.3, ack_wait=3.0) == 0
    assert pull._sub._pending_queue.qsize() == 2


def test_items_left_while_the_loop_stalled_for_half_the_ack_wait_are_dropped() -> None:
    pull = _pull_with(2)
    assert drop_late_deliveries(pull, idle_seconds=2.0, ack_wait=3.0) == 2
    assert pull._sub._pending_queue.empty() and pull._sub._pending_size == 0
