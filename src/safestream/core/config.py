"""SafeStream's settings: one object, loaded once, passed down to whatever needs it.

Sources, strongest first: values given in code (command-line options), `SAFESTREAM_*`
environment variables, a TOML file, then the defaults below. The TOML file is the one
`SAFESTREAM_CONFIG` names, else `safestream.toml` in the home when it exists. Nothing else in
SafeStream reads the environment; `docs/configuration.md` lists every setting (a test keeps the
two in step).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from safestream.core.errors import InvalidInput

DEFAULT_HOME = Path.home() / ".local" / "share" / "safestream"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
ENV_PREFIX = "SAFESTREAM_"
CONFIG_ENV = "SAFESTREAM_CONFIG"
CONFIG_FILE_NAME = "safestream.toml"


class Settings(BaseModel):
    """Locations, services and secrets of one SafeStream home; two homes never share state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path = Field(
        DEFAULT_HOME, description="Folder of the store, index, evidence, keys and rule files."
    )
    database_url: str = Field(
        "", description="SQLAlchemy URL of the store; empty means SQLite `safestream.db` in home."
    )
    evidence_key: SecretStr | None = Field(
        None,
        description="Evidence encryption key (32 bytes as 64 hex digits or base64); "
        "empty means the key file in home, made on first use with mode 0600.",
    )
    evidence_old_keys: SecretStr | None = Field(
        None,
        description="Comma-separated earlier evidence keys, kept for reading after a rotation "
        "made in the environment.",
    )
    nats_url: str | None = Field(
        None,
        description="NATS JetStream server of the live workers; when set, a panic press asks "
        f"the worker watching the stream to keep its buffer. Live commands default to "
        f"{DEFAULT_NATS_URL}.",
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Shared secret that signs alerts `watch --webhook` posts."
    )
    link_in_server: bool = Field(
        True,
        description="Each server process links reports into cases in a thread; "
        "`serve --linker` sets it.",
    )
    switch_interval: float = Field(
        0.0005, gt=0, description="Seconds between GIL switches in server processes."
    )
    fetch_allowed_hosts: str = Field(
        "",
        description="Comma-separated hosts (and their subdomains) the API may fetch media from "
        "by URL; empty means the API fetches nothing.",
    )
    fetch_max_bytes: int = Field(
        100 * 1024 * 1024, gt=0, description="Largest file the API downloads by URL."
    )
    bank_curators: str = Field(
        "",
        description="Comma-separated organisations whose API keys may create, fill and delete "
        "banks over HTTP; every key may hash and look up.",
    )
    console_idle_minutes: int = Field(
        30,
        gt=0,
        le=12 * 60,
        description="Minutes without a request after which a console "
        "session ends on the server (it ends after 12 hours in any case).",
    )
    console_secure_cookie: bool = Field(
        False,
        description="Always mark the console cookie Secure; set it when a TLS proxy in front "
        "serves the console over HTTPS (over direct HTTPS the cookie is Secure anyway).",
    )
    demo_mode: bool = Field(
        False,
        description="Serve the demo call page at /demo/call (`make demo` sets it); otherwise "
        "that page does not exist.",
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer token Prometheus sends to read /metrics; without it only the "
        "operator organisation's API keys may read them.",
    )
    live_worker_token: SecretStr | None = Field(
        None,
        description="The operator's Bearer token for a live worker's HTTP routes (`live serve "
        "--http`): every stream, and health. Organisations use their API keys, each for the "
        "streams in its namespace; without the token only API keys are taken.",
    )
    ncmec_environment: Literal["test", "production"] = Field(
        "test", description="The CyberTipline service the console reports to."
    )
    recent_seen_days: int = Field(
        30,
        ge=0,
        description="Days the PDQ hashes of uploads and sampled live frames are kept for "
        "retroactive matching (0: not kept).",
    )
    recent_seen_lookups: bool = Field(
        True,
        description="Also keep (for recent_seen_days) the PDQ hashes platforms hash, match or "
        "look up over the API, with the organisation that asked.",
    )
    ncmec_company: str = Field(
        "", description="Reporting company named in CyberTipline reports (default: the org)."
    )
    ncmec_contact_email: str = Field(
        "", description="Contact e-mail in CyberTipline reports (default: the reviewer's)."
    )
    ncmec_test_username: str = Field("", description="CyberTipline test service user.")
    ncmec_test_password: SecretStr | None = Field(
        None, description="CyberTipline test service password."
    )
    ncmec_test_url: str = Field(
        "", description="CyberTipline test service address (default: NCMEC's; or a local one)."
    )
    ncmec_production_username: str = Field("", description="CyberTipline production user.")
    ncmec_production_password: SecretStr | None = Field(
        None, description="CyberTipline production password."
    )
    ncmec_production_url: str = Field(
        "", description="CyberTipline production address (only NCMEC's own is accepted)."
    )

    @model_validator(mode="after")
    def _sqlite_in_home_by_default(self) -> Settings:
        home = self.home.expanduser()
        object.__setattr__(self, "home", home)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{home / 'safestream.db'}")
        return self

    @property
    def index_dir(self) -> Path:
        """Folder of the persisted matching index files."""
        return self.home / "index"

    @property
    def pdq_index_dir(self) -> Path:
        """Folder of the PDQ bank index every process of this home shares (server, CLI)."""
        return self.index_dir / "pdq"

    @property
    def evidence_dir(self) -> Path:
        """Folder of encrypted evidence files."""
        return self.home / "evidence"

    def rule_file(self, name: str) -> Path:
        """Where an organisation keeps its own copy of a rule file (`triage.yaml`, ...)."""
        return self.home / name

    def ensure_home(self) -> None:
        """Create the home folder (owner-only, since it can hold evidence)."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)

    def with_changes(self, **changes: Any) -> Settings:
        """A copy with some settings replaced (validated like the originals)."""
        return Settings.model_validate({**self._raw(), **changes})

    def to_environ(self) -> dict[str, str]:
        """These settings as `SAFESTREAM_*` variables, for a child process to load."""
        env: dict[str, str] = {}
        for name, value in self._raw().items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = "1" if value else "0"
            env[ENV_PREFIX + name.upper()] = str(value)
        return env

    def _raw(self) -> dict[str, Any]:
        raw = self.model_dump()
        for name, value in raw.items():
            if isinstance(value, SecretStr):
                raw[name] = value.get_secret_value()
        return raw

    def secret(self, name: str) -> str:
        """The value of a secret setting, or "" when it is not set."""
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else ""

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        config_file: Path | None = None,
        **overrides: Any,
    ) -> Settings:
        """Load settings once: `overrides`, then the environment, then the TOML file."""
        env = os.environ if environ is None else environ
        values = {k: v for k, v in overrides.items() if v is not None}
        token = _LOAD_CONTEXT.set((env, config_file))
        try:
            loaded = _Loader(**values)
        except ValidationError as exc:
            raise InvalidInput(f"invalid settings: {_first_error(exc)}") from exc
        finally:
            _LOAD_CONTEXT.reset(token)
        return cls.model_validate(loaded._raw())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment and TOML file (the same as `load()`)."""
        return cls.load(environ)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}"


