"""Raising and escalating alerts, and the sweep that does it from the server's clock alone.

Safe when many machines sweep at once, on PostgreSQL and SQLite alike:
- an alert is raised by INSERT ... ON CONFLICT DO NOTHING on its unique `dedupe_key`, so it
  exists once whoever raises it; only the one who inserted it fires its first level;
- a level fires by a compare-and-set UPDATE (`WHERE level = n AND not acknowledged ...`):
  of two sweeps, one updates a row and fires the level, the other updates none;
- each level's firing and each email are rows with unique keys, and an email is claimed by
  a compare-and-set before it is sent (see `send_due_notifications`).
Each alert is handled in its own short transaction whose first statement is a write, so on
SQLite the write lock is taken before anything is read that the decision depends on.
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app import clock
from app.auth.models import User
from app.extensions import db
from app.lone_working import notify
from app.lone_working.models import (
    Alert,
    AlertKind,
    AlertLevelFiring,
    LoneWorkingSession,
    Notification,
    NotificationStatus,
    ServiceContact,
    SessionStatus,
)
from app.lone_working.rules import next_escalation_time, retry_delay
from app.lone_working.settings import Level, escalation_chain
from app.org.models import team_supervisors

log = logging.getLogger(__name__)

# A claimed email not finished within this time (the sweep died) may be claimed again.
CLAIM_SECONDS = 120
BATCH = 500
RAISE_GROUP = 50


def insert_ignore(table: sa.Table, values: dict, conflict_columns: list[str], returning=None):
    """INSERT ... ON CONFLICT DO NOTHING (PostgreSQL and SQLite); the returned column or None."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the app supports these two
        raise RuntimeError(f"unsupported database {dialect}")
    statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    if returning is not None:
        return db.session.execute(statement.returning(returning)).scalar_one_or_none()
    return db.session.execute(statement).rowcount == 1


def raise_alert(*, kind: str, dedupe_key: str, worker_id: int, library_service_id: int, team_id: int | None,
                session_id, cause_at: datetime, now: datetime, source_event_id=None,
                latitude: float | None = None, longitude: float | None = None) -> int | None:
    """Raise an alert once and fire its first level; the new alert's id, or None if it existed.

    Does not commit: the caller's transaction (a sync batch, or one sweep step) does.
    """
    alert_id = insert_ignore(Alert.__table__, {
        "dedupe_key": dedupe_key, "kind": kind, "library_service_id": library_service_id, "team_id": team_id,
        "worker_id": worker_id, "session_id": session_id, "source_event_id": source_event_id,
        "cause_at": cause_at, "raised_at": now, "latitude": latitude, "longitude": longitude,
        "level": 1, "next_escalation_at": None,
    }, ["dedupe_key"], returning=Alert.__table__.c.id)
    if alert_id is None:
        return None
    chain = escalation_chain(library_service_id)
    next_at = _fire_level(alert_id, chain, 1, team_id, library_service_id, now)
    db.session.execute(sa.update(Alert.__table__).where(Alert.__table__.c.id == alert_id)
                       .values(next_escalation_at=next_at))
    log.warning("alert %s raised: %s for worker %s (session %s)", alert_id, kind, worker_id, session_id)
    return alert_id


def _fire_level(alert_id: int, chain: tuple[Level, ...], level_no: int, team_id: int | None,
                library_service_id: int, now: datetime) -> datetime | None:
    """Record that `level_no` fired, queue its emails; when the next level is due (or None)."""
    level = next((lv for lv in chain if lv.level == level_no), None)
    recipients = _recipients(level, team_id, library_service_id) if level else []
    insert_ignore(AlertLevelFiring.__table__, {
        "alert_id": alert_id, "level": level_no, "level_name": level.name if level else "",
        "fired_at": now, "recipient_count": len(recipients)}, ["alert_id", "level"])
    for email, name in recipients:
        insert_ignore(Notification.__table__, {
            "alert_id": alert_id, "level": level_no, "recipient_email": email, "recipient_name": name,
            "status": NotificationStatus.PENDING.value, "attempts": 0, "created_at": now, "next_attempt_at": now},
            ["alert_id", "level", "recipient_email"])
    following = next((lv for lv in chain if lv.level == level_no + 1), None)
    if following is None:
        return None
    if not recipients:
        # Nobody to tell at this level: go straight on to the next one.
        log.warning("alert %s: level %s has no one to notify; escalating at once", alert_id, level_no)
        return now
    return next_escalation_time(now, following.delay_minutes)


