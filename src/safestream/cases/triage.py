"""Triage: transparent rules from an editable YAML file turn a case's facts into a priority.

Rules are data, not code: a reviewer can read every rule that fired and the points it added, and
an organisation changes triage by editing `$SAFESTREAM_HOME/triage.yaml` (the packaged
`cases/data/triage.yaml` is the default and documents the facts).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from safestream.core.cases import FactValue, FiredRule, Priority, Triage
from safestream.core.config import Settings
from safestream.core.errors import InvalidInput
from safestream.core.rule_files import RuleDocument, load_document, validate_document

Facts = Mapping[str, FactValue]

KNOWN_FACTS = frozenset(
    {
        "live_now",
        "hash_match",
        "image_region_match",
        "room_match",
        "child_in_danger",
        "panic",
        "payment_flag",
        "payment_score",
        "private_stream",
        "claimed_elsewhere",
        "report_count",
        "reporting_orgs",
        "account_count",
        "viewer_count",
        "payment_count",
        "match_count",
        "incident_types",
        "sources",
    }
)

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Condition:
    """One test of one fact."""

    fact: str
    op: str
    value: Any

    def holds(self, facts: Facts) -> bool:
        """Whether the fact satisfies this test."""
        actual = facts.get(self.fact)
        if actual is None:
            return False
        if self.op == "in":
            if isinstance(actual, list):
                return any(a in self.value for a in actual)
            return actual in self.value
        if self.op == "==" and isinstance(actual, list):
            return self.value in actual
        return bool(_OPERATORS[self.op](actual, self.value))


@dataclass(frozen=True)
class TriageRule:
    """A named rule: when every condition holds, add points and maybe set priority and queue."""

    name: str
    description: str
    conditions: tuple[Condition, ...]
    points: int = 0
    priority: Priority | None = None
    queue: str | None = None

    def fires(self, facts: Facts) -> bool:
        """Whether every condition holds."""
        return all(c.holds(facts) for c in self.conditions)


@dataclass(frozen=True)
class TriageRules:
    """A rule set with its score bands."""

    rules: tuple[TriageRule, ...]
    score_bands: tuple[tuple[Priority, int], ...]
    default_priority: Priority = Priority.NORMAL
    default_queue: str = "review"

    def evaluate(self, facts: Facts) -> Triage:
        """Score a case's facts: the priority, the score and every rule that fired."""
        fired = [r for r in self.rules if r.fires(facts)]
        score = sum(r.points for r in fired)
        priority = self.default_priority
        for band_priority, minimum in self.score_bands:
            if score >= minimum and band_priority < priority:
                priority = band_priority
        for r in fired:
            if r.priority is not None and r.priority < priority:
                priority = r.priority
        queues = [r for r in fired if r.queue]
        # The queue of the most urgent rule that names one wins; ties go to the first listed.
        queues.sort(key=lambda r: r.priority or Priority.LOW)
        queue = queues[0].queue if queues and queues[0].queue else self.default_queue
        return Triage(
            priority=priority,
            score=score,
            fired=tuple(FiredRule(r.name, r.points, r.description, r.priority) for r in fired),
            queue=queue,
        )


def _condition(rule: str, fact: str, spec: Any) -> Condition:
    if fact not in KNOWN_FACTS:
        raise InvalidInput(f"triage rule {rule!r}: unknown fact {fact!r}")
    if isinstance(spec, dict):
        if len(spec) != 1:
            raise InvalidInput(f"triage rule {rule!r}: {fact}: give exactly one operator")
        op, value = next(iter(spec.items()))
        if op not in _OPERATORS and op != "in":
            raise InvalidInput(f"triage rule {rule!r}: {fact}: unknown operator {op!r}")
        if op == "in" and not isinstance(value, list):
            raise InvalidInput(f"triage rule {rule!r}: {fact}: 'in' needs a list")
        return Condition(fact, op, value)
    return Condition(fact, "==", spec)


def _priority(where: str, value: Any) -> Priority:
    try:
        return Priority(int(value))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{where}: priority must be 1..4, not {value!r}") from exc


class RuleEntry(BaseModel):
    """One rule as written in `triage.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str | None = None
    when: dict[str, Any] = Field(min_length=1)
    points: StrictInt = 0
    priority: int | None = None
    queue: str | None = None


class TriageFile(RuleDocument):
    """The document of `triage.yaml`."""

    rules: list[RuleEntry]
    score_bands: dict[int, int] = Field(default_factory=dict)
    default_priority: int = 3
    default_queue: str = "review"


def parse_rules(document: Any, where: str = "triage file") -> TriageRules:
    """Build a rule set from a parsed YAML document, or raise `InvalidInput` naming the problem."""
    parsed = validate_document(TriageFile, document, where)
    rules: list[TriageRule] = []
    seen: set[str] = set()
    for raw in parsed.rules:
        if raw.name in seen:
            raise InvalidInput(f"triage rule {raw.name!r}: defined twice")
        seen.add(raw.name)
        rules.append(
            TriageRule(
                name=raw.name,
                description=raw.description or raw.name,
                conditions=tuple(_condition(raw.name, f, v) for f, v in raw.when.items()),
                points=raw.points,
                priority=_priority(raw.name, raw.priority) if raw.priority is not None else None,
                queue=raw.queue or None,
            )
        )
    bands = parsed.score_bands.items()
    return TriageRules(
        rules=tuple(rules),
        score_bands=tuple(sorted((_priority("score_bands", p), m) for p, m in bands)),
        default_priority=_priority("default_priority", parsed.default_priority),
        default_queue=parsed.default_queue,
    )


def load_rules(path: Path | None = None) -> TriageRules:
    """Load a triage file; without a path, the packaged default."""
    document = load_document(TriageFile, path, ("safestream.cases", "data/triage.yaml"))
    return parse_rules(document, str(path or "packaged triage.yaml"))


def rules_for(settings: Settings) -> TriageRules:
    """The organisation's rules (`$SAFESTREAM_HOME/triage.yaml`) or the packaged default."""
    custom = settings.home / "triage.yaml"
    return load_rules(custom if custom.exists() else None)
