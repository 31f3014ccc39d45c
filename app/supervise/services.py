"""What supervisors see and do: the live board, timelines, past sessions, alert actions.

Scope everywhere (app.access): a supervisor sees the sessions and alerts of the teams they
supervise, an admin those of their library service, staff nothing.
"""
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.access import alerts_supervised_by, sessions_supervised_by
from app.auth.models import User
from app.extensions import db
from app.lone_working import rules
from app.lone_working.models import (
    Alert,
    AlertAction,
    AlertKind,
    AlertLevelFiring,
    EventKind,
    LoneWorkingEvent,
    LoneWorkingSession,
    Notification,
    NotificationStatus,
    Outcome,
    SessionStatus,
)
from app.lone_working.notify import mail_configured, message_of
from app.lone_working.settings import get_settings

log = logging.getLogger(__name__)

BOARD_LIMIT = 200
PAST_DAYS = 30


class ActionRefused(Exception):
    """A supervisor action that cannot be done (say, resolving an alert someone else resolved)."""


class TextRefused(ActionRefused):
    """Typed text that cannot be stored (a NUL, a lone surrogate): nothing was changed."""


# PostgreSQL cannot store or compare NUL in text; a lone surrogate cannot be encoded at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = ("This text holds a character that cannot be stored (a NUL or a broken character). "
                   "Type it again, or paste it as plain text. Nothing was changed.")


def storable(text: str | None) -> bool:
    return not (text and _UNSTORABLE.search(text))


def _check_text(*texts) -> None:
    if not all(storable(text) for text in texts):
        raise TextRefused(UNSTORABLE_TEXT)


@dataclass
class BoardRow:
    urgency: str
    worker: User
    session: LoneWorkingSession | None
    alerts: list[Alert] = field(default_factory=list)
    stale: bool = False
    overdue_for: timedelta | None = None
    due_in: timedelta | None = None
    late_check_ins: list = field(default_factory=list)

    @property
    def urgency_label(self) -> str:
        return rules.URGENCY_LABELS[self.urgency]

    @property
    def sort_key(self):
        moment = self.session.deadline_at if self.session and self.session.deadline_at else None
        if self.alerts:
            moment = min(a.raised_at for a in self.alerts)
        return (rules.URGENCY_RANK[self.urgency], moment.timestamp() if moment else float("inf"))


@dataclass
class Board:
    now: datetime
    rows: list[BoardRow]
    alarms: list[Alert]
    active_total: int
    shown_sessions: int
    settings: object
    # What the worker typed with each alarm ("Anything to add"), by alert id.
    messages: dict = field(default_factory=dict)


def load_board(user, now: datetime, limit: int = BOARD_LIMIT) -> Board:
    """The board: open alerts and active sessions in scope, most urgent first.

    Two indexed queries: open alerts (few), and the active sessions by deadline (the earliest
    deadline is the most urgent, so the first `limit` rows are the ones that matter).
    """
    settings = get_settings(user.library_service_id)
    alerts = db.session.scalars(
        sa.select(Alert).where(alerts_supervised_by(user), Alert.resolved_at.is_(None))
        .options(so.joinedload(Alert.worker), so.joinedload(Alert.session).joinedload(LoneWorkingSession.branch))
        .order_by(Alert.raised_at)).all()
    sessions = db.session.scalars(
        sa.select(LoneWorkingSession)
        .where(sessions_supervised_by(user), LoneWorkingSession.status == SessionStatus.ACTIVE)
        .options(so.joinedload(LoneWorkingSession.worker), so.joinedload(LoneWorkingSession.branch))
        .order_by(LoneWorkingSession.deadline_at).limit(limit)).all()
    active_total = db.session.scalar(
        sa.select(sa.func.count()).select_from(LoneWorkingSession)
        .where(sessions_supervised_by(user), LoneWorkingSession.status == SessionStatus.ACTIVE))

    rows: dict[object, BoardRow] = {}
    for session in sessions:
        rows[session.id] = BoardRow(urgency="fine", worker=session.worker, session=session)
    for alert in alerts:
        key = alert.session_id or f"alert-{alert.id}"
        if key not in rows:
            rows[key] = BoardRow(urgency="fine", worker=alert.worker, session=alert.session)
        rows[key].alerts.append(alert)
    for row in rows.values():
        _assess(row, now, settings)
    ordered = sorted(rows.values(), key=lambda r: r.sort_key)
    alarms = [a for a in alerts if a.kind in (AlertKind.ALARM, AlertKind.DURESS)]
    return Board(now=now, rows=ordered, alarms=alarms, active_total=active_total or 0,
                 shown_sessions=len(sessions), settings=settings, messages=alarm_messages(alerts))


