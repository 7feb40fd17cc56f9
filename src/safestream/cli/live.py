"""Live commands: `safestream watch URL...` and `safestream live serve|add|event|preserve`."""

from __future__ import annotations

import json
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from safestream.cli import context
from safestream.cli.exit_codes import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from safestream.cli.output import emit, error_line, note
from safestream.core.errors import InvalidInput

live_app = typer.Typer(
    help="Watch live streams across workers (NATS JetStream)."
    "\n\n\b\nExamples:\n"
    "  safestream live serve --bank known\n"
    "  safestream live add rtmp://media.example.org/live/call-42\n"
)

WEBHOOK_SECRET_ENV = "SAFESTREAM_WEBHOOK_SECRET"


@dataclass
class MonitorOptions:
    """What `watch` and `live serve` share: banks, alerting, evidence, classifiers."""

    banks: list[str]
    threshold: int | None
    confirm: list[str]
    evidence: bool
    evidence_seconds: float
    webhook: str | None
    store_reports: bool
    classifier: Path | None
    fps: float
    keyframes: bool
    decode_all: bool = False


def open_local_stage(store: Any, bank_names: list[str] | None) -> Any:
    """The second matching stage, or None while no bank holds local features."""
    from safestream.media.features.bank import FeatureBank
    from safestream.media.features.stage import LocalStage

    features = FeatureBank.open(store.banks, store.settings.index_dir / "features")
    if features.read_only_reason:
        note(
            f"warning: the feature index could not be saved ({features.read_only_reason}); "
            "matching from an index built in memory, results are complete"
        )
    stage = LocalStage(store.banks, features, bank_names=bank_names)
    return stage if stage else None


def build_monitor(options: MonitorOptions, store: Any = None) -> Any:
    """Assemble a `StreamMonitor` with its sinks over the store (opened here unless given) and
    its bank index."""
    from safestream.live.alerts import AlertRouter, AlertSink, Confirmation, JsonLinesSink
    from safestream.live.classifiers import OnnxFrameClassifier
    from safestream.live.evidence import EvidenceStore
    from safestream.live.monitor import LocalMatchService, MatchService, StreamMonitor
    from safestream.live.risk import RiskBook
    from safestream.live.sampling import SamplingMode, SamplingPolicy
    from safestream.live.seen_frames import SeenFrameRecorder
    from safestream.live.sinks import StoreReportSink, WebhookSink
    from safestream.media.bank_index import BankIndex
    from safestream.media.matching import Matcher
    from safestream.store.seen_hashes import SeenHashes

    store = store or context.open_store()
    index = BankIndex.open(store.banks, store.settings.pdq_index_dir)
    matcher = Matcher(
        store.banks, index, bank_names=options.banks or None, threshold=options.threshold
    )
    local = open_local_stage(store, options.banks or None)
    sinks: list[AlertSink] = [JsonLinesSink()]
    if options.webhook:
        secret = store.settings.webhook_secret
        if secret is None or not secret.get_secret_value():
            raise InvalidInput(f"--webhook needs the shared secret in {WEBHOOK_SECRET_ENV}")
        sinks.append(WebhookSink(options.webhook, secret.get_secret_value().encode()))
    if options.store_reports:
        sinks.append(StoreReportSink(store.db, store.settings))
    confirmations = dict(Confirmation.parse(text) for text in options.confirm)
    mode = SamplingMode.KEYFRAMES if options.keyframes else SamplingMode.FULL
    baseline = SamplingPolicy(mode, options.fps, skip_to_keyframe=not options.decode_all)
    classifiers = [OnnxFrameClassifier(options.classifier)] if options.classifier else []
    return StreamMonitor(
        MatchService(matcher),
        AlertRouter(
            sinks,
            confirmations=confirmations,
            # Sampled frames' hashes, kept for retroactive matching while the operator wants.
            observers=[SeenFrameRecorder(SeenHashes(store.db))]
            if store.settings.recent_seen_days
            else [],
        ),
        local_match=LocalMatchService(local) if local is not None else None,
        risk=RiskBook(baseline),
        evidence=EvidenceStore.from_settings(store.settings) if options.evidence else None,
        evidence_seconds=options.evidence_seconds,
        classifiers=classifiers,
        on_evidence=lambda record: _log_line(
            {
                "event": "evidence_written",
                "stream": record.manifest["stream_id"],
                "file": str(record.clip_path),
                "manifest": str(record.manifest_path),
            }
        ),
    )


