"""Settings: defaults, TOML file, environment, explicit values, in that rising order."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import pytest

from carebird.config import DEV_SECRET, InsecureSettings, Settings, load_settings
from carebird.errors import CarebirdError
from carebird.web.app import create_app


def test_toml_then_environment_then_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "carebird.toml"
    toml.write_text('database_url = "sqlite:///from-toml.db"\nport = 9000\nsim_seed = 4\n')
    monkeypatch.setenv("CAREBIRD_CONFIG", str(toml))
    monkeypatch.delenv("CAREBIRD_DATABASE_URL", raising=False)
    assert Settings().database_url == "sqlite:///from-toml.db"
    monkeypatch.setenv("CAREBIRD_PORT", "9100")
    s = load_settings(sim_seed=None, database_url="postgres://u@h/db")
    assert (s.port, s.sim_seed) == (9100, 4)  # env beats TOML; None overrides are ignored
    assert s.database_url == "postgresql+psycopg://u@h/db"  # libpq spelling accepted


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAREBIRD_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(env="prod", secret_key=DEV_SECRET).check_secrets()
    Settings(env="prod", secret_key="s" * 32).check_secrets()


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No CAREBIRD_* variable and no carebird.toml: what a fresh host sees."""
    for name in list(os.environ):
        if name.startswith("CAREBIRD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CAREBIRD_CONFIG", str(tmp_path / "absent.toml"))
    return monkeypatch


def test_an_unset_env_is_production_and_refuses_a_missing_secret(
    bare_env: pytest.MonkeyPatch,
) -> None:
    settings = Settings()
    assert settings.env == "prod"
    with pytest.raises(InsecureSettings) as refused:
        settings.check_secrets()
    message = str(refused.value)
    # The message says what is wrong and both ways out.
    assert "CAREBIRD_SECRET_KEY is not set" in message
    assert "secrets.token_urlsafe" in message and "CAREBIRD_ENV=dev" in message
    assert isinstance(refused.value, CarebirdError)  # `carebird …` prints it, no traceback


@pytest.mark.parametrize(
    ("key", "problem"),
    [("", "empty"), ("   ", "empty"), (DEV_SECRET, "not set"), ("k" * 31, "too short (31")],
)
def test_empty_default_and_short_secrets_are_refused_outside_dev(
    bare_env: pytest.MonkeyPatch, key: str, problem: str
) -> None:
    bare_env.setenv("CAREBIRD_SECRET_KEY", key)
    for env in ("prod", "test"):
        bare_env.setenv("CAREBIRD_ENV", env)
        with pytest.raises(InsecureSettings, match=re.escape(problem)):
            Settings().check_secrets()
    bare_env.setenv("CAREBIRD_ENV", "dev")  # said explicitly: the development desk may run
    assert Settings().secret_problem() is not None
    Settings().check_secrets()


def test_a_private_secret_of_32_characters_passes(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("CAREBIRD_SECRET_KEY", secrets.token_urlsafe(24))  # 32 characters
    assert len(Settings().secret_key) == 32
    assert Settings().secret_problem() is None
    Settings().check_secrets()


def test_create_app_refuses_to_start_without_a_secret(bare_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(InsecureSettings):
        create_app(Settings(database_url="sqlite:///:memory:"))


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValueError):
        Settings(reopen_window_days=0)
