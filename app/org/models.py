"""The organisation: library service -> branches -> teams."""
import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db

BRANCH_KINDS = {
    "building": "Library building",
    "mobile": "Mobile library vehicle",
    "home_service": "Home library service team",
}

team_supervisors = sa.Table(
    "team_supervisor",
    db.metadata,
    sa.Column("team_id", sa.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class LibraryService(db.Model):
    __tablename__ = "library_service"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)

    branches: so.Mapped[list["Branch"]] = so.relationship(back_populates="library_service",
                                                         order_by="Branch.name")

    def __repr__(self) -> str:
        return f"<LibraryService {self.name}>"


class Branch(db.Model):
    """A place staff work from: a building, a mobile library vehicle or a home library service team."""

    __tablename__ = "branch"
    __table_args__ = (sa.UniqueConstraint("library_service_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    library_service_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("library_service.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[str] = so.mapped_column(sa.String(20), default="building")

    library_service: so.Mapped[LibraryService] = so.relationship(back_populates="branches")
    teams: so.Mapped[list["Team"]] = so.relationship(back_populates="branch", order_by="Team.name")

    @property
    def kind_label(self) -> str:
        return BRANCH_KINDS.get(self.kind, self.kind)


class Team(db.Model):
    __tablename__ = "team"
    __table_args__ = (sa.UniqueConstraint("branch_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    branch_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("branch.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))

    branch: so.Mapped[Branch] = so.relationship(back_populates="teams")
    supervisors: so.Mapped[list["User"]] = so.relationship(  # noqa: F821
        secondary=team_supervisors, back_populates="supervised_teams")
