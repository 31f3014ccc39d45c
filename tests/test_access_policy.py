"""The access policy itself (app/access.py): who may see which reports, sessions and alerts.

Every person of a small organisation (two library services, supervisors of different teams, one
supervising no team) is asked the policy's questions against the same rows, recorded the way the
app records them (incident reports and lone-working sessions with an alarm each).
"""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from app import access
from app.auth.models import User
from app.extensions import db as _db
from app.incidents.models import Incident
from app.lone_working.models import Alert, LoneWorkingSession

PASSWORD = "correct horse battery"
REPORTERS = ["worker", "worker2", "river.worker", "river.sup", "other.worker"]
WORKERS = ["worker", "worker2", "river.worker", "other.worker"]


@pytest.fixture
def people(app_ctx):
    """Demo people plus a Riverside supervisor and worker, a supervisor of no team, and another service."""
    from app.auth.services import create_user
    from app.org.models import Team
    from app.org.services import add_branch, add_team, get_or_create_service

    riverside = _db.session.scalar(sa.select(Team).where(Team.name == "Riverside team"))
    service_id = riverside.branch.library_service_id
    create_user("river.sup@demo.example", "Rita River", PASSWORD, service_id, role="supervisor",
                supervised_team_ids=[riverside.id])
    create_user("river.worker@demo.example", "Ron River", PASSWORD, service_id, team_id=riverside.id)
    create_user("lonely.sup@demo.example", "Lou Nobody", PASSWORD, service_id, role="supervisor")
    other = get_or_create_service("Other Service")
    other_team = add_team(add_branch(other, "Other Central"), "Other team")
    create_user("other.admin@demo.example", "Otto Other", PASSWORD, other.id, role="admin")
    create_user("other.worker@demo.example", "Olga Other", PASSWORD, other.id, team_id=other_team.id)
    _db.session.commit()
    return {u.email.split("@")[0]: u for u in _db.session.scalars(sa.select(User))}


def _report_incident(user) -> None:
    from app.incidents.services import record_incident
    from app.org.models import Branch

    branch_id = _db.session.scalar(sa.select(Branch.id).where(Branch.library_service_id == user.library_service_id)
                                   .order_by(Branch.id))
    now = datetime.now(UTC)
    data = {"occurred_at": (now - timedelta(minutes=20)).isoformat(), "branch_id": branch_id,
            "location": "entrance", "kinds": ["aggressive"], "severity": "moderate",
            "description": f"Reported by {user.name}.", "police_informed": False, "actions_taken": []}
    assert record_incident(user, uuid.uuid4(), now, data)["status"] == "created"


def _start_session_and_raise_alarm(user) -> None:
    from app.lone_working.services import record_event

    session_id = uuid.uuid4()
    started = record_event(user, "session_started", session_id,
                           {"place_kind": "home_visit", "place": f"Visit by {user.name}", "duration_minutes": 120,
                            "check_in_interval_minutes": 30, "sequence": 0})
    assert started["status"] == "created"
    alarm = record_event(user, "alarm_raised", uuid.uuid4(), {"session_id": str(session_id), "sequence": 1})
    assert alarm["status"] == "created"


@pytest.fixture
def recorded(people):
    for name in REPORTERS:
        _report_incident(people[name])
    for name in WORKERS:
        _start_session_and_raise_alarm(people[name])
    return people


def _reporters_of_incidents_visible_to(user) -> list[str]:
    rows = _db.session.scalars(sa.select(User.email).join(Incident, Incident.reporter_id == User.id)
                               .where(access.incidents_visible_to(user)))
    return sorted(email.split("@")[0] for email in rows)


def _workers_of(model, where) -> list[str]:
    rows = _db.session.scalars(sa.select(User.email).join(model, model.worker_id == User.id).where(where))
    return sorted(email.split("@")[0] for email in rows)


