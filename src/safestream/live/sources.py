"""Open live sources with PyAV, with open and read timeouts and bounded reconnects.

A source URL is one of:

* a file path (or `file:` URL): read once, as fast as possible or paced at real time;
* `rtmp://`, `rtmps://`, `srt://`, `rtsp://` or an HLS playlist `http(s)://....m3u8`: pulled;
* `listen+rtmp://HOST:PORT/APP/KEY` (also `listen+srt://`): SafeStream is the server and a
  broadcaster (OBS, ffmpeg) publishes to `rtmp://HOST:PORT/APP/KEY`. One publisher per socket.

Every network open and read carries a timeout (PyAV raises on a stall instead of blocking), and
probing is capped at `analyzeduration` so the first frame comes in about a second instead of
five. When a live source ends, stalls or fails, it is reopened after a backoff that doubles up to
`max_delay`; after `max_attempts` consecutive failed opens the source is given up. A connection
that delivered packets resets the count. Files are never reopened.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import av

from safestream.core.errors import InvalidInput, SafeStreamError
from safestream.media.mp4_boxes import edit_list_entries
from safestream.media.video import DEFAULT_VIDEO_LIMITS

log = logging.getLogger(__name__)

LISTEN_PREFIX = "listen+"
_PULL_SCHEMES = frozenset({"rtmp", "rtmps", "rtsp", "srt", "http", "https", "udp", "tcp"})


class SourceError(SafeStreamError):
    """A source could not be opened or read (after any reconnects)."""


class SourceStalled(SourceError):
    """A source sent nothing for longer than its read timeout."""


@dataclass(frozen=True)
class ReconnectPolicy:
    """Bounded exponential backoff between attempts to reopen a live source."""

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number `attempt` (1 = first retry)."""
        return float(min(self.max_delay, self.initial_delay * 2 ** max(0, attempt - 1)))


NO_RECONNECT = ReconnectPolicy(max_attempts=0)


@dataclass(frozen=True)
class SourceOptions:
    """How to open a source: timeouts in seconds, probing, pacing and reconnects."""

    open_timeout: float = 10.0
    read_timeout: float = 5.0
    analyze_seconds: float = 1.0
    realtime: bool = False
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    live_start_index: int | None = None
    # Paced files only: start this many seconds in, as a live source joined late would (a
    # worker taking over a stream resumes where it is, not from the beginning).
    start_at: float = 0.0


@dataclass(frozen=True)
class SourceKind:
    """What a URL names: `file`, `pull` or `listen`, and the URL PyAV opens."""

    kind: str
    target: str

    @property
    def live(self) -> bool:
        """True for network sources, which are reopened when they end."""
        return self.kind != "file"


def classify(url: str) -> SourceKind:
    """Tell files, pulled URLs and listen URLs apart; raise `InvalidInput` for anything else."""
    text = url.strip()
    if not text:
        raise InvalidInput("empty source URL")
    if text.startswith(LISTEN_PREFIX):
        inner = text[len(LISTEN_PREFIX) :]
        scheme = urlsplit(inner).scheme
        if scheme not in ("rtmp", "srt"):
            raise InvalidInput(f"can only listen for rtmp or srt, not {scheme!r}: {url}")
        if scheme == "rtmp" and urlsplit(inner).path.count("/") < 2:
            raise InvalidInput(f"an RTMP listen URL needs /APP/KEY after the port: {url}")
        return SourceKind("listen", inner)
    parts = urlsplit(text)
    if parts.scheme == "file":
        return SourceKind("file", parts.path)
    if parts.scheme in _PULL_SCHEMES:
        return SourceKind("pull", text)
    if parts.scheme and len(parts.scheme) > 1:
        raise InvalidInput(f"unsupported source scheme {parts.scheme!r}: {url}")
    if not Path(text).is_file():
        raise InvalidInput(f"no such file: {text}")
    return SourceKind("file", text)


def default_stream_id(url: str) -> str:
    """The stream id of a source given without `--id`: a file as named, or for a network source
    its host and a digest of the whole URL. Never the URL itself: stream keys, tokens and
    passwords sit in its path, query and user part, and stream ids travel into alerts, reports,
    evidence names and case pages."""
    if classify(url).kind == "file":
        return url
    inner = url.strip().removeprefix(LISTEN_PREFIX)
    host = (urlsplit(inner).hostname or "stream").lower()
    digest = hashlib.sha256(url.strip().encode()).hexdigest()[:12]
    return f"{host}-{digest}"


