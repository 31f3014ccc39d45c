"""Fixtures shared by every test: an app on a fresh database (SQLite, or TEST_DATABASE_URL)."""
import os
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from support import csrf_from

from app import create_app
from app.extensions import db as _db
from app.org.services import create_demo_data

TEST_PASSWORD = "correct horse battery"


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture
def app(tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
        # Still scrypt, at a cost that keeps the suite quick (every test makes the demo accounts).
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "SERVER_NAME": "localhost",
    })
    # The app context is popped again before the test: a pushed context would be shared by
    # every test-client request (Flask reuses it), and so would `g`, which caches CSRF tokens.
    with app.app_context():
        _db.drop_all()
        _reset_schema()
        _db.create_all()
        create_demo_data(TEST_PASSWORD)
        _db.session.remove()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        # Close pooled connections now: on PostgreSQL a connection left to the garbage
        # collector raises a ResourceWarning, which the warnings-are-errors setting fails on.
        _db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    """An app context for tests that call service functions directly (not through HTTP)."""
    with app.app_context():
        yield app
        _db.session.remove()


def _reset_schema():
    """PostgreSQL: drop leftovers (alembic_version, tables from another test) for a clean start."""
    if _db.engine.dialect.name == "postgresql":
        with _db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


@pytest.fixture
def db(app_ctx):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def user_ids(app):
    """Demo user ids by the part of the email before the @ (worker, supervisor, admin, ...)."""
    from app.auth.models import User
    with app.app_context():
        return {u.email.split("@")[0]: u.id for u in _db.session.scalars(sa.select(User))}


class AuthActions:
    def __init__(self, client):
        self.client = client

    def sign_in(self, email="worker@demo.example", password=TEST_PASSWORD, remember=True):
        token = csrf_from(self.client.get("/auth/sign-in").get_data(as_text=True))
        data = {"email": email, "password": password, "csrf_token": token}
        if remember:
            data["remember"] = "y"
        return self.client.post("/auth/sign-in", data=data)

    def api_token(self) -> str:
        return self.client.get("/api/v1/session").get_json()["csrf_token"]

    def sync(self, records, sent_at=None, token=None):
        token = token or self.api_token()
        body = {"sent_at": (sent_at or datetime.now(UTC)).isoformat(), "records": records}
        return self.client.post("/api/v1/sync", json=body, headers={"X-CSRFToken": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def incident_record(app):
    """A factory of valid incident records, as a phone would send them."""
    from app.org.models import Branch

    with app.app_context():
        branch_id = _db.session.scalar(sa.select(Branch.id).order_by(Branch.id))

    def make(**data_overrides):
        now = datetime.now(timezone(timedelta(hours=1)))
        data = {
            "occurred_at": (now - timedelta(minutes=20)).isoformat(),
            "branch_id": branch_id,
            "location": "entrance",
            "kinds": ["aggressive", "abusive_language"],
            "severity": "moderate",
            "description": "A man shouted at staff at the door and refused to leave.",
            "people_involved": "Man, about 40, grey coat",
            "police_informed": False,
            "actions_taken": ["asked_to_leave"],
        }
        record_id = data_overrides.pop("id", None) or str(uuid.uuid4())
        recorded_at = data_overrides.pop("recorded_at", None) or now.isoformat()
        data.update(data_overrides)
        return {"id": record_id, "type": "incident", "schema_version": 1, "recorded_at": recorded_at, "data": data}

    return make
