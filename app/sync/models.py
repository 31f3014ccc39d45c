"""The receipt every phone-made record gets: idempotency and the two clocks live here."""
import uuid
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.db_types import UTCDateTime
from app.extensions import db


class RecordReceipt(db.Model):
    """One row per record id ever accepted, whatever its type.

    The primary key on the phone-made id is what makes sync idempotent: two senders racing
    with the same record cannot both insert it. `content_hash` tells a true duplicate from a
    conflicting reuse of the id.
    """

    __tablename__ = "record_receipt"

    id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, primary_key=True)
    record_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    schema_version: so.Mapped[int] = so.mapped_column(default=1)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    # The phone's clock when the record was made, and its UTC offset then (minutes east).
    recorded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    recorded_offset_minutes: so.Mapped[int] = so.mapped_column(default=0)
    # The server's clock when the record arrived.
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    # server time minus phone time at sending, when the batch told us the phone's clock.
    clock_skew_seconds: so.Mapped[int | None] = so.mapped_column()
    clock_flag: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    via: so.Mapped[str] = so.mapped_column(sa.String(10), default="sync")  # "sync" or "form"

    user: so.Mapped["User"] = so.relationship()  # noqa: F821