class Connection:
    """One opened container and its video stream; yields packets, optionally paced."""

    def __init__(self, container: Any, kind: SourceKind, options: SourceOptions) -> None:
        self.container = container
        self.kind = kind
        self.options = options
        videos = container.streams.video
        if not videos:
            container.close()
            raise SourceError(f"no video stream in {kind.target}")
        self.stream = videos[0]
        self.time_base = self.stream.time_base
        self.opened_at = time.monotonic()
        self.packet_count = 0
        # When the last packet arrived (monotonic); for paced files, when it was due.
        self.arrival = self.opened_at
        self.ended_cleanly = False

    def packets(self, stop: threading.Event) -> Iterator[Any]:
        """Demuxed video packets until the source ends, stalls (`SourceStalled`) or `stop`."""
        first_t: float | None = None
        start = time.monotonic()
        time_base = float(self.time_base) if self.time_base is not None else 0.0
        if self.options.realtime and self.options.start_at > 0 and time_base > 0:
            # To the keyframe before `start_at`; packets before it are released at once.
            self.container.seek(int(self.options.start_at / time_base), stream=self.stream)
            first_t = self.options.start_at
        demuxed = self.container.demux(self.stream)
        while not stop.is_set():
            try:
                packet = next(demuxed)
            except StopIteration:
                self.ended_cleanly = True
                return
            except (av.error.ExitError, av.error.TimeoutError) as exc:
                raise SourceStalled(
                    f"{self.kind.target}: no data for {self.options.read_timeout:g} s"
                ) from exc
            except av.error.EOFError:
                self.ended_cleanly = True
                return
            except (av.error.FFmpegError, OSError) as exc:
                raise SourceError(f"{self.kind.target}: read failed: {exc}") from exc
            if packet.size == 0:
                continue  # the demuxer's flush packet
            self.packet_count += 1
            self.arrival = time.monotonic()
            if self.options.realtime and packet.dts is not None:
                # Release packets at the pace of their timestamps, as a live source would.
                t = packet.dts * time_base
                first_t = t if first_t is None else first_t
                due = start + (t - first_t)
                wait = due - time.monotonic()
                if wait > 0 and _pause(wait, stop):
                    return
                self.arrival = due
            yield packet

    def close(self) -> None:
        """Close the container (unclosed containers leak decoder memory)."""
        try:
            self.container.close()
        except Exception:  # closing a broken network container can raise; nothing to keep
            log.debug("closing %s failed", self.kind.target, exc_info=True)


# Waits up to this long are slept through and `stop` checked afterwards: a plain sleep costs a
# fraction of Event.wait, which builds a lock per call, and pacing waits once per packet.
_SHORT_PAUSE = 0.2


def _pause(seconds: float, stop: threading.Event) -> bool:
    """Wait `seconds` (or until `stop` for long waits); True if the source should stop."""
    if seconds > _SHORT_PAUSE:
        return stop.wait(seconds)
    time.sleep(seconds)
    return stop.is_set()


def open_connection(kind: SourceKind, options: SourceOptions) -> Connection:
    """Open one container for `kind` with timeouts; raise `SourceError` on failure."""
    av_options: dict[str, str] = {}
    timeout: tuple[float, float] | None = None
    if kind.live:
        micros = str(int(options.analyze_seconds * 1_000_000))
        av_options.update({"analyzeduration": micros, "probesize": "2000000"})
        timeout = (options.open_timeout, options.read_timeout)
        if kind.kind == "pull":
            av_options["rw_timeout"] = str(int(options.read_timeout * 1_000_000))
        if kind.kind == "listen":
            av_options["listen"] = "1"
        if kind.target.split("?")[0].endswith(".m3u8") and options.live_start_index is not None:
            av_options["live_start_index"] = str(options.live_start_index)
    if not kind.live:
        _refuse_edit_list_bomb(Path(kind.target))
    try:
        container = av.open(
            kind.target, mode="r", options=av_options, timeout=timeout, metadata_errors="ignore"
        )
    except (av.error.ExitError, av.error.TimeoutError) as exc:
        raise SourceStalled(f"{kind.target}: nothing within {options.open_timeout:g} s") from exc
    except av.error.ProtocolNotFoundError as exc:
        scheme = urlsplit(kind.target).scheme
        raise SourceError(
            f"{kind.target}: the FFmpeg inside PyAV has no {scheme!r} protocol "
            "(PyAV's PyPI wheels are built without libsrt; see docs/live.md)"
        ) from exc
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise SourceError(f"{kind.target}: cannot open: {exc}") from exc
    return Connection(container, kind, options)


def _refuse_edit_list_bomb(path: Path) -> None:
    # FFmpeg spends minutes opening an MP4 with a million edits (see media/mp4_boxes.py).
    limit = DEFAULT_VIDEO_LIMITS.max_edit_list_entries
    try:
        edits = edit_list_entries(path)
    except OSError as exc:
        raise SourceError(f"{path}: cannot open: {exc}") from exc
    if edits > limit:
        raise SourceError(f"{path}: edit list has {edits} entries, over the limit of {limit}")


class LiveSource:
    """A stream to watch: hands out connections, reopening a live one with bounded backoff."""

    def __init__(self, url: str, options: SourceOptions | None = None) -> None:
        self.url = url
        self.kind = classify(url)
        self.options = options or SourceOptions()
        self.failures: list[str] = []

    def connections(self, stop: threading.Event) -> Iterator[Connection]:
        """Yield connections until the source ends for good or `stop` is set.

        A connection that ends cleanly (end of file, HLS end of list) ends the source. After a
        failure, stall or dropped connection a live source is reopened after its backoff; a
        connection that carried packets resets the attempt count. If the source never carried
        a packet and the attempts run out, the last `SourceError` is raised.
        """
        policy = self.options.reconnect if self.kind.live else NO_RECONNECT
        attempt = 0
        delivered = False
        last_error: SourceError | None = None
        while not stop.is_set():
            if attempt:
                if attempt > policy.max_attempts:
                    if last_error is not None and not delivered:
                        raise last_error
                    return
                log.info("%s: reopening, attempt %d", self.url, attempt)
                if stop.wait(policy.delay(attempt)):
                    return
            try:
                conn = open_connection(self.kind, self.options)
            except SourceError as exc:
                self.failures.append(str(exc))
                last_error = exc
                attempt += 1
                continue
            yield conn
            if not self.kind.live or conn.ended_cleanly:
                return
            delivered = delivered or conn.packet_count > 0
            attempt = 1 if conn.packet_count else attempt + 1
