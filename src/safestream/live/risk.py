"""Stream context events and a transparent risk score that sets a stream's sampling.

Platforms feed what they know about a stream: it started (private 1:1 or public, the
broadcaster's account age and country), a viewer joined, a payment or tip, a user report, a
score from an external classifier. The score is a sum of named rules, each with its points and
the fact that triggered it, so a reviewer sees exactly why a stream was sampled harder:

    private_stream           +2   the stream is private (1:1)
    new_broadcaster_account  +2   broadcaster account younger than 30 days
    viewer_abroad            +1   a viewer joined from another country than the broadcaster's
    paying_viewer_abroad     +2   a viewer from another country paid or tipped
    user_report              +4   each user report (at most two count)
    classifier_flag          +3   an external classifier scored a frame >= 0.8 (+1 from 0.5)

Score < 2 keeps the stream's baseline sampling (keyframes only for low-risk streams when the
platform chooses that), 2-4 is full decoding at 1 frame/s plus scene changes, >= 5 is 2 frames/s.
So a private stream on a new account whose paying viewer is abroad (2 + 2 + 2) samples at 2 fps.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from safestream.core.errors import InvalidInput
from safestream.live.sampling import SamplingMode, SamplingPolicy

NEW_ACCOUNT_DAYS = 30.0
CLASSIFIER_HIGH = 0.8
CLASSIFIER_MEDIUM = 0.5
FULL_AT = 2
DOUBLE_RATE_AT = 5
EVENT_TYPES = ("stream_started", "viewer_joined", "payment", "user_report", "classifier_score")


@dataclass(frozen=True)
class StreamEvent:
    """One fact about a stream. `type` is one of `EVENT_TYPES`; other fields depend on it."""

    type: str
    stream_id: str
    private: bool | None = None
    account_age_days: float | None = None
    country: str | None = None
    viewer_id: str | None = None
    amount: float | None = None
    currency: str | None = None
    reporter: str | None = None
    reason: str | None = None
    classifier: str | None = None
    score: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StreamEvent:
        """Validate an event given as a JSON object; raise `InvalidInput` naming the problem."""
        if not isinstance(data, dict):
            raise InvalidInput("an event must be a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise InvalidInput(f"unknown event fields: {', '.join(sorted(unknown))}")
        kind = data.get("type")
        if kind not in EVENT_TYPES:
            raise InvalidInput(f"event type must be one of {', '.join(EVENT_TYPES)}, got {kind!r}")
        stream_id = data.get("stream_id")
        if not isinstance(stream_id, str) or not stream_id.strip() or len(stream_id) > 256:
            raise InvalidInput("an event needs a stream_id (1-256 characters)")
        values: dict[str, Any] = {"type": kind, "stream_id": stream_id.strip()}
        for name in ("account_age_days", "amount", "score"):
            if data.get(name) is not None:
                values[name] = _number(name, data[name])
        for name in ("country", "viewer_id", "currency", "reporter", "reason", "classifier"):
            if data.get(name) is not None:
                values[name] = _text(name, data[name])
        if data.get("private") is not None:
            if not isinstance(data["private"], bool):
                raise InvalidInput("private must be true or false")
            values["private"] = data["private"]
        if "country" in values:
            values["country"] = _country(values["country"])
        if kind == "classifier_score" and not 0.0 <= values.get("score", -1.0) <= 1.0:
            raise InvalidInput("a classifier_score event needs a score between 0 and 1")
        if kind == "payment" and values.get("amount", -1.0) < 0:
            raise InvalidInput("a payment event needs an amount >= 0")
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON object without empty fields."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name} must be a number")
    return float(value)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 256:
        raise InvalidInput(f"{name} must be text of at most 256 characters")
    return value.strip()


def _country(value: str) -> str:
    code = value.upper()
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        raise InvalidInput(f"country must be an ISO 3166-1 alpha-2 code like 'PH', not {value!r}")
    return code


@dataclass(frozen=True)
class Reason:
    """One rule that added to a stream's risk score."""

    name: str
    points: int
    detail: str


@dataclass(frozen=True)
class RiskAssessment:
    """A stream's score, the reasons that make it up, and the sampling it calls for."""

    score: int
    reasons: tuple[Reason, ...]
    policy: SamplingPolicy

    def to_json(self) -> dict[str, Any]:
        """Score, policy and reasons as JSON."""
        return {
            "score": self.score,
            "sampling": self.policy.describe(),
            "reasons": [r.__dict__ for r in self.reasons],
        }


