"""Lone-working events in, session state out.

The phone's events arrive through the sync API (and the no-JavaScript forms, through the same
`ingest_records`), in any order. Each store function validates, takes the session's lock,
adds the event, and recomputes the session's projection from all its events, ordered by the
phone's time and then the phone's per-session sequence number. Alarm and duress raise their
alert in the same transaction as the event, so an accepted alarm is never without its alert.
"""
import logging
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from app import clock
from app.access import own_sessions
from app.auth.models import password_method
from app.extensions import db
from app.lone_working import rules
from app.lone_working.escalation import insert_ignore, raise_alert
from app.lone_working.models import (
    AlertKind,
    EventKind,
    LoneWorkingEvent,
    LoneWorkingSession,
    SessionStatus,
    WorkerPins,
)
from app.lone_working.schemas import AlarmRaisedV1, CheckInV1, SessionExtendedV1, SessionFinishedV1, SessionStartedV1
from app.lone_working.settings import get_settings
from app.org.models import Branch
from app.sync.registry import RecordRejected, RecordType
from app.sync.services import IngestContext, ingest_records

log = logging.getLogger(__name__)

NOT_YOURS = "This session belongs to someone else."
WRONG_PIN = "That PIN is not right. Your session is still running."
PIN_NEEDED = "Enter your PIN to finish."


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["LOCAL_TIMEZONE"])


# --- recording events (the form posts and the sync API both end here) ---

def record_event(user, kind: str, record_id: uuid.UUID | str, data: dict, via: str = "form",
                 recorded_at: datetime | None = None) -> dict:
    """Record one lone-working event made by a form post; answers like the sync API."""
    recorded_at = recorded_at or clock.utcnow().astimezone(_zone())
    envelope = {"id": str(record_id), "type": kind, "schema_version": 1,
                "recorded_at": recorded_at.isoformat(), "data": data}
    return ingest_records(user, [envelope], sent_at=None, via=via)[0]


def _effective(receipt) -> datetime:
    """When the server believes the worker acted (see rules.effective_time)."""
    return rules.effective_time(receipt.recorded_at, receipt.received_at, receipt.clock_skew_seconds,
                                current_app.config["CLOCK_SKEW_FLAG_SECONDS"])


LOCATION_KEYS = ("latitude", "longitude", "location_accuracy_m")


def _location(data: dict) -> dict:
    """Where the phone was (every event may say; None when the worker did not allow it)."""
    return {key: data.get(key) for key in LOCATION_KEYS}


def store_session_started(context: IngestContext, receipt, data: dict) -> None:
    user = context.user
    if data.get("branch_id") is not None:
        service_id = db.session.scalar(sa.select(Branch.library_service_id).where(Branch.id == data["branch_id"]))
        if service_id != user.library_service_id:
            raise RecordRejected({"branch_id": ["Choose one of your library service's branches."]})
    stored = {key: data[key] for key in ("place_kind", "branch_id", "place", "check_in_interval_minutes", "note")}
    stored.update(_location(data))
    started = _effective(receipt)
    if data.get("planned_end_at"):
        end = rules.resolve_planned_end(data["planned_end_at"], started, _zone())
    else:
        end = rules.extended_end(None, started, data["duration_minutes"])
    if end <= started:
        raise RecordRejected({"planned_end_at": ["The planned end must be after the start."]})
    stored["planned_end_at"] = end.isoformat()
    stored["planned_end_as_given"] = data.get("planned_end_at") or f"+{data['duration_minutes']} min"
    _store_event(context, receipt, EventKind.SESSION_STARTED, receipt.id, data["sequence"], stored)


def store_check_in(context: IngestContext, receipt, data: dict) -> None:
    stored = _location(data)
    _store_event(context, receipt, EventKind.CHECK_IN, data["session_id"], data["sequence"], stored)


def store_session_extended(context: IngestContext, receipt, data: dict) -> None:
    stored = {"extend_by_minutes": data.get("extend_by_minutes"), **_location(data)}
    if data.get("planned_end_at"):
        end = rules.resolve_planned_end(data["planned_end_at"], _effective(receipt), _zone())
        if end <= _effective(receipt):
            raise RecordRejected({"planned_end_at": ["The new planned end must be in the future."]})
        stored["planned_end_at"] = end.isoformat()
    _store_event(context, receipt, EventKind.SESSION_EXTENDED, data["session_id"], data["sequence"], stored)


