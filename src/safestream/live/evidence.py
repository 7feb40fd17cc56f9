"""Evidence of a live stream: the encoded packets around an alert, remuxed and encrypted.

Each stream keeps a ring of the last `seconds` of ENCODED packets (no decoding, no re-encoding),
always starting at a keyframe so the clip decodes from its first packet. An alert or a panic
report starts a capture: the ring so far plus the next `seconds` of packets. The capture is then
remuxed into Matroska (stream copy), encrypted with AES-256-GCM and written next to a JSON
manifest (stream id, times, matched hashes, who triggered it, SHA-256 of the clip). The manifest
is the GCM associated data, so editing it makes the clip undecryptable. Nothing is written
unless a capture was triggered.

The clip is sealed by the one evidence vault (`store.vault`, the format report media use too),
so its keys, rotation and file header are those of the home (`store.vault_keys`).
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import av

from safestream.core.config import Settings
from safestream.core.errors import InvalidInput, StoreError
from safestream.store.vault import EvidenceUnreadable, EvidenceVault, write_private
from safestream.store.vault_keys import KeyRing

DEFAULT_SECONDS = 30.0
CONTAINER_FORMAT = "matroska"


class BufferedPacket(NamedTuple):
    """One encoded packet with its stream time and the time base of its timestamps."""

    # A NamedTuple rather than a frozen dataclass: one is made for every packet of every
    # stream, and a frozen dataclass takes several times longer to build.
    t: float
    data: bytes
    pts: int | None
    dts: int | None
    keyframe: bool


class PacketRing:
    """The last `seconds` of packets of one connection, trimmed so it starts at a keyframe."""

    def __init__(self, seconds: float = DEFAULT_SECONDS) -> None:
        self.seconds = seconds
        self._packets: deque[BufferedPacket] = deque()
        self._keyframe_times: deque[float] = deque()
        self.bytes = 0

    def push(self, packet: BufferedPacket) -> None:
        """Add a packet and drop whole GOPs that fell out of the window."""
        if packet.keyframe:
            self._keyframe_times.append(packet.t)
        elif not self._packets:
            return  # a clip must start at a keyframe to decode
        self._packets.append(packet)
        self.bytes += len(packet.data)
        horizon = packet.t - self.seconds
        # Drop the oldest GOP while the next GOP still starts before the horizon.
        keyframes = self._keyframe_times
        while len(keyframes) > 1 and keyframes[1] <= horizon:
            keyframes.popleft()
            packets = self._packets
            self.bytes -= len(packets.popleft().data)
            while not packets[0].keyframe:
                self.bytes -= len(packets.popleft().data)

    def snapshot(self) -> list[BufferedPacket]:
        """The packets now held, oldest first."""
        return list(self._packets)

    def clear(self) -> None:
        """Forget everything (a new connection may use another codec setup)."""
        self._packets.clear()
        self._keyframe_times.clear()
        self.bytes = 0


@dataclass
class Capture:
    """Packets being collected for one evidence file, and why."""

    capture_id: str
    stream_id: str
    trigger_t: float
    until_t: float
    triggered_at: datetime
    requested_by: list[str]
    reasons: list[str]
    matches: list[dict[str, Any]] = field(default_factory=list)
    packets: list[BufferedPacket] = field(default_factory=list)


@dataclass(frozen=True)
class EvidenceRecord:
    """An evidence file written to disk, with its manifest."""

    capture_id: str
    clip_path: Path
    manifest_path: Path
    clip_sha256: str
    manifest: dict[str, Any]


class EvidenceRecorder:
    """Per stream: the ring buffer and the captures an alert or panic report started."""

    def __init__(self, stream_id: str, seconds: float = DEFAULT_SECONDS) -> None:
        self.stream_id = stream_id
        self.seconds = seconds
        self.ring = PacketRing(seconds)
        self.active: Capture | None = None
        self._last_t = 0.0

    def push(self, packet: Any, t: float) -> Capture | None:
        """Buffer one demuxed packet; return a capture when its following seconds are in."""
        buffered = BufferedPacket(t, bytes(packet), packet.pts, packet.dts, packet.is_keyframe)
        self._last_t = t
        self.ring.push(buffered)
        if self.active is None:
            return None
        if self.active.packets or buffered.keyframe:
            self.active.packets.append(buffered)
        if t >= self.active.until_t:
            done, self.active = self.active, None
            return done
        return None

    def trigger(
        self, requested_by: str, reason: str, matches: list[dict[str, Any]] | None = None
    ) -> Capture:
        """Start a capture (or join the one running): ring so far plus the next seconds."""
        if self.active is not None:
            self.active.requested_by.append(requested_by)
            self.active.reasons.append(reason)
            self.active.matches.extend(matches or [])
            return self.active
        self.active = Capture(
            capture_id=uuid.uuid4().hex,
            stream_id=self.stream_id,
            trigger_t=self._last_t,
            until_t=self._last_t + self.seconds,
            triggered_at=datetime.now(UTC),
            requested_by=[requested_by],
            reasons=[reason],
            matches=list(matches or []),
            packets=self.ring.snapshot(),
        )
        return self.active

    def flush(self) -> Capture | None:
        """The running capture, cut short because the connection ended."""
        done, self.active = self.active, None
        self.ring.clear()
        return done


class EvidenceStore:
    """Writes captures as sealed clips plus manifests under one folder."""

    def __init__(self, directory: Path, keys: KeyRing | bytes) -> None:
        ring = keys if isinstance(keys, KeyRing) else KeyRing.single(keys)
        self.directory = directory
        self._vault = EvidenceVault(directory, ring)

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceStore:
        """The evidence folder of a SafeStream home, with its key ring."""
        vault = EvidenceVault.for_settings(settings)
        return cls(vault.directory, vault.keys)

    def write(self, capture: Capture, template: Any) -> EvidenceRecord | None:
        """Remux the capture with the codec setup of `template` (the input stream) and store it."""
        if not capture.packets:
            return None
        clip = remux(capture.packets, template)
        digest = hashlib.sha256(clip).hexdigest()
        manifest = {
            "format": "safestream-evidence/1",
            "capture_id": capture.capture_id,
            "stream_id": capture.stream_id,
            "container": CONTAINER_FORMAT,
            "clip_sha256": digest,
            "clip_bytes": len(clip),
            "cipher": "AES-256-GCM",
            "stream_time_start": capture.packets[0].t,
            "stream_time_end": capture.packets[-1].t,
            "trigger_stream_time": capture.trigger_t,
            "triggered_at": capture.triggered_at.isoformat(),
            "written_at": datetime.now(UTC).isoformat(),
            "requested_by": capture.requested_by,
            "reasons": capture.reasons,
            "matches": capture.matches,
        }
        manifest_bytes = json.dumps(manifest, sort_keys=True, indent=2).encode()
        sealed = self._vault.seal_bytes(clip, manifest_bytes)
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            clip_path = self.directory / f"{capture.capture_id}.mkv.enc"
            manifest_path = self.directory / f"{capture.capture_id}.json"
            write_private(clip_path, sealed)
            write_private(manifest_path, manifest_bytes)
        except OSError as exc:
            raise StoreError(f"cannot write evidence: {exc}") from exc
        return EvidenceRecord(capture.capture_id, clip_path, manifest_path, digest, manifest)

    def open_clip(self, clip_path: Path, manifest_path: Path | None = None) -> bytes:
        """Decrypt a clip, checking it against its manifest (the GCM associated data)."""
        return open_clip(self._vault, clip_path, manifest_path)


def manifest_path_of(clip_path: Path) -> Path:
    """The manifest written next to a clip."""
    return clip_path.with_name(clip_path.name.removesuffix(".mkv.enc") + ".json")


def open_clip(vault: EvidenceVault, clip_path: Path, manifest_path: Path | None = None) -> bytes:
    """Decrypt a stream clip with `vault`, checking it against its manifest and its hash."""
    manifest_bytes = (manifest_path or manifest_path_of(clip_path)).read_bytes()
    try:
        clip = vault.read_path(clip_path, manifest_bytes)
    except EvidenceUnreadable as exc:
        raise InvalidInput(f"{clip_path}: wrong key, or clip or manifest altered ({exc})") from exc
    expected = json.loads(manifest_bytes)["clip_sha256"]
    if hashlib.sha256(clip).hexdigest() != expected:
        raise InvalidInput(f"{clip_path}: clip does not match its manifest hash")
    return clip


def remux(packets: list[BufferedPacket], template: Any) -> bytes:
    """Stream-copy packets into an in-memory Matroska file whose timestamps start at 0."""
    buffer = io.BytesIO()
    base = min((p.dts if p.dts is not None else p.pts or 0) for p in packets)
    with av.open(buffer, "w", format=CONTAINER_FORMAT) as out:
        stream = out.add_stream_from_template(template)
        for p in packets:
            packet = av.Packet(p.data)
            packet.pts = None if p.pts is None else p.pts - base
            packet.dts = None if p.dts is None else p.dts - base
            packet.time_base = template.time_base
            packet.is_keyframe = p.keyframe
            packet.stream = stream
            out.mux(packet)
    return buffer.getvalue()