def alarm_messages(alerts) -> dict[int, str]:
    """{alert id: what the worker typed with the alarm} for the alarm alerts that have a message."""
    sources = {a.source_event_id: a.id for a in alerts if a.kind == AlertKind.ALARM and a.source_event_id is not None}
    if not sources:
        return {}
    rows = db.session.execute(sa.select(LoneWorkingEvent.id, LoneWorkingEvent.data)
                              .where(LoneWorkingEvent.id.in_(list(sources)))).all()
    messages = {sources[event_id]: message_of(data) for event_id, data in rows}
    return {alert_id: message for alert_id, message in messages.items() if message}


def _assess(row: BoardRow, now: datetime, settings) -> None:
    session = row.session
    kinds = {a.kind for a in row.alerts}
    active = session is not None and session.status == SessionStatus.ACTIVE
    row.urgency = rules.urgency(now, active=active, deadline_at=session.deadline_at if session else None,
                                grace_minutes=settings.grace_minutes, due_soon_minutes=settings.due_soon_minutes,
                                open_alert_kinds=kinds)
    if session is None:
        return
    if active and session.deadline_at is not None:
        if now >= session.deadline_at:
            row.overdue_for = now - session.deadline_at
        else:
            row.due_in = session.deadline_at - now
    row.stale = active and rules.is_stale_contact(now, session.last_contact_received_at, settings.stale_contact_minutes)
    for alert in row.alerts:
        if alert.kind == AlertKind.OVERDUE:
            late = rules.late_check_in(session.last_check_in_at, session.last_check_in_received_at,
                                       alert.cause_at, alert.raised_at)
            if late:
                row.late_check_ins.append(late)


def visible_alert(user, alert_id: int) -> Alert | None:
    return db.session.scalar(sa.select(Alert).where(Alert.id == alert_id, alerts_supervised_by(user)))


def visible_session(user, session_id) -> LoneWorkingSession | None:
    return db.session.scalar(sa.select(LoneWorkingSession).where(LoneWorkingSession.id == session_id,
                                                                 sessions_supervised_by(user)))


def acknowledge_alert(user, alert_id: int, note: str, now: datetime) -> Alert:
    """"I've got this": stops escalation. Recorded with who and when; the alert stays open."""
    _check_text(note)
    alert = visible_alert(user, alert_id)
    if alert is None:
        raise LookupError("no such alert in your scope")
    if alert.resolved_at is not None:
        raise ActionRefused("This alert is already resolved.")
    db.session.add(AlertAction(alert_id=alert.id, actor_id=user.id, action="acknowledge",
                               note=note.strip(), at=now))
    table = Alert.__table__
    db.session.execute(sa.update(table).where(table.c.id == alert.id, table.c.acknowledged_at.is_(None))
                       .values(acknowledged_at=now, acknowledged_by_id=user.id, next_escalation_at=None))
    db.session.commit()
    log.info("alert %s acknowledged by user %s", alert.id, user.id)
    return db.session.get(Alert, alert.id, populate_existing=True)


