"""People who sign in."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db
from app.org.models import LibraryService, Team, team_supervisors

ROLES = ("staff", "supervisor", "admin")


def password_method() -> str:
    """The password (and PIN) hash: scrypt, slow and memory-hard, named so it never silently changes.

    Tests set a cheaper scrypt cost (PASSWORD_HASH_METHOD="scrypt:1024:8:1"); production keeps
    werkzeug's default cost.
    """
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    role: so.Mapped[str] = so.mapped_column(sa.String(20), default="staff")
    library_service_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("library_service.id"), index=True)
    # The team a worker belongs to; their reports go to this team's supervisors.
    team_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("team.id"), index=True)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.column_default_now)

    library_service: so.Mapped[LibraryService] = so.relationship()
    team: so.Mapped[Team | None] = so.relationship()
    supervised_teams: so.Mapped[list[Team]] = so.relationship(
        secondary=team_supervisors, back_populates="supervisors")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated account cannot sign in
        return self.active

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.email}>"
