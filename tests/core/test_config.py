"""Settings: loaded once from environment and TOML, strongest source first, all documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from safestream.core.config import Settings
from safestream.core.errors import InvalidInput

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_database_defaults_to_sqlite_in_the_home(tmp_path: Path) -> None:
    settings = Settings.load({"SAFESTREAM_HOME": str(tmp_path)})
    assert settings.home == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path / 'safestream.db'}"


def test_environment_beats_the_toml_file_in_the_home(tmp_path: Path) -> None:
    (tmp_path / "safestream.toml").write_text(
        '[safestream]\nnats_url = "nats://toml:4222"\nswitch_interval = 0.01\n'
    )
    settings = Settings.load(
        {"SAFESTREAM_HOME": str(tmp_path), "SAFESTREAM_SWITCH_INTERVAL": "0.002"}
    )
    assert settings.nats_url == "nats://toml:4222"
    assert settings.switch_interval == 0.002


def test_options_beat_the_environment(tmp_path: Path) -> None:
    settings = Settings.load({"SAFESTREAM_LINK_IN_SERVER": "1"}, link_in_server=False)
    assert settings.link_in_server is False


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no settings file"):
        Settings.load({"SAFESTREAM_CONFIG": str(tmp_path / "missing.toml")})


def test_unknown_names_in_the_toml_file_are_errors(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text('nats_ulr = "nats://typo:4222"\n')
    with pytest.raises(InvalidInput, match="nats_ulr"):
        Settings.load({}, config_file=config)


def test_a_malformed_value_names_the_setting() -> None:
    with pytest.raises(InvalidInput, match="switch_interval"):
        Settings.load({"SAFESTREAM_SWITCH_INTERVAL": "fast"})


def test_secrets_are_not_shown_when_printed() -> None:
    settings = Settings.load({"SAFESTREAM_EVIDENCE_KEY": "ab" * 32})
    assert "abab" not in repr(settings)
    assert settings.evidence_key is not None
    assert settings.evidence_key.get_secret_value() == "ab" * 32


def test_a_child_process_environment_loads_the_same_settings(tmp_path: Path) -> None:
    settings = Settings.load(
        {"SAFESTREAM_HOME": str(tmp_path), "SAFESTREAM_WEBHOOK_SECRET": "s3cret"},
        link_in_server=False,
    )
    assert Settings.load(settings.to_environ()) == settings


def test_every_setting_is_documented_with_its_variable() -> None:
    documented = set(re.findall(r"^\| `(\w+)` \| `SAFESTREAM_(\w+)` \|", DOCS.read_text(), re.M))
    assert documented == {(name, name.upper()) for name in Settings.model_fields}
