"""Alerts: one ongoing alert per stream and entry, k-of-n confirmation, sinks."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from safestream.core.banks import Classification, Match
from safestream.core.errors import InvalidInput
from safestream.live.alerts import (
    Alert,
    AlertRouter,
    CallbackSink,
    Confirmation,
    SampledMatches,
)
from safestream.live.monitor import StreamSpec
from safestream.live.sampling import SamplingPolicy
from safestream.live.sinks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSink, verify

from .conftest import Watch

CAT = Match("known", 7, "ab" * 32, 6, Classification.A1, "trimmed")
ROCKET = Match("known", 8, "cd" * 32, 9, Classification.B1)


def sample(t: float, *matches: Match, stream: str = "s") -> SampledMatches:
    return SampledMatches(stream, t, 0.0, "00" * 32, 90, list(matches))


def collecting_router(**kwargs: object) -> tuple[AlertRouter, list[Alert]]:
    alerts: list[Alert] = []
    return AlertRouter([CallbackSink(alerts.append)], **kwargs), alerts  # type: ignore[arg-type]


def test_repeated_matches_of_one_entry_on_one_stream_make_one_ongoing_alert() -> None:
    router, alerts = collecting_router()
    for t in (10.0, 11.0, 12.0, 13.0):
        router.observe(sample(t, CAT))
    assert len(alerts) == 1
    [(alert, hits, last_t)] = router.ongoing("s")
    assert (alert.t, hits, last_t) == (10.0, 4, 13.0)


def test_same_entry_on_another_stream_is_another_alert() -> None:
    router, alerts = collecting_router()
    router.observe(sample(1.0, CAT, stream="a"))
    router.observe(sample(1.0, CAT, stream="b"))
    assert [a.stream for a in alerts] == ["a", "b"]


def test_entry_seen_again_after_the_merge_gap_is_a_new_alert() -> None:
    router, alerts = collecting_router(merge_gap=30.0)
    router.observe(sample(1.0, CAT))
    router.observe(sample(40.0, CAT))
    assert [a.t for a in alerts] == [1.0, 40.0]


def test_k_of_n_confirmation_waits_for_the_second_match() -> None:
    router, alerts = collecting_router(confirmations={"known": Confirmation(2, 3)})
    router.observe(sample(1.0, CAT))
    assert alerts == []
    router.observe(sample(2.0))
    router.observe(sample(3.0, CAT))
    assert [(a.t, a.confirmed_by) for a in alerts] == [(3.0, "2/3")]


def test_k_of_n_confirmation_drops_a_match_that_falls_out_of_the_window() -> None:
    router, alerts = collecting_router(confirmations={"known": Confirmation(2, 2)})
    router.observe(sample(1.0, CAT))
    router.observe(sample(2.0))
    router.observe(sample(3.0, CAT))
    assert alerts == []


def test_confirmation_applies_only_to_its_bank() -> None:
    router, alerts = collecting_router(confirmations={"other": Confirmation(3, 3)})
    router.observe(sample(1.0, CAT))
    assert len(alerts) == 1


@pytest.mark.parametrize("text", ["known", "known=2", "known=3/2", "=1/2", "known=a/b"])
def test_bad_confirmation_rule_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        Confirmation.parse(text)


def test_alert_line_has_every_documented_field() -> None:
    router, alerts = collecting_router()
    router.observe(sample(4.5, CAT))
    line = alerts[0].to_json()
    for key in ("stream", "t", "wall_time", "bank", "entry_id", "entry_hash", "distance",
                "label", "latency_ms"):  # fmt: skip
        assert key in line
    assert json.loads(json.dumps(line))["label"] == "A1"


def test_a_failing_sink_does_not_silence_the_others() -> None:
    received: list[Alert] = []

    def broken(alert: Alert) -> None:
        raise RuntimeError("sink down")

    router = AlertRouter([CallbackSink(broken), CallbackSink(received.append)])
    router.observe(sample(1.0, CAT))
    assert len(received) == 1


def test_two_of_two_confirmation_on_a_real_stream_needs_two_samples_of_the_still(
    make_watch: Callable[..., Watch], media_dir: Path
) -> None:
    # Each still is on screen for 1 s: at 1 fps it is sampled once (no alert), at 2 fps twice.
    once = make_watch(evidence=False, confirmations={"known": Confirmation(2, 2)})
    once.run(StreamSpec("s", str(media_dir / "known.mp4")))
    twice = make_watch(
        evidence=False,
        confirmations={"known": Confirmation(2, 2)},
        baseline=SamplingPolicy(fps=2.0),
    )
    twice.run(StreamSpec("s", str(media_dir / "known.mp4")))
    assert once.alerts == []
    assert [(round(a.t, 1), a.confirmed_by) for a in twice.alerts] == [(2.5, "2/2"), (4.5, "2/2")]


class Hook(http.server.BaseHTTPRequestHandler):
    """A webhook receiver that fails the first `failures` requests with 503."""

    failures = 0
    status_after = 200
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        failing = len(type(self).received) <= type(self).failures
        self.send_response(503 if failing else type(self).status_after)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[Hook]]]:
    handler = type("H", (Hook,), {"received": [], "failures": 0, "status_after": 200})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", handler
    server.shutdown()
    server.server_close()


def test_webhook_is_signed_and_retried_until_accepted(hook: tuple[str, type[Hook]]) -> None:
    url, handler = hook
    handler.failures = 2
    sink = WebhookSink(url, b"s3cret", sleep=lambda s: None)
    AlertRouter([sink]).observe(sample(1.0, CAT))
    sink.close()
    assert len(handler.received) == 3
    headers, body = handler.received[-1]
    assert verify(b"s3cret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify(b"other", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert json.loads(body)["entry_id"] == 7
    assert (sink.delivered, sink.failed) == (1, 0)


def test_webhook_client_error_is_not_retried(hook: tuple[str, type[Hook]]) -> None:
    url, handler = hook
    handler.status_after = 400
    sink = WebhookSink(url, b"s3cret", sleep=lambda s: None)
    AlertRouter([sink]).observe(sample(1.0, CAT))
    sink.close()
    assert len(handler.received) == 1
    assert sink.failed == 1


def test_webhook_gives_up_after_its_attempts(hook: tuple[str, type[Hook]]) -> None:
    url, handler = hook
    handler.failures = 100
    sink = WebhookSink(url, b"s3cret", attempts=3, sleep=lambda s: None)
    AlertRouter([sink]).observe(sample(1.0, CAT))
    sink.close()
    assert len(handler.received) == 3
    assert sink.failed == 1
