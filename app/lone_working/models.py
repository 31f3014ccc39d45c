"""Lone-working records.

Phone-made facts: `LoneWorkingEvent` (one row per event, its id the phone's record id).
Derived: `LoneWorkingSession`, a projection recomputed from the session's events whenever
one arrives. Server-made facts: `Alert`, `AlertLevelFiring`, `AlertAction`, `Notification`.
Per-service data: `LoneWorkingSettings`, `EscalationLevel`, `ServiceContact`.
"""
import uuid
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db
from app.vocabulary import LabelledStrEnum


class EventKind(LabelledStrEnum):
    """lone_working_event.kind (and the phone's record type); the label is the supervisor's timeline title."""

    SESSION_STARTED = "session_started", "Session started"
    CHECK_IN = "check_in", "Checked in: I'm OK"
    SESSION_EXTENDED = "session_extended", "Extended"
    SESSION_FINISHED = "session_finished", "Finished"
    ALARM_RAISED = "alarm_raised", "Alarm: I need help"


class AlertKind(LabelledStrEnum):
    """alert.kind."""

    ALARM = "alarm", "Alarm"
    DURESS = "duress", "Duress"
    OVERDUE = "overdue", "Overdue"


class Outcome(LabelledStrEnum):
    """How a supervisor closed an alert (alert.outcome, alert_action.outcome)."""

    GENUINE = "genuine", "Genuine"
    FALSE_ALARM = "false_alarm", "False alarm"
    TEST = "test", "Test"


class PlaceKind(LabelledStrEnum):
    """Where a session is (lone_working_session.place_kind)."""

    BRANCH = "branch", "Branch"
    MOBILE_STOP = "mobile_stop", "Mobile library route or stop"
    HOME_VISIT = "home_visit", "Home visit"
    OTHER = "other", "Somewhere else"


class SessionStatus(LabelledStrEnum):
    """lone_working_session.status."""

    ACTIVE = "active", "Running"
    FINISHED = "finished", "Finished"


class NotificationStatus(LabelledStrEnum):
    """What really happened to one alert email (notification.status); see app/lone_working/notify.py."""

    PENDING = "pending", "Not tried yet"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent to the mail server"
    FAILED = "failed", "Failed, will be tried again"
    UNDELIVERABLE = "undeliverable", "Cannot be delivered, not retried"
    UNCONFIGURED = "unconfigured", "Not sent: email is not configured"


# The same vocabularies as plain values or {value: label}, for code that wants a tuple or a mapping.
EVENT_KINDS = tuple(EventKind.values())
ALERT_KINDS = AlertKind.labels()
OUTCOMES = Outcome.labels()
PLACE_KINDS = PlaceKind.labels()


class LoneWorkingSettings(db.Model):
    """A library service's lone-working rules (one row per service)."""

    __tablename__ = "lone_working_settings"

    library_service_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("library_service.id"), primary_key=True)
    default_check_in_minutes: so.Mapped[int] = so.mapped_column(default=30)
    # How long after a missed check-in or planned end before the session is overdue.
    grace_minutes: so.Mapped[int] = so.mapped_column(default=5)
    # A check-in due within this many minutes shows as "due soon" on the board.
    due_soon_minutes: so.Mapped[int] = so.mapped_column(default=10)
    # No contact from the phone for this long shows a stale-contact warning on the board.
    stale_contact_minutes: so.Mapped[int] = so.mapped_column(default=60)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.column_default_now)


