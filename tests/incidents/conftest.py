"""Fixtures for incident tests: people in and outside the demo service, and reports made directly."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.auth.services import create_user
from app.extensions import db as _db
from app.org.models import Branch, Team
from app.org.services import add_branch, add_team, get_or_create_service

OTHER_PASSWORD = "another long password"


@pytest.fixture
def people(app):
    """Adds riverside@demo.example (staff in a team the demo supervisor does not supervise) and a
    second library service with admin@elsewhere.example; answers {"users": {email: id}, "branches": {name: id}}."""
    with app.app_context():
        demo_service_id = _db.session.scalar(sa.select(User.library_service_id)
                                             .where(User.email == "worker@demo.example"))
        riverside_team = _db.session.scalar(sa.select(Team).join(Branch).where(Branch.name == "Riverside Branch"))
        create_user("riverside@demo.example", "Rita Riverside", OTHER_PASSWORD, demo_service_id,
                    team_id=riverside_team.id)
        elsewhere = get_or_create_service("Elsewhere Libraries")
        far_branch = add_branch(elsewhere, "Far Away Library")
        far_team = add_team(far_branch, "Far team")
        _db.session.commit()
        create_user("admin@elsewhere.example", "Otto Other", OTHER_PASSWORD, elsewhere.id,
                    role="admin", team_id=far_team.id)
        users = {u.email: u.id for u in _db.session.scalars(sa.select(User))}
        branches = {b.name: b.id for b in _db.session.scalars(sa.select(Branch))}
        _db.session.remove()
    return {"users": users, "branches": branches}


@pytest.fixture
def report(app):
    """report(email, hours_ago=1, **data) records an incident through the service (no HTTP); returns its id."""
    from app.incidents.services import record_incident

    def make(email="worker@demo.example", hours_ago: float = 1, **data_overrides) -> str:
        with app.app_context():
            user = _db.session.scalar(sa.select(User).where(User.email == email))
            branch_id = data_overrides.pop("branch_id", None) or _db.session.scalar(
                sa.select(Branch.id).where(Branch.library_service_id == user.library_service_id).order_by(Branch.id))
            now = datetime.now(timezone(timedelta(hours=1)))
            data = {"occurred_at": (now - timedelta(hours=hours_ago)).isoformat(), "branch_id": branch_id,
                    "location": "counter", "kinds": ["disruptive"], "severity": "low",
                    "description": f"Reported by {email}, {hours_ago} h ago."}
            data.update(data_overrides)
            record_id = uuid.uuid4()
            result = record_incident(user, record_id, now, data, via="sync")
            assert result["status"] == "created", result
            _db.session.remove()
            return str(record_id)

    return make


@pytest.fixture
def db_count(app):
    """db_count(Model) -> rows in the table, read in a fresh app context."""

    def count(model):
        with app.app_context():
            return _db.session.scalar(sa.select(sa.func.count()).select_from(model))

    return count