def resolve_alert(user, alert_id: int, outcome: str, note: str, now: datetime) -> Alert:
    """Close an alert with its outcome (genuine, false alarm, test) and a note. Only a person can."""
    _check_text(note)
    if outcome not in Outcome.values():
        raise ActionRefused("Choose what it turned out to be: genuine, false alarm or test.")
    if not note.strip():
        raise ActionRefused("Say what happened (for example: called her, she is fine).")
    alert = visible_alert(user, alert_id)
    if alert is None:
        raise LookupError("no such alert in your scope")
    table = Alert.__table__
    won = db.session.execute(
        sa.update(table).where(table.c.id == alert.id, table.c.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_id=user.id, outcome=outcome, next_escalation_at=None,
                acknowledged_at=sa.func.coalesce(table.c.acknowledged_at, now),
                acknowledged_by_id=sa.func.coalesce(table.c.acknowledged_by_id, user.id))).rowcount == 1
    if not won:
        db.session.rollback()
        raise ActionRefused("Someone else resolved this alert already. Their note is in its history.")
    db.session.add(AlertAction(alert_id=alert.id, actor_id=user.id, action="resolve", note=note.strip(),
                               outcome=outcome, at=now))
    db.session.commit()
    log.info("alert %s resolved by user %s as %s", alert.id, user.id, outcome)
    return db.session.get(Alert, alert.id, populate_existing=True)


def add_alert_note(user, alert_id: int, note: str, now: datetime) -> Alert:
    _check_text(note)
    if not note.strip():
        raise ActionRefused("Write the note first.")
    alert = visible_alert(user, alert_id)
    if alert is None:
        raise LookupError("no such alert in your scope")
    db.session.add(AlertAction(alert_id=alert.id, actor_id=user.id, action="note", note=note.strip(), at=now))
    db.session.commit()
    return alert


def alert_history(alert_id: int) -> dict:
    """Level firings, people's actions and emails of one alert, oldest first."""
    return {
        "firings": db.session.scalars(sa.select(AlertLevelFiring).where(AlertLevelFiring.alert_id == alert_id)
                                      .order_by(AlertLevelFiring.level)).all(),
        "actions": db.session.scalars(sa.select(AlertAction).where(AlertAction.alert_id == alert_id)
                                      .options(so.joinedload(AlertAction.actor))
                                      .order_by(AlertAction.at, AlertAction.id)).all(),
        "notifications": db.session.scalars(sa.select(Notification).where(Notification.alert_id == alert_id)
                                            .order_by(Notification.level, Notification.id)).all(),
    }


@dataclass
class TimelineEntry:
    at: datetime  # the server's clock: when the server learnt of it
    kind: str
    title: str
    event: LoneWorkingEvent | None = None
    alert: Alert | None = None
    detail: str = ""


def session_timeline(session: LoneWorkingSession) -> dict:
    """Everything about a session: its events in the phone's order, and the server's story."""
    events = db.session.scalars(sa.select(LoneWorkingEvent).where(LoneWorkingEvent.session_id == session.id)
                                .order_by(LoneWorkingEvent.recorded_at, LoneWorkingEvent.sequence,
                                          LoneWorkingEvent.id)).all()
    alerts = db.session.scalars(sa.select(Alert).where(Alert.session_id == session.id).order_by(Alert.raised_at)).all()
    messages = alarm_messages(alerts)
    entries: list[TimelineEntry] = []
    for event in events:
        title = EventKind.label_of(event.kind)
        if event.kind == EventKind.SESSION_FINISHED and event.finish_pin == "duress":
            title = "Finished WITH THE DURESS PIN (silent alarm)"
        entries.append(TimelineEntry(at=event.received_at, kind=event.kind, title=title, event=event))
    for alert in alerts:
        entries.append(TimelineEntry(at=alert.raised_at, kind="alert", title=f"{alert.kind_label} alert raised",
                                     alert=alert, detail=messages.get(alert.id, "")))
        history = alert_history(alert.id)
        for firing in history["firings"]:
            entries.append(TimelineEntry(at=firing.fired_at, kind="firing", alert=alert,
                                         title=f"{alert.kind_label} alert reached level {firing.level}"
                                               f" ({firing.level_name}), {firing.recipient_count} to notify"))
        for action in history["actions"]:
            detail = action.note
            if action.outcome:
                detail = f"{Outcome.label_of(action.outcome)}: {action.note}"
            entries.append(TimelineEntry(at=action.at, kind="action", alert=alert, detail=detail,
                                         title=f"{action.action.capitalize()} by {action.actor.name}"))
    entries.sort(key=lambda e: e.at)
    return {"events": events, "alerts": alerts, "server_story": entries}