def policy_for(score: int, baseline: SamplingPolicy) -> SamplingPolicy:
    """The sampling a score calls for; never less than the baseline."""
    skip = baseline.skip_to_keyframe
    if score >= DOUBLE_RATE_AT:
        return SamplingPolicy(SamplingMode.FULL, max(2.0, baseline.fps), True, skip)
    if score >= FULL_AT:
        return SamplingPolicy(SamplingMode.FULL, max(1.0, baseline.fps), True, skip)
    return baseline


@dataclass
class StreamContext:
    """Everything known about one stream, folded from its events."""

    stream_id: str
    private: bool = False
    account_age_days: float | None = None
    country: str | None = None
    viewers: dict[str, str | None] = field(default_factory=dict)
    payers_abroad: set[str] = field(default_factory=set)
    payments: int = 0
    reports: list[str] = field(default_factory=list)
    classifier_scores: dict[str, float] = field(default_factory=dict)

    def apply(self, event: StreamEvent) -> None:
        """Fold one event into the context."""
        if event.type == "stream_started":
            self.private = bool(event.private)
            self.account_age_days = event.account_age_days
            self.country = event.country or self.country
        elif event.type == "viewer_joined":
            self.viewers[event.viewer_id or f"viewer{len(self.viewers)}"] = event.country
        elif event.type == "payment":
            self.payments += 1
            payer_country = event.country or self.viewers.get(event.viewer_id or "")
            if self._abroad(payer_country):
                self.payers_abroad.add(event.viewer_id or f"payer{self.payments}")
        elif event.type == "user_report":
            self.reports.append(event.reporter or "anonymous")
        elif event.type == "classifier_score" and event.score is not None:
            name = event.classifier or "external"
            self.classifier_scores[name] = max(self.classifier_scores.get(name, 0.0), event.score)

    def _abroad(self, country: str | None) -> bool:
        return bool(country and self.country and country != self.country)

    def reasons(self) -> list[Reason]:
        """The rules that fire for this context, with their points."""
        found: list[Reason] = []
        if self.private:
            found.append(Reason("private_stream", 2, "private 1:1 stream"))
        if self.account_age_days is not None and self.account_age_days < NEW_ACCOUNT_DAYS:
            days = f"{self.account_age_days:g}"
            found.append(Reason("new_broadcaster_account", 2, f"account {days} days old"))
        abroad = sorted(v for v, c in self.viewers.items() if self._abroad(c))
        if abroad:
            found.append(Reason("viewer_abroad", 1, f"viewers abroad: {', '.join(abroad[:5])}"))
        if self.payers_abroad:
            payers = ", ".join(sorted(self.payers_abroad)[:5])
            found.append(Reason("paying_viewer_abroad", 2, f"paid from abroad: {payers}"))
        if self.reports:
            count = min(2, len(self.reports))
            found.append(Reason("user_report", 4 * count, f"{len(self.reports)} user report(s)"))
        if self.classifier_scores:
            name, top = max(self.classifier_scores.items(), key=lambda kv: kv[1])
            if top >= CLASSIFIER_HIGH:
                found.append(Reason("classifier_flag", 3, f"{name} scored {top:.2f}"))
            elif top >= CLASSIFIER_MEDIUM:
                found.append(Reason("classifier_flag", 1, f"{name} scored {top:.2f}"))
        return found


class RiskBook:
    """Stream contexts by stream id, and their assessments against a baseline policy."""

    def __init__(self, baseline: SamplingPolicy | None = None) -> None:
        self.baseline = baseline or SamplingPolicy()
        self._contexts: dict[str, StreamContext] = {}
        self._baselines: dict[str, SamplingPolicy] = {}
        self._lock = threading.Lock()

    def set_baseline(self, stream_id: str, baseline: SamplingPolicy) -> None:
        """Give one stream its own baseline (e.g. keyframes only for a low-risk stream)."""
        with self._lock:
            self._baselines[stream_id] = baseline

    def apply(self, event: StreamEvent) -> RiskAssessment:
        """Fold an event into its stream's context and return the new assessment."""
        with self._lock:
            context = self._contexts.setdefault(event.stream_id, StreamContext(event.stream_id))
            context.apply(event)
            return self._assess(context)

    def assess(self, stream_id: str) -> RiskAssessment:
        """The current assessment of a stream (baseline when nothing is known)."""
        with self._lock:
            return self._assess(self._contexts.get(stream_id) or StreamContext(stream_id))

    def forget(self, stream_id: str) -> None:
        """Drop a stream's context."""
        with self._lock:
            self._contexts.pop(stream_id, None)
            self._baselines.pop(stream_id, None)

    def _assess(self, context: StreamContext) -> RiskAssessment:
        reasons = tuple(context.reasons())
        score = sum(r.points for r in reasons)
        baseline = self._baselines.get(context.stream_id, self.baseline)
        return RiskAssessment(score, reasons, policy_for(score, baseline))