def store_session_finished(context: IngestContext, receipt, data: dict) -> None:
    """A finish; with the duress PIN it looks the same to the phone and raises a silent alert."""
    pin = data.get("pin")
    verdict = check_finish_pin(context.user, pin.reveal() if pin is not None else None)
    if verdict == "needed":
        raise RecordRejected({"pin": [PIN_NEEDED]})
    if verdict == "wrong":
        raise RecordRejected({"pin": [WRONG_PIN]})
    stored = _location(data)
    event = _store_event(context, receipt, EventKind.SESSION_FINISHED, data["session_id"], data["sequence"], stored,
                         finish_pin=verdict)
    if verdict == "duress":
        _raise_worker_alert(AlertKind.DURESS, event, context, data)


def store_alarm_raised(context: IngestContext, receipt, data: dict) -> None:
    """"I need help": the alert is raised at once, whatever else is open."""
    stored = {"message": data["message"], **_location(data)}
    event = _store_event(context, receipt, EventKind.ALARM_RAISED, data.get("session_id"), data["sequence"], stored)
    _raise_worker_alert(AlertKind.ALARM, event, context, data)


def _raise_worker_alert(kind: str, event: LoneWorkingEvent, context: IngestContext, data: dict) -> None:
    user = context.user
    session = db.session.get(LoneWorkingSession, event.session_id) if event.session_id else None
    raise_alert(kind=kind, dedupe_key=f"{kind}:{event.id}", worker_id=user.id,
                library_service_id=session.library_service_id if session else user.library_service_id,
                team_id=session.team_id if session else user.team_id,
                session_id=event.session_id, cause_at=event.effective_at, now=context.received_at,
                source_event_id=event.id,
                latitude=_event_or_session_coordinate(data, session, "latitude"),
                longitude=_event_or_session_coordinate(data, session, "longitude"))


def _event_or_session_coordinate(data: dict, session, name: str):
    """The event's own coordinate when the phone had one, else the session's."""
    if data.get(name) is not None:
        return data.get(name)
    return getattr(session, name) if session else None


def _store_event(context: IngestContext, receipt, kind: str, session_id, sequence: int, stored: dict,
                 finish_pin: str | None = None) -> LoneWorkingEvent:
    """Add the event under its session's lock and recompute the session. No writes before checks.

    The sync service has inserted the receipt already, in this record's own savepoint; the
    event is flushed when that savepoint is released.
    """
    user = context.user
    with db.session.no_autoflush:
        if session_id is not None:
            _lock_session(session_id, user, context.received_at)
        event = LoneWorkingEvent(
            id=receipt.id, session_id=session_id, worker_id=user.id, kind=kind, sequence=sequence,
            recorded_at=receipt.recorded_at, recorded_offset_minutes=receipt.recorded_offset_minutes,
            received_at=receipt.received_at,
            effective_at=_effective(receipt),
            clock_flag=receipt.clock_flag, data=stored, finish_pin=finish_pin)
        db.session.add(event)
        if session_id is not None:
            project_session(session_id, now=context.received_at)
    return event


def _lock_session(session_id: uuid.UUID, user, now: datetime) -> None:
    """Make sure the session exists and is this worker's, then hold its row lock.

    The first event of a session (whichever arrives first) creates its row. The UPDATE takes
    the row lock on PostgreSQL and the write lock on SQLite, so two batches for one session
    recompute its projection one after the other, each seeing the other's events.
    """
    table = LoneWorkingSession.__table__
    owner = db.session.scalar(sa.select(table.c.worker_id).where(table.c.id == session_id))
    if owner is None:
        insert_ignore(table, {
            "id": session_id, "worker_id": user.id, "library_service_id": user.library_service_id,
            "team_id": user.team_id, "created_at": now, "updated_at": now, "status": SessionStatus.ACTIVE.value,
            "has_start": False, "place_kind": "other", "place": "", "note": "",
            "check_in_interval_minutes": get_settings(user.library_service_id).default_check_in_minutes,
            "started_offset_minutes": 0, "last_check_in_offset_minutes": 0, "last_contact_offset_minutes": 0,
            "event_count": 0, "last_sequence": 0,
        }, ["id"])
        owner = db.session.scalar(sa.select(table.c.worker_id).where(table.c.id == session_id))
    if owner != user.id:
        raise RecordRejected({"session_id": [NOT_YOURS]})
    db.session.execute(sa.update(table).where(table.c.id == session_id).values(updated_at=now))