@pytest.mark.parametrize("person, expected", [
    ("worker", ["worker"]),
    ("worker2", ["worker2"]),
    ("supervisor", ["worker", "worker2"]),
    ("river.sup", ["river.sup", "river.worker"]),  # their teams' reports, and their own (they have no team)
    ("lonely.sup", []),
    ("admin", ["river.sup", "river.worker", "worker", "worker2"]),
    ("other.admin", ["other.worker"]),
])
def test_incident_reports_staff_see_their_own_supervisors_their_teams_and_own_admins_their_service(
        recorded, person, expected):
    assert _reporters_of_incidents_visible_to(recorded[person]) == expected


@pytest.mark.parametrize("person, expected", [
    ("worker", []),
    ("supervisor", ["worker", "worker2"]),
    ("river.sup", ["river.worker"]),
    ("lonely.sup", []),
    ("admin", ["river.worker", "worker", "worker2"]),
    ("other.admin", ["other.worker"]),
])
def test_sessions_and_alerts_supervisors_see_their_teams_admins_their_service_staff_none(recorded, person, expected):
    user = recorded[person]
    assert _workers_of(LoneWorkingSession, access.sessions_supervised_by(user)) == expected
    assert _workers_of(Alert, access.alerts_supervised_by(user)) == expected


@pytest.mark.parametrize("person", WORKERS + ["supervisor", "admin"])
def test_own_sessions_are_the_workers_own_and_nobody_elses(recorded, person):
    expected = [person] if person in WORKERS else []
    assert _workers_of(LoneWorkingSession, access.own_sessions(recorded[person])) == expected


def test_only_signed_in_supervisors_and_admins_may_supervise(people):
    assert [name for name in ("worker", "worker2", "supervisor", "lonely.sup", "admin", "other.admin")
            if access.can_supervise(people[name])] == ["supervisor", "lonely.sup", "admin", "other.admin"]
    assert access.can_supervise(AnonymousUserMixin()) is False


def test_every_scoped_service_function_asks_the_policy(recorded):
    """The board, alert and session pages, past sessions and the report list all answer from app.access."""
    from app.incidents.services import visible_incidents
    from app.supervise.services import load_board, search_past_sessions, visible_alert, visible_session

    river_sup, supervisor = recorded["river.sup"], recorded["supervisor"]
    now = datetime.now(UTC)
    board_workers = sorted(row.worker.name for row in load_board(river_sup, now).rows)
    assert board_workers == ["Ron River"]
    assert [s.worker.name for s in search_past_sessions(river_sup, now)] == ["Ron River"]
    ron_alert = _db.session.scalar(sa.select(Alert).where(Alert.worker_id == recorded["river.worker"].id))
    assert visible_alert(river_sup, ron_alert.id) is not None
    assert visible_alert(supervisor, ron_alert.id) is None
    assert visible_session(supervisor, ron_alert.session_id) is None
    assert visible_session(river_sup, ron_alert.session_id) is not None
    assert len(_db.session.scalars(visible_incidents(river_sup)).all()) == 2


def test_templates_ask_the_policy_not_a_role_name():
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "app" / "templates"
    deciding_by_role = [str(path.relative_to(templates)) for path in sorted(templates.rglob("*.html"))
                        if "current_user.role" in path.read_text()]
    assert deciding_by_role == []


@pytest.mark.parametrize("email, shown, hidden", [
    ("admin@demo.example", ['id="nav-board"', "Review incidents"], ['id="nav-lone-working"']),
    ("supervisor@demo.example", ['id="nav-board"', "Review incidents"], ['id="nav-lone-working"']),
    ("worker@demo.example", ['id="nav-lone-working"', "My reports"], ['id="nav-board"', "Review incidents"]),
])
def test_the_home_page_and_navigation_follow_the_policy(client, auth, email, shown, hidden):
    auth.sign_in(email)
    home = client.get("/").get_data(as_text=True)
    assert [text for text in shown if text not in home] == []
    assert [text for text in hidden if text in home] == []