def search_past_sessions(user, now: datetime, text: str = "", limit: int = 100) -> list[LoneWorkingSession]:
    """Sessions of the last 30 days in scope, newest first, matching a worker's name or a place."""
    query = (sa.select(LoneWorkingSession).join(User, User.id == LoneWorkingSession.worker_id)
             .where(sessions_supervised_by(user), LoneWorkingSession.created_at >= now - timedelta(days=PAST_DAYS))
             .options(so.contains_eager(LoneWorkingSession.worker), so.joinedload(LoneWorkingSession.branch)))
    text = text.strip().lower()
    if not storable(text):
        raise TextRefused("The search text is not valid: it holds a character that cannot be searched for.")
    if text:  # the words as typed: % and _ match themselves, not anything
        query = query.where(sa.or_(sa.func.lower(User.name).contains(text, autoescape=True),
                                   sa.func.lower(LoneWorkingSession.place).contains(text, autoescape=True),
                                   sa.func.lower(LoneWorkingSession.note).contains(text, autoescape=True)))
    return list(db.session.scalars(query.order_by(LoneWorkingSession.created_at.desc()).limit(limit)))


def mail_status(config) -> dict:
    """For the banners: is mail configured."""
    return {"configured": mail_configured(config)}


# A never-tried email older than this means no sweep is sending (it runs every 10 s).
SWEEP_LATE = timedelta(minutes=2)


@dataclass
class EmailState:
    """What really happened to the emails about open alerts in scope, for the board's banner."""

    waiting: list = field(default_factory=list)  # not tried yet (pending, or being sent for the first time)
    retrying: list = field(default_factory=list)  # failed, will be tried again
    undeliverable: list = field(default_factory=list)  # failed for ever: (notification, alert)
    unconfigured: list = field(default_factory=list)  # left unsent while SMTP_HOST was unset
    sweep_late: bool = False
    waiting_since: datetime | None = None

    @property
    def any(self) -> bool:
        return bool(self.waiting or self.retrying or self.undeliverable or self.unconfigured)

    @property
    def latest_error(self) -> str:
        latest = max(self.retrying, key=lambda n: (n.attempts, n.id), default=None)
        return latest.last_error or "" if latest is not None else ""

    @property
    def next_retry_at(self) -> datetime | None:
        times = [n.next_attempt_at for n in self.retrying if n.status == NotificationStatus.FAILED]
        return min(times) if times else None


def email_category(notification: Notification) -> str:
    """waiting | retrying | sent | undeliverable | unconfigured: what happened to one email."""
    status = notification.status
    if status == NotificationStatus.SENDING:
        return "retrying" if notification.last_error else "waiting"
    if status == NotificationStatus.FAILED:
        return "retrying"
    if status == NotificationStatus.PENDING:
        return "waiting"
    return status


def email_state(user, now: datetime) -> EmailState:
    """Emails about open alerts in scope that have not reached the mail server, by what happened."""
    rows = db.session.execute(
        sa.select(Notification, Alert).join(Alert, Alert.id == Notification.alert_id)
        .where(alerts_supervised_by(user), Alert.resolved_at.is_(None), Notification.status != NotificationStatus.SENT)
        .options(so.joinedload(Alert.worker))
        .order_by(Notification.created_at, Notification.id)).all()
    state = EmailState()
    for notification, alert in rows:
        category = email_category(notification)
        if category == "undeliverable":
            state.undeliverable.append((notification, alert))
        elif category in ("waiting", "retrying", "unconfigured"):
            getattr(state, category).append(notification)
    if state.waiting:
        state.waiting_since = min(n.created_at for n in state.waiting)
        state.sweep_late = now - state.waiting_since > SWEEP_LATE
    return state