def project_session(session_id: uuid.UUID, now: datetime) -> LoneWorkingSession:
    """Recompute a session's state from all its events. Deterministic: same events, same state.

    Order: phone time, then the phone's sequence number, then id. Deadlines use each event's
    effective time (skew-corrected, never later than received), so a phone whose clock is
    wrong can neither hide an overdue session nor cause a false one.
    """
    with db.session.no_autoflush:
        session = db.session.get(LoneWorkingSession, session_id, populate_existing=True)
        events = _events_in_order(session_id)
    settings = get_settings(session.library_service_id)
    start = next((e for e in events if e.kind == EventKind.SESSION_STARTED), None)
    session.has_start = start is not None
    if start is not None:
        d = start.data
        session.started_at = start.recorded_at
        session.started_offset_minutes = start.recorded_offset_minutes
        session.place_kind = d.get("place_kind") or "other"
        session.branch_id = d.get("branch_id")
        session.place = d.get("place") or ""
        session.note = d.get("note") or ""
        session.check_in_interval_minutes = d.get("check_in_interval_minutes") or settings.default_check_in_minutes
        planned_end = datetime.fromisoformat(d["planned_end_at"])
        anchor = start.effective_at
    else:
        # Events before their start: watch the worker with the service's defaults meanwhile.
        session.check_in_interval_minutes = settings.default_check_in_minutes
        planned_end = None
        anchor = min(e.effective_at for e in events)

    last_check_in = finish = None
    last_location = (start.data.get("latitude"), start.data.get("longitude")) if start else (None, None)
    for event in events:
        if event.kind == EventKind.CHECK_IN:
            last_check_in = event
            anchor = max(anchor, event.effective_at)
        elif event.kind == EventKind.SESSION_EXTENDED:
            if event.data.get("planned_end_at"):
                planned_end = datetime.fromisoformat(event.data["planned_end_at"])
            else:
                planned_end = rules.extended_end(planned_end, event.effective_at, event.data["extend_by_minutes"])
        elif event.kind == EventKind.SESSION_FINISHED and finish is None:
            finish = event
        if event.data.get("latitude") is not None:
            last_location = (event.data["latitude"], event.data["longitude"])

    last = events[-1]
    session.planned_end_at = planned_end
    session.latitude, session.longitude = last_location
    session.last_check_in_at = last_check_in.recorded_at if last_check_in else None
    session.last_check_in_offset_minutes = last_check_in.recorded_offset_minutes if last_check_in else 0
    session.last_check_in_received_at = last_check_in.received_at if last_check_in else None
    session.last_contact_at = last.recorded_at
    session.last_contact_offset_minutes = last.recorded_offset_minutes
    session.last_contact_received_at = max(e.received_at for e in events)
    session.status = (SessionStatus.FINISHED if finish is not None else SessionStatus.ACTIVE).value
    session.finished_at = finish.recorded_at if finish else None
    session.finished_received_at = finish.received_at if finish else None
    session.next_check_in_due_at = rules.next_check_in_due(anchor, session.check_in_interval_minutes)
    session.deadline_at = rules.deadline(session.next_check_in_due_at, planned_end)
    session.overdue_at = (rules.overdue_time(session.deadline_at, settings.grace_minutes)
                          if finish is None else None)
    flagged = [e.clock_flag for e in events if e.clock_flag]
    session.clock_flag = flagged[-1] if flagged else None
    session.event_count = len(events)
    session.last_sequence = max(e.sequence for e in events)
    session.updated_at = now
    return session


def _events_in_order(session_id: uuid.UUID) -> list[LoneWorkingEvent]:
    """The session's stored events and those of this transaction not yet flushed, in order."""
    by_id = {e.id: e for e in db.session.scalars(
        sa.select(LoneWorkingEvent).where(LoneWorkingEvent.session_id == session_id))}
    for pending in db.session.new:
        if isinstance(pending, LoneWorkingEvent) and pending.session_id == session_id:
            by_id[pending.id] = pending
    return sorted(by_id.values(), key=lambda e: (e.recorded_at, e.sequence, str(e.id)))


