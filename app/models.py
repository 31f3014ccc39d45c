"""Imports every model so that Alembic and create_all see the whole schema."""
from app.auth.models import User  # noqa: F401
from app.incidents.models import Incident, IncidentKind, IncidentAccess  # noqa: F401
from app.org.models import Branch, LibraryService, Team, team_supervisors  # noqa: F401
from app.sync.models import RecordReceipt  # noqa: F401
from app.lone_working.models import (Alert, AlertAction, AlertLevelFiring, EscalationLevel,  # noqa: F401
                                     LoneWorkingEvent, LoneWorkingSession, LoneWorkingSettings, Notification,
                                     ServiceContact, WorkerPins)
