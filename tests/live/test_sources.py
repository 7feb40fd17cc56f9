"""Sources: files, RTMP push (we listen) and pull, HLS over HTTP; stalls and disconnects."""

from __future__ import annotations

import functools
import http.server
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bench.live_media import wait_for_listener

from safestream.core.errors import InvalidInput
from safestream.live.monitor import StreamSpec
from safestream.live.sources import (
    ReconnectPolicy,
    SourceError,
    SourceKind,
    SourceOptions,
    classify,
    default_stream_id,
    open_connection,
)

from .conftest import (
    Watch,
    ffmpeg,
    free_port,
    live_options,
    stop,
    wait_for_packets,
)

pytestmark = pytest.mark.timeout(90)


def found(watch: Watch) -> set[str]:
    return {a.entry_hash for a in watch.alerts}


def test_file_source_alerts_on_both_inserted_stills(
    make_watch: Callable[..., Watch], media_dir: Path
) -> None:
    watch = make_watch(evidence=False)
    stats = watch.run(StreamSpec("file", str(media_dir / "known.mp4")))
    assert stats.state == "ended"
    assert sorted(round(a.t) for a in watch.alerts) == [2, 4]
    assert {a.variant for a in watch.alerts} >= {"trimmed_flipy"}  # the mirrored still


def test_benign_file_raises_no_alert(make_watch: Callable[..., Watch], media_dir: Path) -> None:
    watch = make_watch(evidence=False)
    stats = watch.run(StreamSpec("benign", str(media_dir / "benign.mp4")))
    assert stats.samples >= 6
    assert watch.alerts == []


def test_rtmp_push_to_listening_monitor_is_watched(
    make_watch: Callable[..., Watch], media_dir: Path
) -> None:
    port = free_port()
    watch = make_watch(evidence=False)
    url = f"listen+rtmp://127.0.0.1:{port}/live/key"
    watch.monitor.add(StreamSpec("pushed", url, live_options(open_timeout=15.0)))
    wait_for_listener(port)
    publisher = ffmpeg(
        "-re", "-i", str(media_dir / "known.flv"), "-c", "copy", "-f", "flv",
        f"rtmp://127.0.0.1:{port}/live/key",
    )  # fmt: skip
    try:
        assert watch.monitor.wait(40)
    finally:
        stop(publisher)
    assert watch.ended["pushed"].connections == 1
    assert len(found(watch)) == 2
    # Live alerts come within a fraction of a second of the frame's arrival.
    assert max(a.latency_ms for a in watch.alerts) < 1000


def test_rtmp_pull_from_serving_ffmpeg_is_watched(
    make_watch: Callable[..., Watch], media_dir: Path
) -> None:
    port = free_port()
    server = ffmpeg(
        "-re", "-i", str(media_dir / "known.flv"), "-c", "copy", "-f", "flv",
        "-listen", "1", f"rtmp://127.0.0.1:{port}/live/test",
    )  # fmt: skip
    try:
        wait_for_listener(port)
        watch = make_watch(evidence=False)
        stats = watch.run(
            StreamSpec("pulled", f"rtmp://127.0.0.1:{port}/live/test", live_options())
        )
    finally:
        stop(server)
    assert stats.frames_decoded > 50  # full sampling, not keyframes only (3 in 6 s)
    assert len(found(watch)) == 2


@pytest.fixture
def hls_url(media_dir: Path, tmp_path: Path) -> Iterator[str]:
    """The clip cut into 1 s HLS segments by ffmpeg and served by a local http.server."""
    folder = tmp_path / "hls"
    folder.mkdir()
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(media_dir / "known.mp4"), "-c", "copy",
         "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", str(folder / "index.m3u8")],
        check=True,
    )  # fmt: skip
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.m3u8"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_hls_over_http_is_watched(make_watch: Callable[..., Watch], hls_url: str) -> None:
    watch = make_watch(evidence=False)
    stats = watch.run(StreamSpec("hls", hls_url, live_options()))
    assert stats.state == "ended"
    assert len(found(watch)) == 2


def test_silent_server_times_out_at_open_and_gives_up_after_bounded_retries(
    make_watch: Callable[..., Watch],
) -> None:
    # A TCP server that accepts and never speaks: the RTMP handshake never completes.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    try:
        watch = make_watch(evidence=False)
        options = live_options(
            open_timeout=1.5, reconnect=ReconnectPolicy(max_attempts=2, initial_delay=0.1)
        )
        started = time.monotonic()
        stats = watch.run(StreamSpec("silent", f"rtmp://127.0.0.1:{port}/live/x", options), 30)
    finally:
        listener.close()
    assert stats.state == "failed"
    assert time.monotonic() - started < 20


