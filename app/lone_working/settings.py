"""A library service's lone-working settings, escalation chain and contacts (data, not code)."""
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.lone_working.models import EscalationLevel, LoneWorkingSettings, ServiceContact


@dataclass(frozen=True)
class Level:
    level: int
    name: str
    audience: str
    delay_minutes: int


# Used when a service has not set its own chain yet: nobody is ever left without a chain.
DEFAULT_CHAIN = (
    Level(1, "Team supervisors", "team_supervisors", 0),
    Level(2, "Duty manager", "contacts", 10),
    Level(3, "Named contacts", "contacts", 10),
)


def get_settings(library_service_id: int) -> LoneWorkingSettings:
    """The service's settings, or unsaved defaults when it has none."""
    settings = db.session.get(LoneWorkingSettings, library_service_id)
    if settings is None:
        settings = LoneWorkingSettings(library_service_id=library_service_id, default_check_in_minutes=30,
                                       grace_minutes=5, due_soon_minutes=10, stale_contact_minutes=60)
    return settings


def escalation_chain(library_service_id: int) -> tuple[Level, ...]:
    rows = db.session.scalars(sa.select(EscalationLevel).where(
        EscalationLevel.library_service_id == library_service_id).order_by(EscalationLevel.level)).all()
    if not rows:
        return DEFAULT_CHAIN
    return tuple(Level(r.level, r.name, r.audience, r.delay_minutes) for r in rows)


def alarm_screen_contacts(library_service_id: int) -> list[ServiceContact]:
    """Contacts shown as tel: links on the worker's alarm screen (the duty contact first)."""
    return list(db.session.scalars(sa.select(ServiceContact).where(
        ServiceContact.library_service_id == library_service_id, ServiceContact.on_alarm_screen.is_(True),
        ServiceContact.phone != "").order_by(ServiceContact.position, ServiceContact.id)))


def ensure_lone_working_setup(library_service_id: int, contacts: list[dict] | None = None) -> None:
    """Give a service settings, the default chain and (if given) contacts. Idempotent; no commit."""
    if db.session.get(LoneWorkingSettings, library_service_id) is None:
        db.session.add(LoneWorkingSettings(library_service_id=library_service_id, default_check_in_minutes=30,
                                           grace_minutes=5, due_soon_minutes=10, stale_contact_minutes=60))
    existing_levels = set(db.session.scalars(sa.select(EscalationLevel.level).where(
        EscalationLevel.library_service_id == library_service_id)))
    for level in DEFAULT_CHAIN:
        if level.level not in existing_levels:
            db.session.add(EscalationLevel(library_service_id=library_service_id, level=level.level,
                                           name=level.name, audience=level.audience,
                                           delay_minutes=level.delay_minutes))
    for position, contact in enumerate(contacts or []):
        found = db.session.scalar(sa.select(ServiceContact).where(
            ServiceContact.library_service_id == library_service_id, ServiceContact.name == contact["name"]))
        if found is None:
            db.session.add(ServiceContact(library_service_id=library_service_id, position=position, **contact))
    db.session.flush()