def _session_lock_key(record_id: uuid.UUID, data: dict) -> str:
    """Events are stored session by session, in session id order: concurrent batches lock alike."""
    if "session_id" in data:
        return str(data["session_id"] or "")
    return str(record_id)  # session_started: the record's id is the session's


def lone_working_record_types() -> list[RecordType]:
    """The record types this domain stores (registered by the application factory): one per event kind."""
    return [
        RecordType(name=kind.value, schemas={1: schema}, store=store, description=description,
                   lock_key=_session_lock_key)
        for kind, schema, store, description in (
            (EventKind.SESSION_STARTED, SessionStartedV1, store_session_started,
             "A lone-working session starts; the record's id is the session's id."),
            (EventKind.CHECK_IN, CheckInV1, store_check_in,
             "The worker's \"I'm OK\" (the only thing that counts as a check-in)."),
            (EventKind.SESSION_EXTENDED, SessionExtendedV1, store_session_extended, "The planned end moves later."),
            (EventKind.SESSION_FINISHED, SessionFinishedV1, store_session_finished,
             "The worker finishes, safe (a PIN is needed when the worker has set one)."),
            (EventKind.ALARM_RAISED, AlarmRaisedV1, store_alarm_raised,
             "\"I need help\": raises an alarm alert at once."),
        )
    ]


# --- PINs ---

def set_worker_pins(user, finish_pin: str, duress_pin: str) -> None:
    """Set (or change) a worker's finish and duress PINs, hashed like passwords."""
    for pin in (finish_pin, duress_pin):
        if not pin.isdigit() or not 4 <= len(pin) <= 8:
            raise ValueError("Each PIN is 4 to 8 digits.")
    if finish_pin == duress_pin:
        raise ValueError("The duress PIN must be different from the finish PIN.")
    pins = db.session.get(WorkerPins, user.id) or WorkerPins(user_id=user.id)
    pins.finish_pin_hash = generate_password_hash(finish_pin, method=password_method())
    pins.duress_pin_hash = generate_password_hash(duress_pin, method=password_method())
    pins.updated_at = clock.utcnow()
    db.session.add(pins)
    db.session.commit()
    log.info("user %s set finish and duress PINs", user.id)


def clear_worker_pins(user) -> None:
    pins = db.session.get(WorkerPins, user.id)
    if pins is not None:
        db.session.delete(pins)
        db.session.commit()


def has_pins(user) -> bool:
    return db.session.scalar(sa.select(WorkerPins.user_id).where(WorkerPins.user_id == user.id)) is not None


def check_finish_pin(user, pin: str | None) -> str:
    """"none" (no PINs set), "normal", "duress", "needed" or "wrong".

    Both hashes are always checked, so the answer takes as long whichever PIN was typed.
    """
    pins = db.session.get(WorkerPins, user.id)
    if pins is None:
        return "none"
    if not pin:
        return "needed"
    normal = check_password_hash(pins.finish_pin_hash, pin)
    duress = check_password_hash(pins.duress_pin_hash, pin)
    if duress:
        return "duress"
    return "normal" if normal else "wrong"


# --- what the worker's pages read ---

def current_session(user) -> LoneWorkingSession | None:
    """The worker's most recent active session, if any."""
    return db.session.scalar(sa.select(LoneWorkingSession).where(
        own_sessions(user), LoneWorkingSession.status == SessionStatus.ACTIVE)
        .order_by(LoneWorkingSession.created_at.desc()).limit(1))


def recent_places(user, limit: int = 3) -> list[LoneWorkingSession]:
    """The worker's last sessions with distinct places, for "start again" in one tap."""
    rows = db.session.scalars(sa.select(LoneWorkingSession).where(
        own_sessions(user), LoneWorkingSession.has_start.is_(True))
        .order_by(LoneWorkingSession.created_at.desc()).limit(20)).all()
    seen, result = set(), []
    for row in rows:
        key = (row.place_kind, row.branch_id, row.place)
        if key not in seen:
            seen.add(key)
            result.append(row)
        if len(result) == limit:
            break
    return result


def session_duration_minutes(session: LoneWorkingSession) -> int:
    """How long a past session was planned to last, for starting it again."""
    if session.started_at is None or session.planned_end_at is None:
        return 60
    minutes = int((session.planned_end_at - session.started_at).total_seconds() // 60)
    return max(5, min(minutes, 7 * 24 * 60))
