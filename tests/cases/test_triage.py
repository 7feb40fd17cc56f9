"""Triage rules come from an editable YAML file and explain every priority they set."""

from __future__ import annotations

from pathlib import Path

import pytest

from safestream.cases.triage import load_rules, parse_rules, rules_for
from safestream.core.cases import Priority
from safestream.core.config import Settings
from safestream.core.errors import InvalidInput

BASE = {"report_count": 1, "reporting_orgs": 1, "incident_types": ["child_pornography"]}


def test_live_stream_with_hash_match_is_priority_one() -> None:
    result = load_rules().evaluate({**BASE, "live_now": True, "hash_match": True})
    assert result.priority is Priority.URGENT
    assert "live_stream_with_hash_match" in [f.rule for f in result.fired]
    assert result.queue == "urgent"


def test_live_stream_showing_a_known_room_is_priority_one() -> None:
    result = load_rules().evaluate({**BASE, "live_now": True, "room_match": True})
    assert result.priority is Priority.URGENT and result.queue == "urgent"
    assert "live_stream_in_known_room" in [f.rule for f in result.fired]


def test_a_known_image_found_inside_media_scores_like_a_hash_match() -> None:
    inside = load_rules().evaluate({**BASE, "image_region_match": True})
    hashed = load_rules().evaluate({**BASE, "hash_match": True})
    assert inside.score == hashed.score and inside.priority == hashed.priority


def test_panic_report_of_child_in_danger_is_priority_one() -> None:
    result = load_rules().evaluate({**BASE, "panic": True, "child_in_danger": True})
    assert result.priority is Priority.URGENT


def test_payment_flag_on_account_with_reports_raises_priority() -> None:
    alone = load_rules().evaluate({**BASE, "payment_flag": True})
    linked = load_rules().evaluate({**BASE, "payment_flag": True, "report_count": 2})
    assert linked.priority < alone.priority
    assert "payment_flag_on_reported_account" in [f.rule for f in linked.fired]


def test_score_is_the_sum_of_fired_rule_points() -> None:
    result = load_rules().evaluate({**BASE, "live_now": True, "hash_match": True})
    assert result.score == sum(f.points for f in result.fired)


def test_plain_report_stays_normal_with_no_rules_fired() -> None:
    result = load_rules().evaluate(BASE)
    assert result.priority is Priority.NORMAL
    assert result.fired == ()


def test_list_facts_match_by_membership() -> None:
    result = load_rules().evaluate({**BASE, "incident_types": ["online_enticement"]})
    assert "enticement_or_trafficking" in [f.rule for f in result.fired]


def test_unknown_fact_in_rule_file_is_named() -> None:
    with pytest.raises(InvalidInput, match="unknown fact 'livenow'"):
        parse_rules({"rules": [{"name": "r", "when": {"livenow": True}, "points": 1}]})


def test_unknown_operator_is_named() -> None:
    with pytest.raises(InvalidInput, match="unknown operator '=>'"):
        parse_rules({"rules": [{"name": "r", "when": {"report_count": {"=>": 2}}}]})


def test_organisation_file_in_home_replaces_the_default(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url="sqlite://")
    (tmp_path / "triage.yaml").write_text(
        "rules:\n  - name: any_report\n    when: {report_count: {'>=': 1}}\n    points: 5\n"
        "    priority: 2\n"
    )
    result = rules_for(settings).evaluate(BASE)
    assert result.priority is Priority.HIGH
    assert [f.rule for f in result.fired] == ["any_report"]