def test_stalled_source_ends_after_read_timeout(
    make_watch: Callable[..., Watch], media_dir: Path
) -> None:
    port = free_port()
    server = ffmpeg(
        "-re", "-stream_loop", "-1", "-i", str(media_dir / "benign.mp4"), "-c", "copy",
        "-f", "flv", "-listen", "1", f"rtmp://127.0.0.1:{port}/live/test",
    )  # fmt: skip
    try:
        wait_for_listener(port)
        watch = make_watch(evidence=False)
        options = live_options(
            read_timeout=2.0, reconnect=ReconnectPolicy(max_attempts=1, initial_delay=0.1)
        )
        watch.monitor.add(StreamSpec("stall", f"rtmp://127.0.0.1:{port}/live/test", options))
        wait_for_packets(watch.monitor, "stall", 60)  # 2 s of the stream read before the stall
        server.send_signal(signal.SIGSTOP)  # the publisher freezes: no more bytes, no EOF
        stopped_at = time.monotonic()
        assert watch.monitor.wait(30), "a stalled source must not hang its worker"
        waited = time.monotonic() - stopped_at
    finally:
        server.send_signal(signal.SIGCONT)
        stop(server)
    stats = watch.ended["stall"]
    assert stats.frames_decoded > 0
    assert stats.error is not None and "no data" in stats.error
    assert waited < 25


def test_live_source_reconnects_when_the_publisher_comes_back(
    make_watch: Callable[..., Watch], media_dir: Path
) -> None:
    port = free_port()
    watch = make_watch(evidence=False)
    options = live_options(
        open_timeout=8.0, reconnect=ReconnectPolicy(max_attempts=3, initial_delay=0.2)
    )
    url = f"listen+rtmp://127.0.0.1:{port}/live/key"
    watch.monitor.add(StreamSpec("again", url, options))
    for _ in range(2):
        wait_for_listener(port)
        publisher = ffmpeg(
            "-i", str(media_dir / "known.flv"), "-t", "3", "-c", "copy", "-f", "flv",
            f"rtmp://127.0.0.1:{port}/live/key",
        )  # fmt: skip
        publisher.wait(20)
    deadline = time.monotonic() + 20
    while watch.monitor.streams()["again"].packets < 170 and time.monotonic() < deadline:
        time.sleep(0.1)  # let the second publish be read before stopping
    watch.monitor.stop("again")
    assert watch.monitor.wait(20)
    stats = watch.ended["again"]
    assert stats.connections >= 2
    # The stream clock carries on across the reconnect instead of restarting at 0.
    assert stats.last_t > 4.0


def test_unknown_scheme_is_refused_with_a_message() -> None:
    with pytest.raises(InvalidInput, match="unsupported source scheme"):
        classify("gopher://example/x")


def test_listen_url_without_app_and_key_is_refused() -> None:
    with pytest.raises(InvalidInput, match="APP/KEY"):
        classify("listen+rtmp://127.0.0.1:1935")


def test_missing_file_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        classify("/nonexistent/clip.mp4")


def test_a_protocol_the_ffmpeg_inside_pyav_lacks_is_named_in_the_error() -> None:
    # PyAV's wheels lack libsrt; an unknown scheme stands in so the test holds on any build.
    kind = SourceKind("pull", "nosuchproto://127.0.0.1:9/live")
    with pytest.raises(SourceError, match="has no 'nosuchproto' protocol"):
        open_connection(kind, SourceOptions(open_timeout=1.0))


@pytest.mark.parametrize(
    "url",
    [
        "rtmp://live.example/app/sk_live_9f8e7d6c5b4a",
        "https://cdn.example/hls/room.m3u8?token=sk_live_9f8e7d6c5b4a",
        "srt://user:sk_live_9f8e7d6c5b4a@ingest.example:9000",
        "listen+rtmp://0.0.0.0:1935/app/sk_live_9f8e7d6c5b4a",
    ],
)
def test_default_stream_id_never_carries_the_urls_key(url: str) -> None:
    stream_id = default_stream_id(url)
    assert "sk_live" not in stream_id and "9f8e7d" not in stream_id
    assert default_stream_id(url) == stream_id  # the same source keeps its id across runs


def test_default_stream_ids_of_two_keys_on_one_host_differ() -> None:
    first = default_stream_id("rtmp://live.example/app/key-one")
    assert first.startswith("live.example-")
    assert first != default_stream_id("rtmp://live.example/app/key-two")


def test_default_stream_id_of_a_file_is_the_file_as_named(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")
    assert default_stream_id(str(clip)) == str(clip)
