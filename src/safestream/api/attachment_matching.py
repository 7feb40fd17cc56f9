"""Match a report's attached media against the banks at intake, before it is stored.

A platform that attaches a known image to a report gets it triaged as a known match: each
attachment is hashed (with its rotated, mirrored and border-trimmed variants) and matched, and
every match SafeStream finds is added to the report's `matches` as verified, which is what the
case engine turns into a `MatchFound` and the console into the hash-first view (no preview). A
client's own claimed matches are kept as sent. An attachment that cannot be hashed (corrupt,
not media) is skipped: it is still stored as evidence, and the report is never refused for it.

Each hashed attachment's SHA-256 is named in the report's `media_hashes`, and, when the operator
keeps recently seen hashes (`recent_seen_days`), its PDQ hashes are recorded for retroactive
matching: a hash that reaches a bank later raises a report naming the same SHA-256, which links
to this report's case (`media.retro`).
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC, datetime

from safestream.api.media_service import MediaService
from safestream.core.errors import SafeStreamError
from safestream.core.principal import Principal
from safestream.core.reports import MatchedEntry, MediaHash, ReportIn
from safestream.core.signals import PDQ_MIN_QUALITY, SignalType
from safestream.media.matching import FrameVariants
from safestream.media.upload_hashing import HashedUpload, hash_upload
from safestream.store.seen_hashes import SeenHash, SeenHashes

log = logging.getLogger(__name__)
RECORDER = Principal.system("attachment-matcher")
MAX_MEDIA_HASHES = 1000  # what a report holds


def _signal_type(variant: str) -> SignalType:
    if variant == "exact_md5":
        return SignalType.MD5
    if variant == "exact_sha256":
        return SignalType.SHA256
    return SignalType.PDQ


class AttachmentMatcher:
    """Adds SafeStream's own bank matches of a report's attachments to the report."""

    def __init__(self, service: MediaService, seen: SeenHashes | None = None) -> None:
        self.service = service
        self.seen = seen

    def __call__(self, report: ReportIn) -> ReportIn:
        """The report with a verified entry for each bank match of its media."""
        found: list[MatchedEntry] = []
        seen = {(m.bank, m.entry_id) for m in report.matches}
        digests: list[str] = []
        for media in report.media:
            try:
                data = base64.b64decode(media.data_base64, validate=True)
                hashed = hash_upload(data, mode="fast", dihedral=True)
                digests.append(hashed.sha256)
                self._remember(hashed)
                matches = self.service.match_upload(hashed)
            except (SafeStreamError, binascii.Error, ValueError) as exc:
                log.info("attachment %s not matched: %s", media.filename, exc)
                continue
            for m in matches:
                if (m.bank, m.entry_id) in seen:
                    continue
                seen.add((m.bank, m.entry_id))
                found.append(
                    MatchedEntry(
                        bank=m.bank,
                        entry_id=m.entry_id,
                        signal_type=_signal_type(m.variant),
                        value=m.entry_hash,
                        distance=m.distance,
                        label=m.label.value,
                        verified=True,
                    )
                )
        named = {(h.signal_type, h.value) for h in report.media_hashes}
        digests = [d for d in dict.fromkeys(digests) if (SignalType.SHA256, d) not in named]
        if not found and not digests:
            return report
        hashes = [MediaHash(signal_type=SignalType.SHA256, value=d) for d in digests]
        return report.model_copy(
            update={
                "matches": [*report.matches, *found],
                "media_hashes": [*report.media_hashes, *hashes][:MAX_MEDIA_HASHES],
            }
        )

    def _remember(self, hashed: HashedUpload) -> None:
        """Record the attachment's PDQ hashes for retroactive matching (when kept at all)."""
        if self.seen is None:
            return
        now = datetime.now(UTC)
        variants = [FrameVariants.of(hashed.image)] if hashed.image else []
        variants += [FrameVariants.of(f) for f in hashed.frames]
        pdqs = {pdq for v in variants if v.quality >= PDQ_MIN_QUALITY for pdq in v.hashes.values()}
        try:
            self.seen.record(
                RECORDER, [SeenHash("upload", hashed.sha256, pdq, now) for pdq in sorted(pdqs)]
            )
        except Exception:  # the report matters more than its retroactive index: never refuse it
            log.exception("recording the seen hashes of an attachment failed")
