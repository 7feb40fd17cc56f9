"""Evidence of a live stream: the encoded packets around an alert, remuxed and encrypted.

Each stream keeps a ring of the last `seconds` of ENCODED packets (no decoding, no re-encoding),
always starting at a keyframe so the clip decodes from its first packet. An alert or a panic
report starts a capture: the ring so far plus the next `seconds` of packets. The capture is then
remuxed into Matroska (stream copy), encrypted with AES-256-GCM and written next to a JSON
manifest (stream id, times, matched hashes, who triggered it, SHA-256 of the clip). The manifest
is the GCM associated data, so editing it makes the clip undecryptable. Nothing is written
unless a capture was triggered.

File layout of `<id>.mkv.enc`: magic `SSEV1`, 12-byte nonce, ciphertext with tag.
The key is 32 bytes from `SAFESTREAM_EVIDENCE_KEY` (64 hex digits or base64), else from
`$SAFESTREAM_HOME/evidence.key`, created on first use with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import secrets
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import av
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safestream.core.config import Settings
from safestream.core.errors import InvalidInput, StoreError

EVIDENCE_KEY_ENV = "SAFESTREAM_EVIDENCE_KEY"
KEY_FILE_NAME = "evidence.key"
MAGIC = b"SSEV1"
NONCE_BYTES = 12
DEFAULT_SECONDS = 30.0
CONTAINER_FORMAT = "matroska"


def load_evidence_key(settings: Settings, environ: dict[str, str] | None = None) -> bytes:
    """The 32-byte evidence key from the environment or the home's key file (made if absent)."""
    env = dict(os.environ) if environ is None else environ
    text = env.get(EVIDENCE_KEY_ENV, "").strip()
    if text:
        return _parse_key(text, EVIDENCE_KEY_ENV)
    path = settings.home / KEY_FILE_NAME
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise InvalidInput(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
        return _parse_key(path.read_text().strip(), str(path))
    settings.ensure_home()
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key.hex() + "\n")
    return key


def _parse_key(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput(f"{where}: not a hex or base64 key") from exc
    if len(key) != 32:
        raise InvalidInput(f"{where}: the evidence key must be 32 bytes, got {len(key)}")
    return key


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
    """Writes captures as encrypted clips plus manifests under one folder."""

    def __init__(self, directory: Path, key: bytes) -> None:
        if len(key) != 32:
            raise InvalidInput("the evidence key must be 32 bytes")
        self.directory = directory
        self._aead = AESGCM(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceStore:
        """The evidence folder of a SafeStream home, with its configured key."""
        return cls(settings.evidence_dir, load_evidence_key(settings))

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
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = MAGIC + nonce + self._aead.encrypt(nonce, clip, manifest_bytes)
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            clip_path = self.directory / f"{capture.capture_id}.mkv.enc"
            manifest_path = self.directory / f"{capture.capture_id}.json"
            _write_private(clip_path, sealed)
            _write_private(manifest_path, manifest_bytes)
        except OSError as exc:
            raise StoreError(f"cannot write evidence: {exc}") from exc
        return EvidenceRecord(capture.capture_id, clip_path, manifest_path, digest, manifest)

    def open_clip(self, clip_path: Path, manifest_path: Path | None = None) -> bytes:
        """Decrypt a clip, checking it against its manifest (the GCM associated data)."""
        manifest_path = manifest_path or clip_path.with_name(
            clip_path.name.removesuffix(".mkv.enc") + ".json"
        )
        sealed = clip_path.read_bytes()
        manifest_bytes = manifest_path.read_bytes()
        if not sealed.startswith(MAGIC):
            raise InvalidInput(f"{clip_path} is not a SafeStream evidence file")
        nonce = sealed[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
        body = sealed[len(MAGIC) + NONCE_BYTES :]
        try:
            clip = self._aead.decrypt(nonce, body, manifest_bytes)
        except Exception as exc:  # cryptography raises InvalidTag without a message
            raise InvalidInput(f"{clip_path}: wrong key, or clip or manifest altered") from exc
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


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
