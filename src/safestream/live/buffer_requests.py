"""The outbox publisher of `KeepLiveBuffer`: asks the live worker watching a stream, over NATS, to
keep the segments it has buffered.

A panic press (or any rule) asks for a stream's buffer with a `KeepLiveBuffer` effect; its sink
leaves a message in the outbox with the case change, and this publisher sends it after commit as
a request on the preserve subject (`live.distribution`). Only the worker watching the stream
answers. A message counts as delivered once a worker answered or none watches the stream (there
is no buffer to keep); while NATS cannot be reached it stays in the outbox for the next round,
until it is older than a buffer lasts (`GIVE_UP_AFTER`), when keeping it can no longer help.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nats.errors import Error as NatsError

from safestream.cases.sinks import KEEP_LIVE_BUFFER_CHANNEL
from safestream.core.effects import KeepLiveBuffer
from safestream.core.records import decode
from safestream.live.distribution import preserve_stream_evidence_answer
from safestream.store.base import utcnow
from safestream.store.times import aware

log = logging.getLogger(__name__)
# The live monitor's evidence ring holds minutes, not hours; past this a request keeps nothing.
GIVE_UP_AFTER = timedelta(minutes=15)
KEPT, NO_WORKER, UNAVAILABLE = "kept", "no live worker", "unavailable"


@dataclass
class LiveBufferPublisher:
    """Sends `KeepLiveBuffer` outbox messages to the live workers; remembers each stream's
    latest outcome (`KEPT`, `NO_WORKER` or `UNAVAILABLE`) for whoever asked."""

    url: str | None = None
    channel: str = KEEP_LIVE_BUFFER_CHANNEL
    outcomes: dict[str, str] = field(default_factory=dict)

    def deliver(self, message: dict[str, Any]) -> bool:
        """Send one request; False (try again) only while NATS cannot be reached."""
        effect = decode(KeepLiveBuffer, json.loads(message["message"]))
        try:
            answer = preserve_stream_evidence_answer(
                effect.stream_id, effect.requested_by, effect.reason, self.url
            )
        except (OSError, NatsError) as error:
            self.outcomes[effect.stream_id] = UNAVAILABLE
            if _too_old(message["created_at"]):
                log.warning("gave up keeping the buffer of %s: %s", effect.stream_id, error)
                return True
            log.warning("live workers unreachable for %s: %s; will retry", effect.stream_id, error)
            return False
        kept = bool(answer and answer.get("accepted"))
        self.outcomes[effect.stream_id] = KEPT if kept else NO_WORKER
        return True


def _too_old(created: object) -> bool:
    return isinstance(created, datetime) and utcnow() - aware(created) > GIVE_UP_AFTER
