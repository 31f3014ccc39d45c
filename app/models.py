"""Imports every model so that Alembic and create_all see the whole schema."""
from app.auth.models import User  # noqa: F401
from app.incidents.models import Incident, IncidentAccess, IncidentKind  # noqa: F401
from app.lone_working.models import (  # noqa: F401
                                     Alert,
                                     AlertAction,
                                     AlertLevelFiring,
                                     EscalationLevel,
                                     LoneWorkingEvent,
                                     LoneWorkingSession,
                                     LoneWorkingSettings,
                                     Notification,
                                     ServiceContact,
                                     WorkerPins,
)
from app.org.models import Branch, LibraryService, Team, team_supervisors  # noqa: F401
from app.sync.models import RecordReceipt  # noqa: F401
