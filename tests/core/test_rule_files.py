"""Rule files are read one way: YAML, a typed model, and errors that name the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from safestream.cases.outbox import load_webhooks
from safestream.cases.routing import load_table
from safestream.cases.triage import load_rules
from safestream.core.errors import InvalidInput


def test_a_misspelt_key_is_an_error_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text("rules: []\ndefault_priorty: 1\n")
    with pytest.raises(InvalidInput, match=r"triage.yaml: default_priorty: Extra inputs"):
        load_rules(path)


def test_a_wrong_type_names_the_rule_and_field(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text("rules:\n  - name: r\n    when: {report_count: 1}\n    points: many\n")
    with pytest.raises(InvalidInput, match=r"rules\.0\.points"):
        load_rules(path)


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("authorities: [unclosed\n")
    with pytest.raises(InvalidInput, match=r"routing\.yaml: not valid YAML"):
        load_table(path)


def test_an_authority_without_a_name_is_named(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("authorities:\n  X: {contact: 'https://x.example'}\n")
    with pytest.raises(InvalidInput, match=r"authorities\.X\.name"):
        load_table(path)


def test_notify_channels_must_be_web_addresses(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text("channels:\n  urgent: mailto:someone@example.org\n")
    with pytest.raises(InvalidInput, match=r"channels\.urgent"):
        load_webhooks(path)


def test_the_packaged_defaults_load() -> None:
    assert load_rules().rules
    assert "NCMEC" in load_table().authorities