class _MappingEnvSource(EnvSettingsSource):
    """The environment source, reading a given mapping (tests pass their own)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._environ.items()}


class _TomlSource(PydanticBaseSettingsSource):
    """The `[safestream]` table (or top level) of the TOML settings file."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path is not None and path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise InvalidInput(f"{path}: not a readable TOML file ({exc})") from exc
            table = data.get("safestream", data)
            unknown = set(table) - set(Settings.model_fields)
            if unknown:
                raise InvalidInput(f"{path}: unknown settings {', '.join(sorted(unknown))}")
            self._data = table

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


# What the loading call passes to `_Loader`'s sources (pydantic-settings builds them per class).
_LOAD_CONTEXT: ContextVar[tuple[Mapping[str, str], Path | None]] = ContextVar("settings_load")


class _Loader(BaseSettings, Settings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ, config_file = _LOAD_CONTEXT.get()
        if config_file is None:
            named = environ.get(CONFIG_ENV)
            if named:
                config_file = Path(named).expanduser()
                if not config_file.is_file():
                    raise InvalidInput(f"{CONFIG_ENV}: no settings file at {config_file}")
            else:
                home = init_settings().get("home") or environ.get(ENV_PREFIX + "HOME")
                config_file = Path(home or DEFAULT_HOME).expanduser() / CONFIG_FILE_NAME
        return (
            init_settings,
            _MappingEnvSource(settings_cls, environ),
            _TomlSource(settings_cls, config_file),
        )
