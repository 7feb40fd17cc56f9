"""Match a report's attached media against the banks at intake, before it is stored.

A platform that attaches a known image to a report gets it triaged as a known match: each
attachment is hashed (with its rotated, mirrored and border-trimmed variants) and matched, and
every match SafeStream finds is added to the report's `matches` as verified, which is what the
case engine turns into a `MatchFound` and the console into the hash-first view (no preview). A
client's own claimed matches are kept as sent. An attachment that cannot be hashed (corrupt,
not media) is skipped: it is still stored as evidence, and the report is never refused for it.
"""

from __future__ import annotations

import base64
import binascii
import logging

from safestream.api.media_service import MediaService
from safestream.core.errors import SafeStreamError
from safestream.core.reports import MatchedEntry, ReportIn
from safestream.core.signals import SignalType
from safestream.media.upload_hashing import hash_upload

log = logging.getLogger(__name__)


def _signal_type(variant: str) -> SignalType:
    if variant == "exact_md5":
        return SignalType.MD5
    if variant == "exact_sha256":
        return SignalType.SHA256
    return SignalType.PDQ


class AttachmentMatcher:
    """Adds SafeStream's own bank matches of a report's attachments to the report."""

    def __init__(self, service: MediaService) -> None:
        self.service = service

    def __call__(self, report: ReportIn) -> ReportIn:
        """The report with a verified entry for each bank match of its media."""
        found: list[MatchedEntry] = []
        seen = {(m.bank, m.entry_id) for m in report.matches}
        for media in report.media:
            try:
                data = base64.b64decode(media.data_base64, validate=True)
                hashed = hash_upload(data, mode="fast", dihedral=True)
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
        if not found:
            return report
        return report.model_copy(update={"matches": [*report.matches, *found]})
