"""Who may see what, in one place (docs/design.md, security and privacy).

- staff see their own incident reports and their own lone-working sessions, and nobody else's;
- a supervisor sees the reports, sessions and alerts of the teams they supervise (and their own reports);
- an admin sees everything in their own library service, never another service's.

Each rule is a SQL filter (put it in a WHERE), so lists, single pages, the board and its counts
all ask the database the same question, and a row out of scope is simply not found (a 404, which
does not even say that it exists).
"""
import sqlalchemy as sa

from app.incidents.models import Incident
from app.lone_working.models import Alert, LoneWorkingSession


def can_supervise(user) -> bool:
    """May this person open the board, alerts, timelines and other people's reports at all?"""
    return bool(user.is_authenticated and (user.is_admin or user.is_supervisor))


def _supervised_team_ids(user) -> list[int]:
    return [team.id for team in user.supervised_teams]


def _team_or_service(user, team_column, service_column):
    """An admin: their service. A supervisor: their teams (none supervised: nothing). Staff: nothing."""
    if user.is_admin:
        return service_column == user.library_service_id
    if user.is_supervisor:
        team_ids = _supervised_team_ids(user)
        return team_column.in_(team_ids) if team_ids else sa.false()
    return sa.false()


def incidents_visible_to(user):
    """The incident reports this person may read: their own, and those of the people they supervise."""
    if user.is_admin:
        return Incident.library_service_id == user.library_service_id
    own = Incident.reporter_id == user.id
    if user.is_supervisor:
        team_ids = _supervised_team_ids(user)
        return sa.or_(Incident.team_id.in_(team_ids), own) if team_ids else own
    return own


def sessions_supervised_by(user):
    """The lone-working sessions on this person's board, timelines and past-session search."""
    return _team_or_service(user, LoneWorkingSession.team_id, LoneWorkingSession.library_service_id)


def alerts_supervised_by(user):
    """The alerts this person sees and may acknowledge, resolve and add notes to."""
    return _team_or_service(user, Alert.team_id, Alert.library_service_id)


def own_sessions(user):
    """The worker's own lone-working sessions (the only ones the worker's own pages and API show)."""
    return LoneWorkingSession.worker_id == user.id