def _recipients(level: Level, team_id: int | None, library_service_id: int) -> list[tuple[str, str]]:
    """(email, name) of the people a level reaches, each once."""
    if level.audience == "team_supervisors":
        query = sa.select(User.email, User.name).where(User.active.is_(True))
        if team_id is not None:
            query = query.join(team_supervisors, team_supervisors.c.user_id == User.id).where(
                team_supervisors.c.team_id == team_id)
        else:  # a worker with no team: the service's admins watch over them
            query = query.where(User.library_service_id == library_service_id, User.role == "admin")
        rows = db.session.execute(query.order_by(User.id)).all()
    else:
        rows = db.session.execute(sa.select(ServiceContact.email, ServiceContact.name).where(
            ServiceContact.library_service_id == library_service_id,
            ServiceContact.escalation_level == level.level, ServiceContact.email != "")
            .order_by(ServiceContact.position, ServiceContact.id)).all()
    seen, result = set(), []
    for email, name in rows:
        key = email.strip().lower()
        if key and key not in seen:
            seen.add(key)
            result.append((key, name))
    return result


def raise_overdue_alerts(now: datetime) -> int:
    """Raise an overdue alert for each active session past its deadline plus grace.

    One open overdue alert covers a session; a resolved one is never raised again for the
    same missed deadline.
    """
    s = LoneWorkingSession
    covered = sa.select(Alert.id).where(
        Alert.session_id == s.id, Alert.kind == AlertKind.OVERDUE,
        sa.or_(Alert.resolved_at.is_(None), Alert.cause_at == s.deadline_at)).exists()
    rows = db.session.execute(
        sa.select(s.id, s.worker_id, s.library_service_id, s.team_id, s.deadline_at, s.latitude, s.longitude)
        .where(s.status == SessionStatus.ACTIVE, s.overdue_at <= now, ~covered)
        .order_by(s.overdue_at, s.id).limit(BATCH)).all()
    db.session.commit()
    raised = 0
    # Committed in small groups (one fsync per group); every sweep inserts in the same order,
    # so two sweeps wait for each other rather than deadlock.
    for index, row in enumerate(rows, 1):
        alert_id = raise_alert(
            kind=AlertKind.OVERDUE.value, dedupe_key=f"overdue:{row.id}:{row.deadline_at.isoformat()}",
            worker_id=row.worker_id, library_service_id=row.library_service_id, team_id=row.team_id,
            session_id=row.id, cause_at=row.deadline_at, now=now,
            latitude=row.latitude, longitude=row.longitude)
        raised += alert_id is not None
        if index % RAISE_GROUP == 0:
            db.session.commit()
    db.session.commit()
    return raised


def escalate_due_alerts(now: datetime) -> int:
    """Fire the next level of each alert nobody acknowledged in time (compare-and-set)."""
    table = Alert.__table__
    fired = 0
    for _ in range(10):  # levels with nobody to notify escalate at once; chains are short
        due = db.session.execute(
            sa.select(table.c.id, table.c.level, table.c.team_id, table.c.library_service_id)
            .where(table.c.resolved_at.is_(None), table.c.acknowledged_at.is_(None),
                   table.c.next_escalation_at <= now)
            .order_by(table.c.next_escalation_at).limit(BATCH)).all()
        db.session.commit()
        if not due:
            break
        chains: dict[int, tuple[Level, ...]] = {}
        for row in due:
            won = db.session.execute(
                sa.update(table).where(
                    table.c.id == row.id, table.c.level == row.level, table.c.resolved_at.is_(None),
                    table.c.acknowledged_at.is_(None), table.c.next_escalation_at <= now)
                .values(level=row.level + 1, next_escalation_at=None)).rowcount == 1
            if not won:
                db.session.rollback()
                continue
            chain = chains.get(row.library_service_id) or escalation_chain(row.library_service_id)
            chains[row.library_service_id] = chain
            next_at = _fire_level(row.id, chain, row.level + 1, row.team_id, row.library_service_id, now)
            db.session.execute(sa.update(table).where(table.c.id == row.id).values(next_escalation_at=next_at))
            db.session.commit()
            fired += 1
            log.warning("alert %s escalated to level %s", row.id, row.level + 1)
    return fired


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0  # failed this time, will be retried with backoff
    undeliverable: int = 0  # failed for a reason retrying cannot fix: never retried
    unconfigured: int = 0
    errors: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why each undeliverable email was not sent


# Waiting to be sent: never tried, retrying after a failure, or left unsent while mail was not
# configured (sent once it is, if the alert is still open).
DUE_STATUSES = (NotificationStatus.PENDING, NotificationStatus.FAILED, NotificationStatus.UNCONFIGURED)


