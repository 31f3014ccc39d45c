"""The supervisor's service functions called directly (no HTTP): a moved clock, people, and workers' events.

Everything runs in one app context (`app_ctx`), on SQLite or on TEST_DATABASE_URL's PostgreSQL.
"""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db as _db

START = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # 10:00 in London


class MovedClock:
    """The server's clock (app.clock.utcnow), moved by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    moved = MovedClock(START)
    monkeypatch.setattr("app.clock.utcnow", moved)
    return moved


@pytest.fixture
def people(app_ctx):
    """name -> User: the demo people (supervisor of Central and Mobile), a Riverside supervisor and worker,
    and an admin and a worker of another library service."""
    from app.auth.models import User
    from app.auth.services import create_user
    from app.org.models import Team
    from app.org.services import add_branch, add_team, get_or_create_service

    password = "correct horse battery"
    riverside = _db.session.scalar(sa.select(Team).where(Team.name == "Riverside team"))
    service_id = riverside.branch.library_service_id
    create_user("river.sup@demo.example", "Rita River", password, service_id, role="supervisor",
                supervised_team_ids=[riverside.id])
    create_user("river.worker@demo.example", "Ron River", password, service_id, team_id=riverside.id)
    other = get_or_create_service("Other Service")
    create_user("other.admin@demo.example", "Otto Other", password, other.id, role="admin")
    create_user("other.worker@demo.example", "Olga Other", password, other.id,
                team_id=add_team(add_branch(other, "Other Central"), "Other team").id)
    _db.session.commit()
    return {user.email.split("@")[0]: user for user in _db.session.scalars(sa.select(User))}


class Worker:
    """What a worker's phone records, through the same ingest as the forms and the sync API."""

    def __init__(self, user, clock: MovedClock):
        self.user = user
        self.clock = clock
        self.sequence = 0

    def _record(self, kind: str, data: dict, record_id=None) -> uuid.UUID:
        from app.lone_working.services import record_event

        record_id = record_id or uuid.uuid4()
        if kind != "session_started":
            self.sequence += 1
            data = {**data, "sequence": self.sequence}
        result = record_event(self.user, kind, record_id, data, via="sync", recorded_at=self.clock.now)
        assert result["status"] == "created", result
        return record_id

    def start(self, place: str = "12 Elm Road", minutes: int = 240, interval: int = 30) -> uuid.UUID:
        self.sequence = 0
        return self._record("session_started", {"place_kind": "home_visit", "place": place,
                                                "duration_minutes": minutes, "check_in_interval_minutes": interval,
                                                "sequence": 0})

    def check_in(self, session_id) -> uuid.UUID:
        return self._record("check_in", {"session_id": str(session_id)})

    def alarm(self, session_id, message: str | None = None) -> uuid.UUID:
        data = {"session_id": str(session_id)}
        if message:
            data["message"] = message
        return self._record("alarm_raised", data)

    def finish(self, session_id, pin: str | None = None) -> uuid.UUID:
        data = {"session_id": str(session_id)}
        if pin:
            data["pin"] = pin
        return self._record("session_finished", data)


@pytest.fixture
def worker_of(people, clock):
    """worker_of("worker") -> that person's phone."""
    return lambda name: Worker(people[name], clock)


@pytest.fixture
def alert_of():
    """alert_of(session_id, kind="alarm") -> the session's alert of that kind."""
    from app.lone_working.models import Alert

    def find(session_id, kind="alarm"):
        return _db.session.scalar(sa.select(Alert).where(Alert.session_id == session_id, Alert.kind == kind))

    return find
