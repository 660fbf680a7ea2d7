"""Settings: defaults, TOML file, environment, explicit values, in that rising order."""

from __future__ import annotations

from pathlib import Path

import pytest

from carebird.config import DEV_SECRET, Settings, load_settings


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


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValueError):
        Settings(reopen_window_days=0)