def _log_line(record: dict[str, Any]) -> None:
    # Lifecycle records go to stderr so stdout carries alerts only.
    sys.stderr.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
    sys.stderr.flush()


_BANK = typer.Option(None, "--bank", help="Match only these banks (repeatable).")
_THRESHOLD = typer.Option(None, help="Override every bank's distance threshold.")
_CONFIRM = typer.Option(
    None, "--confirm", help="Require K of the last N samples for a bank: BANK=K/N (repeatable)."
)
_EVIDENCE = typer.Option(True, "--evidence/--no-evidence", help="Keep encrypted evidence clips.")
_EVIDENCE_SECONDS = typer.Option(30.0, help="Seconds kept before and after an alert.")
_WEBHOOK = typer.Option(None, help=f"POST alerts here, signed with ${WEBHOOK_SECRET_ENV}.")
_STORE = typer.Option(False, "--store-reports", help="File each alert as a report in the store.")
_CLASSIFIER = typer.Option(None, help="An ONNX frame classifier whose score feeds stream risk.")
_FPS = typer.Option(1.0, help="Sampled frames per second of stream time.")
_KEYFRAMES = typer.Option(False, "--keyframes", help="Low-risk baseline: decode keyframes only.")
_DECODE_ALL = typer.Option(
    False,
    "--decode-all",
    help="Full sampling decodes every reference frame instead of skipping from a mid-GOP "
    "sample to the next keyframe (sees cuts there; about twice the decoding).",
)


def watch(
    urls: list[str] = typer.Argument(
        ...,
        help="Files, rtmp://, srt://, HLS .m3u8 URLs, or "
        "listen+rtmp://HOST:PORT/APP/KEY to accept a push.",
    ),
    bank: list[str] = _BANK,
    threshold: int | None = _THRESHOLD,
    confirm: list[str] = _CONFIRM,
    evidence: bool = _EVIDENCE,
    evidence_seconds: float = _EVIDENCE_SECONDS,
    webhook: str | None = _WEBHOOK,
    store_reports: bool = _STORE,
    classifier: Path | None = _CLASSIFIER,
    fps: float = _FPS,
    keyframes: bool = _KEYFRAMES,
    decode_all: bool = _DECODE_ALL,
    realtime: bool = typer.Option(False, help="Read files at their own pace, as if live."),
    open_timeout: float = typer.Option(10.0, help="Seconds to wait for a source to open."),
    read_timeout: float = typer.Option(5.0, help="Seconds of silence before a source stalls."),
    reconnects: int = typer.Option(5, help="Reopen attempts for a live source that drops."),
    stream_ids: list[str] = typer.Option(
        [],
        "--id",
        help="Stream id of each URL, in order (the panic button's data-stream-id); "
        "default: a file's name, or a network URL's host and a digest (never its key).",
    ),
) -> None:
    """Watch streams and print each alert as a JSON line; returns when the sources end.

    \b
    Example:
      safestream watch rtmp://live.example/app/k1 --id call-4711
    """
    from safestream.live.monitor import StreamSpec
    from safestream.live.sources import (
        ReconnectPolicy,
        SourceOptions,
        classify,
        default_stream_id,
    )

    options = MonitorOptions(
        bank or [], threshold, confirm or [], evidence, evidence_seconds, webhook,
        store_reports, classifier, fps, keyframes, decode_all,
    )  # fmt: skip
    for url in urls:
        classify(url)
    if len(stream_ids) > len(urls):
        error_line(None, f"{len(stream_ids)} --id values for {len(urls)} URLs")
        raise typer.Exit(EXIT_USAGE)
    if len(set(stream_ids)) != len(stream_ids):
        error_line(None, "each --id must be different")
        raise typer.Exit(EXIT_USAGE)
    named = dict(zip(urls, stream_ids, strict=False))
    monitor = build_monitor(options)
    source = SourceOptions(
        open_timeout=open_timeout,
        read_timeout=read_timeout,
        realtime=realtime,
        reconnect=ReconnectPolicy(max_attempts=reconnects),
    )
    failed: list[str] = []
    monitor.on_stream_end = lambda sid, stats: (
        failed.append(f"{sid}: {stats.error}") if stats.state == "failed" else None
    )
    for url in dict.fromkeys(urls):
        monitor.add(StreamSpec(named.get(url) or default_stream_id(url), url, source))
    try:
        while not monitor.wait(0.5):
            pass
    except KeyboardInterrupt:
        monitor.stop_all()
        monitor.wait(15)
    finally:
        monitor.alerts.close()
    for line in failed:
        error_line(None, line)
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


