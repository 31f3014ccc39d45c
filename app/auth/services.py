"""Accounts: creating people and checking who they are."""
import logging

import sqlalchemy as sa
from werkzeug.security import check_password_hash

from app.auth.models import ROLES, User, password_method
from app.extensions import db
from app.org.models import Team

log = logging.getLogger(__name__)
# Checked against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    global _DUMMY_HASH
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        if _DUMMY_HASH is None:
            from werkzeug.security import generate_password_hash
            _DUMMY_HASH = generate_password_hash("not-a-password", method=password_method())
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def create_user(email: str, name: str, password: str, library_service_id: int, role: str = "staff",
                team_id: int | None = None, supervised_team_ids: list[int] | None = None) -> User:
    """Add a person; raises ValueError with a clear message when the input is wrong."""
    email = normalise_email(email)
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 10:
        raise ValueError("password must be at least 10 characters")
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise ValueError(f"a user with email {email} already exists")
    user = User(email=email, name=name.strip(), role=role, library_service_id=library_service_id, team_id=team_id)
    user.set_password(password)
    if supervised_team_ids:
        user.supervised_teams = list(db.session.scalars(sa.select(Team).where(Team.id.in_(supervised_team_ids))))
    db.session.add(user)
    db.session.commit()
    log.info("created user %s (%s)", email, role)
    return user