class EscalationLevel(db.Model):
    """One level of a service's escalation chain, kept as data.

    Level 1 fires when an alert is raised; level n+1 fires `delay_minutes` after level n fired
    if nobody has acknowledged the alert by then.
    """

    __tablename__ = "escalation_level"
    __table_args__ = (sa.UniqueConstraint("library_service_id", "level"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    library_service_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("library_service.id"))
    level: so.Mapped[int] = so.mapped_column()
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    # "team_supervisors": the supervisors of the worker's team; "contacts": the service's
    # contacts whose escalation_level is this level.
    audience: so.Mapped[str] = so.mapped_column(sa.String(20))
    delay_minutes: so.Mapped[int] = so.mapped_column(default=10)


class ServiceContact(db.Model):
    """A useful contact of a library service: duty manager, security, named managers."""

    __tablename__ = "service_contact"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    library_service_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("library_service.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    role: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    phone: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    escalation_level: so.Mapped[int | None] = so.mapped_column()
    # Shown as a tel: link on the worker's alarm screen.
    on_alarm_screen: so.Mapped[bool] = so.mapped_column(default=False)
    position: so.Mapped[int] = so.mapped_column(default=0)


class WorkerPins(db.Model):
    """A worker's finish PIN and duress PIN, hashed with the password hash. Never the PINs."""

    __tablename__ = "worker_pins"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    finish_pin_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    duress_pin_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.column_default_now)


class LoneWorkingSession(db.Model):
    """A session's identity (the id of its session_started record) and its derived state.

    Every column below `team_id` is a projection of the session's events, rewritten by
    `services.project_session` whenever an event arrives; nothing else writes them.
    """

    __tablename__ = "lone_working_session"
    __table_args__ = (
        # The board: a team's (or a service's) active sessions, most urgent deadline first.
        sa.Index("ix_lw_session_team_board", "team_id", "status", "deadline_at"),
        sa.Index("ix_lw_session_service_board", "library_service_id", "status", "deadline_at"),
        # The sweep: active sessions whose overdue time has passed.
        sa.Index("ix_lw_session_overdue", "status", "overdue_at"),
        # A worker's current and recent sessions; past-session search.
        sa.Index("ix_lw_session_worker_created", "worker_id", "created_at"),
        sa.Index("ix_lw_session_service_created", "library_service_id", "created_at"),
    )

    id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, primary_key=True)
    worker_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    library_service_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("library_service.id"))
    # The worker's team when the first event arrived: whose supervisors watch it.
    team_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("team.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.column_default_now)

    # --- projection ---
    has_start: so.Mapped[bool] = so.mapped_column(default=False)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default=SessionStatus.ACTIVE.value)
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)  # phone time
    started_offset_minutes: so.Mapped[int] = so.mapped_column(default=0)
    place_kind: so.Mapped[str] = so.mapped_column(sa.String(20), default="other")
    branch_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("branch.id"))
    place: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    latitude: so.Mapped[float | None] = so.mapped_column()
    longitude: so.Mapped[float | None] = so.mapped_column()
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    check_in_interval_minutes: so.Mapped[int] = so.mapped_column(default=30)
    planned_end_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_check_in_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)  # phone time
    last_check_in_offset_minutes: so.Mapped[int] = so.mapped_column(default=0)
    last_check_in_received_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_contact_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)  # phone time
    last_contact_offset_minutes: so.Mapped[int] = so.mapped_column(default=0)
    last_contact_received_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    next_check_in_due_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The earlier of the next check-in and the planned end; overdue_at adds the grace period.
    deadline_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    overdue_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)  # phone time
    finished_received_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    clock_flag: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    event_count: so.Mapped[int] = so.mapped_column(default=0)
    last_sequence: so.Mapped[int] = so.mapped_column(default=0)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.column_default_now)

    worker: so.Mapped["User"] = so.relationship()  # noqa: F821
    team: so.Mapped["Team | None"] = so.relationship()  # noqa: F821
    branch: so.Mapped["Branch | None"] = so.relationship()  # noqa: F821

    @property
    def place_label(self) -> str:
        parts = [self.branch.name] if self.branch is not None else []
        if self.place:
            parts.append(self.place)
        return " · ".join(parts) or PlaceKind.label_of(self.place_kind, "Place not yet received")


class LoneWorkingEvent(db.Model):
    """One phone-made lone-working event; immutable. Its id is its record receipt's id."""

    __tablename__ = "lone_working_event"
    __table_args__ = (
        # The projection and the timeline read a session's events in this order.
        sa.Index("ix_lw_event_session_order", "session_id", "recorded_at", "sequence"),
    )

    id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("record_receipt.id"), primary_key=True)
    session_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.ForeignKey("lone_working_session.id"))
    worker_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    sequence: so.Mapped[int] = so.mapped_column(default=0)
    recorded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)  # the phone's clock
    recorded_offset_minutes: so.Mapped[int] = so.mapped_column(default=0)
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)  # the server's clock
    # The phone time corrected by the batch's measured skew, never later than received_at:
    # the time the server believes the worker acted. Deadlines are computed from it.
    effective_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    clock_flag: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    # What the event says (place, planned end, coordinates...). Never a PIN.
    data: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # session_finished only: "none" (no PIN set), "normal" or "duress". Supervisors only.
    finish_pin: so.Mapped[str | None] = so.mapped_column(sa.String(10))

    receipt: so.Mapped["RecordReceipt"] = so.relationship()  # noqa: F821


