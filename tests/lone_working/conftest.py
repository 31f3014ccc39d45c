"""Lone-working fixtures: a controlled clock, phone-made event records, a real SMTP server."""
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from lw_helpers import Clock, Phone, SmtpServer, sign_in_client
from support import free_port

from app.extensions import db as _db


@pytest.fixture
def clock(monkeypatch):
    """A controlled server clock starting at 2026-06-10 09:00 UTC (10:00 in London)."""
    fake = Clock(datetime(2026, 6, 10, 9, 0, tzinfo=UTC))
    monkeypatch.setattr("app.clock.utcnow", fake)  # every module reads the time through app.clock
    return fake


@pytest.fixture
def phone(clock):
    return Phone(clock)


@pytest.fixture
def sync_as(app, clock):
    """sync_as(records, sent_at=None, email=worker): send a batch from that person's phone.

    Returns (statuses, results). Each person has their own signed-in test client.
    """
    clients = {}

    def send(records, sent_at=None, email="worker@demo.example"):
        if email not in clients:
            clients[email] = sign_in_client(app, email)
        client = clients[email]
        token = client.get("/api/v1/session").get_json()["csrf_token"]
        body = {"sent_at": (sent_at or clock.now).isoformat(), "records": records}
        response = client.post("/api/v1/sync", json=body, headers={"X-CSRFToken": token})
        assert response.status_code == 200, response.get_data(as_text=True)
        results = response.get_json()["results"]
        return [r["status"] for r in results], results

    return send


@pytest.fixture
def lw(app):
    """Read lone-working rows in a fresh app context (what a new request would see)."""
    from app.lone_working.models import Alert, AlertLevelFiring, LoneWorkingEvent, LoneWorkingSession, Notification

    class Reader:
        def session(self, session_id):
            with app.app_context():
                row = _db.session.get(LoneWorkingSession, uuid.UUID(str(session_id)))
                _db.session.expunge_all()
                return row

        def alerts(self, **filters):
            with app.app_context():
                rows = _db.session.scalars(sa.select(Alert).filter_by(**filters).order_by(Alert.id)).all()
                _db.session.expunge_all()
                return rows

        def firings(self, alert_id):
            with app.app_context():
                rows = _db.session.scalars(sa.select(AlertLevelFiring).where(AlertLevelFiring.alert_id == alert_id)
                                           .order_by(AlertLevelFiring.level)).all()
                _db.session.expunge_all()
                return rows

        def notifications(self, **filters):
            with app.app_context():
                rows = _db.session.scalars(sa.select(Notification).filter_by(**filters).order_by(Notification.id)).all()
                _db.session.expunge_all()
                return rows

        def events(self, session_id):
            with app.app_context():
                rows = _db.session.scalars(sa.select(LoneWorkingEvent).where(
                    LoneWorkingEvent.session_id == uuid.UUID(str(session_id)))).all()
                _db.session.expunge_all()
                return rows

        def sweep(self, send=None):
            from app.lone_working.escalation import run_sweep
            with app.app_context():
                return run_sweep(send=send)

    return Reader()


@pytest.fixture
def smtp(app):
    """A real SMTP server on 127.0.0.1 and a free port, with the app pointed at it (not started yet)."""
    server = SmtpServer(free_port())
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_STARTTLS=False, SMTP_USERNAME="",
                      SMTP_SENDER="alerts@safer.example", SMTP_TIMEOUT=5, PUBLIC_BASE_URL="https://safer.example")
    yield server
    server.stop()


