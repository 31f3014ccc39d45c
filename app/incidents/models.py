"""Incident reports: immutable facts made on a phone (or a form), reviewed by supervisors."""
import uuid
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db
from app.incidents.vocabulary import ActionTaken, BehaviourKind, IncidentLocation, Severity


class Incident(db.Model):
    __tablename__ = "incident"
    __table_args__ = (
        # The review list: a team's (or a service's) incidents, newest first.
        sa.Index("ix_incident_team_occurred", "team_id", "occurred_at"),
        sa.Index("ix_incident_service_occurred", "library_service_id", "occurred_at"),
        sa.Index("ix_incident_reporter_occurred", "reporter_id", "occurred_at"),
    )

    # The id the phone made; the same as its RecordReceipt's.
    id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("record_receipt.id"), primary_key=True)
    reporter_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    library_service_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("library_service.id"))
    # The reporter's team when they reported: whose supervisors review it.
    team_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("team.id"))
    branch_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("branch.id"), index=True)

    occurred_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    occurred_offset_minutes: so.Mapped[int] = so.mapped_column(default=0)
    location: so.Mapped[str] = so.mapped_column(sa.String(30))
    location_detail: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    severity: so.Mapped[str] = so.mapped_column(sa.String(20))
    description: so.Mapped[str] = so.mapped_column(sa.Text)
    people_involved: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    witnesses: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    injuries: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    police_informed: so.Mapped[bool] = so.mapped_column(default=False)
    police_reference: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    cctv_footage: so.Mapped[bool] = so.mapped_column(default=False)
    bodycam_footage: so.Mapped[bool] = so.mapped_column(default=False)
    actions_taken: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    debrief_wanted: so.Mapped[bool] = so.mapped_column(default=False)

    receipt: so.Mapped["RecordReceipt"] = so.relationship(lazy="joined")  # noqa: F821
    reporter: so.Mapped["User"] = so.relationship()  # noqa: F821
    branch: so.Mapped["Branch"] = so.relationship()  # noqa: F821
    kinds: so.Mapped[list["IncidentKind"]] = so.relationship(
        cascade="all, delete-orphan", order_by="IncidentKind.kind", lazy="selectin")

    @property
    def kind_codes(self) -> list[str]:
        return [k.kind for k in self.kinds]

    @property
    def kind_labels(self) -> list[str]:
        return [BehaviourKind.label_of(k.kind) for k in self.kinds]

    @property
    def location_label(self) -> str:
        return IncidentLocation.label_of(self.location)

    @property
    def severity_label(self) -> str:
        return Severity.label_of(self.severity)

    @property
    def action_labels(self) -> list[str]:
        return [ActionTaken.label_of(a) for a in self.actions_taken or []]


class IncidentKind(db.Model):
    """One kind of behaviour in a report (a report may have several): the evidence base is built on these."""

    __tablename__ = "incident_kind"
    __table_args__ = (sa.Index("ix_incident_kind_kind", "kind", "incident_id"),)

    incident_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(30), primary_key=True)


class IncidentAccess(db.Model):
    """Who opened which report and when: reports hold personal data, so access is audited."""

    __tablename__ = "incident_access"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    incident_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    accessed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.column_default_now)
    action: so.Mapped[str] = so.mapped_column(sa.String(20), default="view")