class Alert(db.Model):
    """An overdue, alarm or duress alert. Raised once: `dedupe_key` is unique.

    `level` and `next_escalation_at` change only by the escalation rule's compare-and-set;
    `acknowledged_*` and `resolved_*` only by a person (each also an `AlertAction`).
    """

    __tablename__ = "alert"
    __table_args__ = (
        sa.Index("ix_alert_team_open", "team_id", "resolved_at"),
        sa.Index("ix_alert_service_open", "library_service_id", "resolved_at"),
        sa.Index("ix_alert_next_escalation", "next_escalation_at"),
        sa.Index("ix_alert_session", "session_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # "alarm:<event id>", "duress:<event id>", "overdue:<session id>:<deadline>".
    dedupe_key: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    library_service_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("library_service.id"))
    team_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("team.id"))
    worker_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    session_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.ForeignKey("lone_working_session.id"))
    # The alarm_raised or session_finished event that raised it (no foreign key: the alert is
    # inserted in the same transaction as its event, before the event row is flushed).
    source_event_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid)
    # The missed deadline (overdue) or when the worker raised it (alarm, duress).
    cause_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    raised_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.column_default_now)
    latitude: so.Mapped[float | None] = so.mapped_column()
    longitude: so.Mapped[float | None] = so.mapped_column()
    level: so.Mapped[int] = so.mapped_column(default=0)
    next_escalation_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    acknowledged_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    acknowledged_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    resolved_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    resolved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    outcome: so.Mapped[str | None] = so.mapped_column(sa.String(20))

    worker: so.Mapped["User"] = so.relationship(foreign_keys=[worker_id])  # noqa: F821
    session: so.Mapped[LoneWorkingSession | None] = so.relationship()
    acknowledged_by: so.Mapped["User | None"] = so.relationship(foreign_keys=[acknowledged_by_id])  # noqa: F821
    resolved_by: so.Mapped["User | None"] = so.relationship(foreign_keys=[resolved_by_id])  # noqa: F821

    @property
    def kind_label(self) -> str:
        return AlertKind.label_of(self.kind)

    @property
    def outcome_label(self) -> str:
        return Outcome.label_of(self.outcome)

    @property
    def state(self) -> str:
        if self.resolved_at is not None:
            return "resolved"
        return "acknowledged" if self.acknowledged_at is not None else "open"


class AlertLevelFiring(db.Model):
    """When each escalation level of an alert fired: its own stored fact, written once."""

    __tablename__ = "alert_level_firing"

    alert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("alert.id"), primary_key=True)
    level: so.Mapped[int] = so.mapped_column(primary_key=True)
    level_name: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    fired_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    recipient_count: so.Mapped[int] = so.mapped_column(default=0)


class AlertAction(db.Model):
    """A person's action on an alert (acknowledge, note, resolve): append-only history."""

    __tablename__ = "alert_action"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    alert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("alert.id"), index=True)
    actor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(20))  # acknowledge | note | resolve
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    outcome: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.column_default_now)

    actor: so.Mapped["User"] = so.relationship()  # noqa: F821


class Notification(db.Model):
    """One email about one alert level to one recipient, with its real outcome.

    Unique per (alert, level, recipient), so two sweeps can never send it twice; a sweep
    claims a row with a compare-and-set before sending it.
    """

    __tablename__ = "notification"
    __table_args__ = (
        sa.UniqueConstraint("alert_id", "level", "recipient_email"),
        sa.Index("ix_notification_due", "status", "next_attempt_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    alert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("alert.id"))
    level: so.Mapped[int] = so.mapped_column()
    recipient_email: so.Mapped[str] = so.mapped_column(sa.String(254))
    recipient_name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    # pending (not tried yet) | sending (claimed by a sweep) | sent | failed (will be retried) |
    # undeliverable (failed for a reason retrying cannot fix: never retried) |
    # unconfigured (SMTP_HOST was not set: sent once it is, if the alert is still open)
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default=NotificationStatus.PENDING.value)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.column_default_now)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.column_default_now)
    claimed_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
