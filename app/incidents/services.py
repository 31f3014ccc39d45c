"""Recording and reading incident reports."""
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.access import incidents_visible_to
from app.extensions import db
from app.incidents.models import Incident, IncidentAccess, IncidentKind
from app.incidents.schemas import IncidentDataV1
from app.org.models import Branch
from app.sync.registry import RecordRejected, RecordType
from app.sync.services import IngestContext, ingest_records

# A report may say it happened a little after the phone recorded it (clocks, rounding); not more.
OCCURRED_AFTER_RECORDED_TOLERANCE = timedelta(minutes=10)


def record_incident(reporter, record_id: uuid.UUID | str, recorded_at: datetime, data: dict,
                    via: str = "form") -> dict:
    """Record one incident report; the form post and the sync API both end up here.

    Answers like the sync API: {"status": "created" | "duplicate" | "rejected", "errors": {...}}.
    """
    envelope = {"id": str(record_id), "type": "incident", "schema_version": 1,
                "recorded_at": recorded_at.isoformat(), "data": data}
    return ingest_records(reporter, [envelope], sent_at=None, via=via)[0]


def incident_rows(context: IngestContext, receipt, data: dict) -> list:
    """The rows of one incident report, or RecordRejected when it breaks a rule of the service.

    Only reads (a branch's service, cached for the batch); the sync service inserts the rows.
    """
    user = context.user
    if _branch_service(context, data["branch_id"]) != user.library_service_id:
        raise RecordRejected({"branch_id": ["Choose one of your library service's branches."]})
    if data["occurred_at"] > receipt.recorded_at + OCCURRED_AFTER_RECORDED_TOLERANCE:
        raise RecordRejected({"occurred_at": ["This time is in the future. Say when it happened."]})

    occurred_at: datetime = data["occurred_at"]
    incident = {
        "id": receipt.id,
        "reporter_id": user.id,
        "library_service_id": user.library_service_id,
        "team_id": user.team_id,
        "branch_id": data["branch_id"],
        "occurred_at": occurred_at,
        "occurred_offset_minutes": int(occurred_at.utcoffset().total_seconds() // 60),
        "actions_taken": list(data["actions_taken"]),
        **{name: data[name] for name in INCIDENT_FIELDS},
    }
    kinds = [{"incident_id": receipt.id, "kind": kind} for kind in data["kinds"]]
    return [(Incident.__table__, [incident]), (IncidentKind.__table__, kinds)]


# Fields copied from the record's data as they are.
INCIDENT_FIELDS = ("location", "location_detail", "severity", "description", "people_involved", "witnesses",
                   "injuries", "police_informed", "police_reference", "cctv_footage", "bodycam_footage",
                   "debrief_wanted")


def _branch_service(context: IngestContext, branch_id: int) -> int | None:
    """The library service a branch belongs to (None if there is no such branch), once per batch."""
    services = context.cache.setdefault("branch_services", {})
    if branch_id not in services:
        services[branch_id] = db.session.scalar(
            sa.select(Branch.library_service_id).where(Branch.id == branch_id))
    return services[branch_id]


def incident_record_types() -> list[RecordType]:
    """The record types this domain stores (registered by the application factory)."""
    return [RecordType(
        name="incident",
        schemas={1: IncidentDataV1},
        rows=incident_rows,
        description="An incident report (what happened, when and where, who was involved, what was done).",
    )]


def visible_incidents(user) -> sa.Select:
    """The reports this user may see (app.access): staff their own, supervisors their teams', admins their
    service's."""
    return sa.select(Incident).where(incidents_visible_to(user))


def list_incidents(user, branch_id: int | None = None, kind: str | None = None,
                   date_from: datetime | None = None, date_to: datetime | None = None,
                   page: int = 1, per_page: int = 50):
    """A page of the reports this user may see, newest first, filtered."""
    query = visible_incidents(user)
    if branch_id:
        query = query.where(Incident.branch_id == branch_id)
    if kind:
        query = query.where(Incident.id.in_(sa.select(IncidentKind.incident_id).where(IncidentKind.kind == kind)))
    if date_from:
        query = query.where(Incident.occurred_at >= date_from)
    if date_to:
        query = query.where(Incident.occurred_at < date_to)
    query = query.order_by(Incident.occurred_at.desc(), Incident.id)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def open_incident(user, incident_id: uuid.UUID) -> Incident | None:
    """One report, if this user may see it; the opening is recorded (reports hold personal data)."""
    incident = db.session.scalar(visible_incidents(user).where(Incident.id == incident_id))
    if incident is None:
        return None
    if incident.reporter_id != user.id:
        db.session.add(IncidentAccess(incident_id=incident.id, user_id=user.id, action="view"))
        db.session.commit()
    return incident
