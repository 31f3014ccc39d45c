"""The worker's own lone-working state as JSON: GET /api/v1/lone-working/session.

The phone shows this projection (the server's own view, decided on the server's clock) plus
only what still waits in its own outbox; it never reads the HTML page for it. Same rules as the
sync API: signed out is 401 JSON before anything else, never a redirect.
"""
import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from flask_login import current_user

from app import clock
from app.errors import api_error
from app.extensions import db
from app.lone_working.api_schemas import WorkerSessionStateSchema
from app.lone_working.models import ALERT_KINDS, Alert, LoneWorkingSession
from app.lone_working.services import current_session
from app.lone_working.settings import get_settings

bp = Blueprint("lone_working_api", __name__)

# A duress alert is silent: whoever holds the phone must never learn that one was raised.
HIDDEN_FROM_WORKER = ("duress",)
_state_schema = WorkerSessionStateSchema()


@bp.before_request
def require_sign_in():
    if not current_user.is_authenticated:
        return api_error(401, "signed_out", "You are signed out. Sign in again to see your lone-working session.")
    return None


def _contact(at, offset_minutes, received_at):
    if at is None:
        return None
    return {"phone_time": at, "phone_offset_minutes": offset_minutes or 0, "received_at": received_at}


def _worker_alert(session: LoneWorkingSession) -> dict | None:
    """The session's open alert (the latest one if none is open), as the worker may see it."""
    alert = db.session.scalar(
        sa.select(Alert).where(Alert.session_id == session.id, Alert.kind.not_in(HIDDEN_FROM_WORKER))
        .order_by(Alert.resolved_at.is_not(None), Alert.raised_at.desc(), Alert.id.desc()).limit(1))
    if alert is None:
        return None
    return {"kind": str(alert.kind), "kind_label": ALERT_KINDS.get(alert.kind, str(alert.kind)),
            "raised_at": alert.raised_at,
            "acknowledged": alert.acknowledged_at is not None,
            "acknowledged_by": alert.acknowledged_by.name if alert.acknowledged_by is not None else None,
            "acknowledged_at": alert.acknowledged_at,
            "resolved": alert.resolved_at is not None, "resolved_at": alert.resolved_at}


def session_projection(session: LoneWorkingSession) -> dict:
    return {
        "id": session.id, "status": str(session.status), "place_label": session.place_label,
        "started_at": session.started_at, "planned_end_at": session.planned_end_at,
        "check_in_interval_minutes": session.check_in_interval_minutes,
        "next_check_in_due_at": session.next_check_in_due_at,
        "deadline_at": session.deadline_at, "overdue_at": session.overdue_at,
        "last_sequence": session.last_sequence,
        "last_check_in": _contact(session.last_check_in_at, session.last_check_in_offset_minutes,
                                  session.last_check_in_received_at),
        "last_contact": _contact(session.last_contact_at, session.last_contact_offset_minutes,
                                 session.last_contact_received_at),
        "alert": _worker_alert(session),
    }


@bp.get("/lone-working/session")
def worker_session():
    """The signed-in worker's running session (or null), the service's settings and the server's time."""
    session = current_session(current_user)
    settings = get_settings(current_user.library_service_id)
    return jsonify(_state_schema.dump({
        "session": session_projection(session) if session is not None else None,
        "settings": {"grace_minutes": settings.grace_minutes, "due_soon_minutes": settings.due_soon_minutes,
                     "default_check_in_minutes": settings.default_check_in_minutes,
                     "clock_skew_limit_seconds": current_app.config["CLOCK_SKEW_FLAG_SECONDS"]},
        "server_time": clock.utcnow(),
    }))