@live_app.command("serve")
def serve(
    nats_server: str | None = typer.Option(
        None, "--nats", help="NATS URL (or $SAFESTREAM_NATS_URL)."
    ),
    prefix: str = typer.Option("safestream", help="Subject prefix (one per deployment)."),
    max_streams: int = typer.Option(30, help="Streams this worker watches at most."),
    ack_wait: float = typer.Option(3.0, help="Seconds before a silent worker's streams move."),
    bank: list[str] = _BANK,
    threshold: int | None = _THRESHOLD,
    confirm: list[str] = _CONFIRM,
    evidence: bool = _EVIDENCE,
    evidence_seconds: float = _EVIDENCE_SECONDS,
    webhook: str | None = _WEBHOOK,
    store_reports: bool = _STORE,
    classifier: Path | None = _CLASSIFIER,
    fps: float = _FPS,
    keyframes: bool = _KEYFRAMES,
    decode_all: bool = _DECODE_ALL,
    http: str | None = typer.Option(
        None, help="Also serve the snapshot, event and preserve routes on HOST:PORT."
    ),
) -> None:
    """Run a live worker: take streams from the JetStream queue and watch them until stopped.

    \b
    Example:
      safestream live serve --nats nats://127.0.0.1:4222 --bank known --http 127.0.0.1:8300
    """
    import asyncio

    from safestream.live.distribution import LiveSubjects, LiveWorker, nats_url

    options = MonitorOptions(
        bank or [], threshold, confirm or [], evidence, evidence_seconds, webhook,
        store_reports, classifier, fps, keyframes, decode_all,
    )  # fmt: skip
    subjects = LiveSubjects(prefix)
    store = context.open_store()
    monitor = build_monitor(options, store)
    worker = LiveWorker(
        monitor,
        url=nats_url(nats_server or context.settings().nats_url),
        subjects=subjects,
        max_streams=max_streams,
        ack_wait=ack_wait,
        on_lifecycle=_log_line,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await worker.run(stop)

    server = _start_http(http, store.db, monitor, worker.health) if http else None
    try:
        asyncio.run(main())
    finally:
        if server is not None:
            server.should_exit = True
        monitor.alerts.close()


def _start_http(address: str, db: Any, monitor: Any, health: Any = None) -> Any:
    """Serve the `/live` routes of this worker in a background thread (uvicorn): organisations'
    API keys for their own streams, the operator's key or `live_worker_token` (when set) for
    every stream and for health, which names the streams held."""
    import threading

    import uvicorn

    from safestream.live.snapshots import SnapshotIngest, worker_app
    from safestream.live.worker_access import WorkerAccess

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(f"--http needs HOST:PORT, got {address!r}")
    access = WorkerAccess(db, context.settings().secret("live_worker_token") or None)
    ingest = SnapshotIngest(monitor.match, monitor.alerts, local_match=monitor.local_match)
    handlers = (ingest, monitor.apply_event, monitor.preserve_stream_evidence)
    app = worker_app(access, *handlers, health=health)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=int(port), log_level="warning"))
    threading.Thread(target=server.run, name="live-http", daemon=True).start()
    _log_line({"event": "http_serving", "address": address})
    return server


