"""Settings: a secret key is required outside development."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app

REPO = Path(__file__).resolve().parents[1]


def _run_create_app(env_overrides: dict, tmp_path) -> subprocess.CompletedProcess:
    """create_app() in a fresh interpreter, so settings are read from the environment as in production."""
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "SAFER_ENV")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'config.db'}", **env_overrides})
    return subprocess.run([sys.executable, "-c", "from app import create_app; create_app(); print('started')"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = _run_create_app({"SAFER_ENV": "production"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert "started" not in result.stdout


def test_production_with_secret_key_starts(tmp_path):
    result = _run_create_app({"SAFER_ENV": "production", "SECRET_KEY": "a-real-secret"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_create_app_raises_without_secret_key_outside_development():
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": "", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_postgres_urls_are_pointed_at_psycopg_3(monkeypatch):
    from app.config import database_url_from_env

    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/safer")
    assert database_url_from_env() == "postgresql+psycopg://u:p@db.example:5432/safer"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@localhost/safer")
    assert database_url_from_env() == "postgresql+psycopg://u@localhost/safer"

