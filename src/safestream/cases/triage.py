"""Triage: transparent rules from an editable YAML file turn a case's facts into a priority.

Rules are data, not code: a reviewer can read every rule that fired and the points it added, and
an organisation changes triage by editing `$SAFESTREAM_HOME/triage.yaml` (the packaged
`cases/data/triage.yaml` is the default and documents the facts).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from safestream.core.cases import FiredRule, Priority, Triage
from safestream.core.config import Settings
from safestream.core.errors import InvalidInput

FactValue = bool | int | float | str | list[str]
Facts = Mapping[str, FactValue]

KNOWN_FACTS = frozenset(
    {
        "live_now",
        "hash_match",
        "child_in_danger",
        "panic",
        "payment_flag",
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


def parse_rules(document: Any) -> TriageRules:
    """Build a rule set from a parsed YAML document, or raise `InvalidInput` naming the problem."""
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise InvalidInput("triage file: expected a mapping with a 'rules' list")
    rules: list[TriageRule] = []
    seen: set[str] = set()
    for i, raw in enumerate(document["rules"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise InvalidInput(f"triage rule #{i + 1}: needs a 'name'")
        name = raw["name"]
        if name in seen:
            raise InvalidInput(f"triage rule {name!r}: defined twice")
        seen.add(name)
        when = raw.get("when")
        if not isinstance(when, dict) or not when:
            raise InvalidInput(f"triage rule {name!r}: 'when' must be a non-empty mapping")
        points = raw.get("points", 0)
        if not isinstance(points, int):
            raise InvalidInput(f"triage rule {name!r}: points must be an integer")
        rules.append(
            TriageRule(
                name=name,
                description=str(raw.get("description", name)),
                conditions=tuple(_condition(name, f, v) for f, v in when.items()),
                points=points,
                priority=_priority(name, raw["priority"]) if "priority" in raw else None,
                queue=str(raw["queue"]) if raw.get("queue") else None,
            )
        )
    bands = document.get("score_bands") or {}
    if not isinstance(bands, dict):
        raise InvalidInput("triage file: score_bands must map a priority to a minimum score")
    return TriageRules(
        rules=tuple(rules),
        score_bands=tuple(sorted((_priority("score_bands", p), int(m)) for p, m in bands.items())),
        default_priority=_priority("default_priority", document.get("default_priority", 3)),
        default_queue=str(document.get("default_queue", "review")),
    )


def load_rules(path: Path | None = None) -> TriageRules:
    """Load a triage file; without a path, the packaged default."""
    if path is None:
        text = (resources.files("safestream.cases") / "data" / "triage.yaml").read_text()
        where = "packaged triage.yaml"
    else:
        text, where = path.read_text(), str(path)
    try:
        return parse_rules(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{where}: not valid YAML: {exc}") from exc


def rules_for(settings: Settings) -> TriageRules:
    """The organisation's rules (`$SAFESTREAM_HOME/triage.yaml`) or the packaged default."""
    custom = settings.home / "triage.yaml"
    return load_rules(custom if custom.exists() else None)