def send_due_notifications(now: datetime, send=None) -> SendReport:
    """Send each due email once, recording its real outcome.

    A failure retrying could fix (the server down, a timeout, a 4xx) is retried with backoff;
    one it cannot (`notify.permanent_reason`) is recorded "undeliverable" at once, never retried.
    """
    report = SendReport()
    config = current_app.config
    table = Notification.__table__
    if not notify.mail_configured(config):
        report.unconfigured = db.session.execute(
            sa.update(table).where(table.c.status == NotificationStatus.PENDING)
            .values(status=NotificationStatus.UNCONFIGURED.value, last_error=notify.NOT_CONFIGURED)).rowcount
        db.session.commit()
        if report.unconfigured:
            log.warning("%s: %d alert emails were NOT sent (alerts are on the board only)",
                        notify.NOT_CONFIGURED, report.unconfigured)
        return report
    send = send or notify.send_email
    alerts = Alert.__table__
    open_alert = sa.select(alerts.c.id).where(alerts.c.id == table.c.alert_id, alerts.c.resolved_at.is_(None)).exists()
    due = sa.or_(sa.and_(table.c.status.in_(DUE_STATUSES), table.c.next_attempt_at <= now),
                 sa.and_(table.c.status == NotificationStatus.SENDING, table.c.claimed_until < now))
    ids = db.session.scalars(
        sa.select(table.c.id).join(alerts, alerts.c.id == table.c.alert_id)
        .where(due, alerts.c.resolved_at.is_(None))
        .order_by(table.c.next_attempt_at).limit(BATCH)).all()
    db.session.commit()
    if not ids:
        return report
    # Claim them all in one compare-and-set; another sweep gets only what this one did not.
    claimed = db.session.scalars(
        sa.update(table).where(table.c.id.in_(ids), due, open_alert)
        .values(status=NotificationStatus.SENDING.value, claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
                attempts=table.c.attempts + 1).returning(table.c.id)).all()
    db.session.commit()
    for notification_id in sorted(claimed):
        notification = db.session.get(Notification, notification_id, populate_existing=True)
        alert = db.session.get(Alert, notification.alert_id)
        try:
            try:
                subject, body = notify.compose_alert_email(alert, notification.level, notification.recipient_name,
                                                           config)
            except ValueError as error:
                raise notify.Undeliverable(f"the message could not be built: {type(error).__name__}: {error}") \
                    from error
            send(config, notification.recipient_email, subject, body, recipient_name=notification.recipient_name)
        except Exception as error:  # noqa: BLE001 - any failure is recorded; retried unless it is for ever
            if isinstance(error, sa.exc.SQLAlchemyError):  # reading the alert failed: start the row afresh
                db.session.rollback()
                notification = db.session.get(Notification, notification_id, populate_existing=True)
            reason = notify.permanent_reason(error)
            notification.claimed_until = None
            if reason is not None:
                notification.status = NotificationStatus.UNDELIVERABLE.value
                notification.last_error = reason[:500]
                report.undeliverable += 1
                report.reasons.append(notification.last_error)
                log.error("alert %s email to %s NOT sent, and never will be: %s", notification.alert_id,
                          notification.recipient_email, notification.last_error)
            else:
                message = f"{type(error).__name__}: {error}"[:500]
                notification.status = NotificationStatus.FAILED.value
                notification.last_error = message
                notification.next_attempt_at = clock.utcnow() + retry_delay(notification.attempts)
                report.failed += 1
                report.errors.append(message)
                log.error("alert %s email to %s failed (attempt %d), will retry: %s", notification.alert_id,
                          notification.recipient_email, notification.attempts, message)
        else:
            notification.status = NotificationStatus.SENT.value
            notification.sent_at = clock.utcnow()
            notification.last_error = None
            notification.claimed_until = None
            report.sent += 1
            log.info("alert %s level %s emailed to %s", alert.id, notification.level, notification.recipient_email)
        db.session.commit()
    return report


@dataclass
class SweepReport:
    raised: int
    escalated: int
    mail: SendReport


def run_sweep(send=None) -> SweepReport:
    """One pass: raise overdue alerts, escalate what is due, send due emails."""
    now = clock.utcnow()
    raised = raise_overdue_alerts(now)
    escalated = escalate_due_alerts(now)
    mail = send_due_notifications(now, send=send)
    db.session.remove()
    return SweepReport(raised, escalated, mail)
