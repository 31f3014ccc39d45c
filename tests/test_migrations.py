"""The migrations and the models agree: upgrade an empty database, compare, expect no difference.

Runs on SQLite always, and on PostgreSQL (in a schema of its own) when TEST_DATABASE_URL is set.
"""
import contextlib
import logging
import os
import uuid
from datetime import UTC

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db


@contextlib.contextmanager
def _logging_kept():
    """Alembic's env.py runs logging.config.fileConfig, which disables every logger that exists
    and replaces the root handlers; put things back so later tests log as before."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    disabled = {name: logger.disabled for name, logger in logging.Logger.manager.loggerDict.items()
                if isinstance(logger, logging.Logger)}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, logger in logging.Logger.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.disabled = disabled.get(name, False)


def _databases():
    params = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get("TEST_DATABASE_URL"):
        params.append(pytest.param("postgresql", id="postgresql"))
    return params


@pytest.fixture(params=_databases())
def empty_database_app(request, tmp_path):
    """An app on an empty database: a new SQLite file, or a new PostgreSQL schema."""
    options: dict = {"pool_pre_ping": True}
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        url = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
        schema = f"migrations_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        options["connect_args"] = {"options": f"-c search_path={schema}"}
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url,
                      "SQLALCHEMY_ENGINE_OPTIONS": options, "RATELIMIT_ENABLED": False})
    yield app
    with app.app_context():
        db.engine.dispose()
    if schema:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _differences(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "compare_server_default": True})
        return compare_metadata(context, db.metadata)


def _tables(app) -> set[str]:
    with app.app_context(), db.engine.connect() as connection:
        return set(sa.inspect(connection).get_table_names())


def test_migrations_build_the_schema_the_models_describe(empty_database_app):
    app = empty_database_app
    assert _tables(app) == set()
    with app.app_context(), _logging_kept():
        upgrade()
    assert set(db.metadata.tables) <= _tables(app)
    differences = _differences(app)
    assert differences == [], "models and migrations differ; run `flask --app wsgi db migrate`:\n" + \
        "\n".join(map(str, differences))


def test_migrations_go_down_to_nothing_and_up_again(empty_database_app):
    app = empty_database_app
    with app.app_context(), _logging_kept():
        upgrade()
        downgrade(revision="base")
    assert _tables(app) <= {"alembic_version"}
    with app.app_context(), _logging_kept():
        upgrade()
    assert _differences(app) == []


def test_the_upgraded_schema_holds_a_synced_incident(empty_database_app, tmp_path):
    """Not just the same tables on paper: the migrated database takes a real record end to end."""
    from datetime import datetime, timedelta

    from app.auth.models import User
    from app.incidents.models import Incident
    from app.org.services import create_demo_data
    from app.sync.services import ingest_records

    app = empty_database_app
    with app.app_context(), _logging_kept():
        upgrade()
    with app.app_context():
        create_demo_data("migration test password")
        worker = db.session.scalar(sa.select(User).where(User.email == "worker@demo.example"))
        now = datetime.now(UTC)
        record = {"id": str(uuid.uuid4()), "type": "incident", "recorded_at": now.isoformat(),
                  "data": {"occurred_at": (now - timedelta(minutes=5)).isoformat(), "branch_id": worker.team.branch_id,
                           "location": "toilets", "kinds": ["drugs_alcohol"], "severity": "low",
                           "description": "Needles left in the toilets."}}
        assert ingest_records(worker, [record], sent_at=now)[0]["status"] == "created"
        assert ingest_records(worker, [record], sent_at=now)[0]["status"] == "duplicate"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 1
        db.session.remove()
