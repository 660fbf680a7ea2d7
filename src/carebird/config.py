"""One typed settings object, read from `CAREBIRD_*` variables and an optional TOML file.

Precedence: explicit arguments > environment > TOML file (`CAREBIRD_CONFIG` or ./carebird.toml)
> defaults. The object is passed down (`create_app(settings)`); nothing reads it globally.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from carebird.errors import CarebirdError

DEV_SECRET = "dev-insecure-secret-change-me"
MIN_SECRET_LENGTH = 32
GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class InsecureSettings(CarebirdError, ValueError):
    """The settings would run the desk unprotected (a default, empty or short secret key)."""


def _toml_path() -> Path:
    return Path(os.environ.get("CAREBIRD_CONFIG", "carebird.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAREBIRD_", extra="ignore")

    # Unset means production: the development shortcuts (the built-in secret key, cookies
    # without the Secure flag) need CAREBIRD_ENV=dev said out loud. `carebird demo` says it.
    env: Literal["dev", "prod", "test"] = "prod"
    database_url: str = "sqlite:///carebird.db"
    secret_key: str = DEV_SECRET
    host: str = "127.0.0.1"
    port: int = 8000

    # Cases: a customer writing again this long after a resolved case gets a new case.
    reopen_window_days: float = Field(default=7.0, gt=0)
    ingest_batch_size: int = Field(default=500, ge=1, le=10_000)

    # The simulated network that the demo runs on.
    simulate: bool = False
    sim_seed: int = 1
    # 1.0 keeps simulated time on the wall clock (no messages from the future); raise it to
    # fast-forward (then timestamps run ahead of real time).
    sim_speed: float = Field(default=1.0, gt=0)
    sim_rate_per_hour: float = Field(default=1500.0, gt=0)  # at the weekly peak
    poll_interval_seconds: float = Field(default=2.0, gt=0)

    # Understanding: the classifier plugin, an optional trained model file (reloaded when it
    # changes, no restart), and the priority weights to override (see understand/priority.py).
    classifier: str = "builtin"
    model_path: Path | None = None
    priority_weights: dict[str, float] = Field(default_factory=dict)
    # The accurate tier re-reads inbound messages in the background (carebird.flows.reclassify):
    # None = on when its encoder package is installed; "unsure" = only the messages the fast
    # tier placed below `accurate_tier_confidence`; a pass takes up to `accurate_tier_batch`
    # messages per transaction, for up to `accurate_tier_interval_seconds`, recent ones first.
    accurate_tier: bool | None = None
    accurate_tier_messages: Literal["all", "unsure"] = "all"
    accurate_tier_confidence: float = Field(default=0.7, gt=0, le=1)
    accurate_tier_batch: int = Field(default=128, ge=1, le=5000)
    accurate_tier_interval_seconds: float = Field(default=5.0, gt=0)
    # The accurate tier's heads (`carebird train --from-desk --tier accurate` writes them;
    # reloaded when the file changes); None: the shipped heads.
    accurate_model_path: Path | None = None
    # Teams the desk creates at start (`[[teams]] name = "…"`) and routing rules as code
    # (`[[routing.rules]]`, see carebird.cases.routing), checked when the desk starts.
    teams: list[dict[str, Any]] = Field(default_factory=list)
    routing: dict[str, Any] = Field(default_factory=dict)
    # SLA policies (`[[sla.policies]]`: conditions and business-time targets, see cases/sla.py);
    # a case no policy covers gets `sla_first_response_minutes`.
    sla: dict[str, Any] = Field(default_factory=dict)
    rescore_interval_seconds: float = Field(default=60.0, gt=0)

    # Real networks (accounts are added with `carebird accounts add`): published opening hours
    # drive the polling plan — fast while open, slow at night — and, later, SLA clocks.
    opening_hours: str = "Mon-Sat 08:00-22:00"
    timezone: str = "Europe/Paris"
    # Closed local days: "2026-12-24", yearly "12-25", ranges "12-24..12-26" (checked at start,
    # see carebird.cases.calendars; an account's options may set its own).
    holidays: list[str] = Field(default_factory=list, max_length=200)
    poll_open_seconds: float = Field(default=30.0, gt=0)
    poll_closed_seconds: float = Field(default=300.0, gt=0)
    # First-response target counted inside opening hours: the inbox's SLA deadline.
    sla_first_response_minutes: float = Field(default=60.0, gt=0)
    # Gap reconciliation: every this often, search the last `reconcile_window_minutes` again
    # (on X each post found is billed again: hourly over the last hour re-reads each post once).
    reconcile_interval_seconds: float = Field(default=3600.0, gt=0)
    reconcile_window_minutes: float = Field(default=60.0, gt=0)
    # A reply being sent holds its lease this long; a process killed mid-send leaves it to
    # another after that (which asks the network first). Keep it above the slowest send.
    send_lease_seconds: float = Field(default=120.0, ge=5, le=3600)
    # API prices per network and operation (dollars), over carebird.ingest.usage.DEFAULT_PRICES.
    prices: dict[str, dict[str, float]] = Field(default_factory=dict)
    # Connecting accounts from the Accounts page: the desk's X app (OAuth 2.0 client; a
    # public client has no secret) and where X's API and consent page are (a local peer in
    # tests). Its callback is <public_url>/accounts/callback/x.
    x_client_id: str | None = None
    x_client_secret: str | None = None
    x_api_url: str = "https://api.x.com"
    x_authorize_url: str = "https://x.com/i"

    # Outgoing e-mail (forwarding a case to an outside owner) and the desk's public address,
    # used in the signed links those e-mails carry.
    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "carebird@localhost"

    admin_email: str = "admin@carebird.local"
    admin_password: str | None = None  # generated and printed at first start when unset

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        # Accept the libpq spelling and use the psycopg 3 driver that ships with carebird.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @property
    def private_servers_allowed(self) -> bool:
        """Whether the desk may call a loopback or private server an admin names (a Mastodon
        instance, a Bluesky server): on a developer's desk and in tests, never in production."""
        return self.env != "prod"

    @property
    def secure_cookies(self) -> bool:
        """Cookies marked Secure when the desk is reached over HTTPS (its public URL says so):
        a production desk on plain HTTP behind no proxy can still be logged in to."""
        return self.public_url.lower().startswith("https://")

    def secret_problem(self) -> str | None:
        """What is wrong with the secret key (whatever the env), or None when it will do."""
        key = self.secret_key.strip()
        if not key:
            return "CAREBIRD_SECRET_KEY is empty"
        if key == DEV_SECRET:
            return "CAREBIRD_SECRET_KEY is not set (the built-in development key is in use)"
        if len(key) < MIN_SECRET_LENGTH:
            return (
                f"CAREBIRD_SECRET_KEY is too short ({len(key)} characters, "
                f"at least {MIN_SECRET_LENGTH} needed)"
            )
        return None

    def check_secrets(self) -> None:
        """Fail closed: refuse a default, empty or short secret unless CAREBIRD_ENV=dev."""
        problem = self.secret_problem()
        if problem is None or self.env == "dev":
            return
        raise InsecureSettings(
            f"{problem}. It signs sessions and seals the networks' credentials: set it to a "
            f"private random value of {MIN_SECRET_LENGTH}+ characters (generate one with "
            f"{GENERATE_SECRET}), or set CAREBIRD_ENV=dev for a development desk."
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_path())
        return (init_settings, env_settings, toml)


def load_settings(**overrides: Any) -> Settings:
    """Build settings, ignoring `None` overrides so CLI options only win when given."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