@live_app.command("add")
def add(
    url: str = typer.Argument(..., help="The stream's source URL."),
    stream_id: str | None = typer.Option(
        None, "--id", help="Stream id (default: a file's name, or the URL's host and a digest)."
    ),
    keyframes: bool = typer.Option(False, "--keyframes", help="Baseline: keyframes only."),
    realtime: bool = typer.Option(False, help="Pace a file source as if live."),
    nats_server: str | None = typer.Option(None, "--nats", help="NATS URL."),
    prefix: str = typer.Option("safestream", help="Subject prefix."),
) -> None:
    """Queue a stream for the live workers.

    \b
    Example:
      safestream live add rtmp://media.example.org/live/call-42 --id call-42
    """
    import asyncio

    from safestream.live.distribution import LiveSubjects, WorkItem, queue_stream_async
    from safestream.live.sources import classify, default_stream_id

    classify(url)
    sid = stream_id or default_stream_id(url)
    item = WorkItem(sid, url, "keyframes" if keyframes else "full", realtime)
    seq = asyncio.run(
        queue_stream_async(item, nats_server or context.settings().nats_url, LiveSubjects(prefix))
    )
    emit({"queued": item.stream_id, "url": url, "seq": seq})


@live_app.command("event")
def event(
    stream_id: str = typer.Argument(..., help="The stream the event is about."),
    kind: str = typer.Argument(
        ..., help="stream_started, viewer_joined, payment, user_report or classifier_score."
    ),
    private: bool | None = typer.Option(None, "--private/--public", help="stream_started"),
    account_age_days: float | None = typer.Option(None, help="Account age (broadcaster/viewer)."),
    country: str | None = typer.Option(None, help="ISO country code (broadcaster or viewer)."),
    viewer: str | None = typer.Option(None, help="Viewer account id."),
    amount: float | None = typer.Option(None, help="payment amount"),
    currency: str | None = typer.Option(None, help="payment currency"),
    reporter: str | None = typer.Option(None, help="user_report: who reported"),
    reason: str | None = typer.Option(None, help="user_report: why"),
    classifier: str | None = typer.Option(None, help="classifier_score: model name"),
    score: float | None = typer.Option(None, help="classifier_score: 0-1"),
    nats_server: str | None = typer.Option(None, "--nats", help="NATS URL."),
    prefix: str = typer.Option("safestream", help="Subject prefix."),
) -> None:
    """Feed a stream context event to whichever worker watches (or will watch) the stream.

    \b
    Example:
      safestream live event call-42 payment --viewer v-3 --amount 25 --currency USD
    """
    import asyncio

    from safestream.live.distribution import LiveSubjects, publish_event_async
    from safestream.live.risk import RiskBook, StreamEvent

    data = {
        "type": kind, "stream_id": stream_id, "private": private,
        "account_age_days": account_age_days, "country": country, "viewer_id": viewer,
        "amount": amount, "currency": currency, "reporter": reporter, "reason": reason,
        "classifier": classifier, "score": score,
    }  # fmt: skip
    parsed = StreamEvent.from_json({k: v for k, v in data.items() if v is not None})
    seq = asyncio.run(
        publish_event_async(
            parsed, nats_server or context.settings().nats_url, LiveSubjects(prefix)
        )
    )
    # The score this event alone implies; the worker folds it into the stream's full history.
    emit({"recorded": parsed.to_json(), "seq": seq, **RiskBook().apply(parsed).to_json()})


@live_app.command("preserve")
def preserve(
    stream_id: str = typer.Argument(..., help="The stream whose evidence to keep."),
    by: str = typer.Option(..., "--by", help="Who asks (a report id, a user)."),
    reason: str = typer.Option("panic_report", help="Why."),
    nats_server: str | None = typer.Option(None, "--nats", help="NATS URL."),
    prefix: str = typer.Option("safestream", help="Subject prefix."),
) -> None:
    """Ask the worker watching a stream to keep its evidence buffer and the next seconds.

    \b
    Example:
      safestream live preserve call-42 --by report:981
    """
    import asyncio

    from safestream.live.distribution import LiveSubjects, request_preservation_async

    answer = asyncio.run(
        request_preservation_async(
            stream_id, by, reason, nats_server or context.settings().nats_url, LiveSubjects(prefix)
        )
    )
    if not answer:
        error_line(None, f"no live worker is watching stream {stream_id!r}")
        raise typer.Exit(EXIT_SOME_FAILED)
    emit(answer)


def register(app: typer.Typer) -> None:
    """Add `watch` and the `live` group to the root `safestream` app."""
    app.command("watch")(watch)
    app.add_typer(live_app, name="live")
