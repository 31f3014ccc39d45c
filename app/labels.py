"""Words for the phone, said once: what each kind of record, alert and status is called.

The phone's scripts get these from /phone-config.js (app/main/offline.py, `phone_config`), so the phone's
scripts and the waiting list read the same words as the server's pages, with or without signal
(the block is part of every page the service worker keeps, and of the offline page). Alert kinds
and urgencies come from the lone-working vocabulary; nothing here is repeated in JavaScript.
"""
from enum import Enum

from app.lone_working import rules
from app.lone_working.models import ALERT_KINDS

# What each record a phone makes is called in a list ("On this phone") and a sentence.
RECORD_TYPES = {
    "incident": "Incident report",
    "alarm_raised": "Alarm (I need help)",
    "session_started": "Lone working started",
    "check_in": "Check-in (I\u2019m OK)",
    "session_extended": "Lone working extended",
    "session_finished": "Lone working finished",
}

# The same records as something done: "Checked in at 10:04 - sent".
RECORD_DONE = {
    "session_started": "Started",
    "check_in": "Checked in",
    "session_extended": "Extended",
    "session_finished": "Finished",
    "alarm_raised": "Alarm raised",
}

# Where a record stands on the phone.
OUTBOX_STATUSES = {
    "pending": "Waiting to send",
    "rejected": "Not accepted \u2014 needs your attention",
    "sent": "Sent",
}

SESSION_STATUSES = {"active": "Running", "finished": "Finished"}

# The server's reasons name fields; the phone shows them by these names.
FIELDS = {
    "occurred_at": "When", "branch_id": "Where", "location": "Where exactly",
    "location_detail": "More about the place", "kinds": "Kind of behaviour", "severity": "How serious",
    "description": "What happened", "people_involved": "People involved", "witnesses": "Witnesses",
    "injuries": "Injuries", "police_reference": "Police reference", "actions_taken": "What was done",
    "id": "Record", "schema_version": "App version", "type": "Record type", "recorded_at": "Time recorded",
    "_record": "Record", "place": "Where exactly", "planned_end_at": "Planned end",
    "check_in_interval_minutes": "Check in every", "extend_by_minutes": "Extend by", "pin": "PIN",
    "session_id": "Session", "sequence": "Order on the phone",
}


def _labels(vocabulary) -> dict[str, str]:
    """A vocabulary as {value: label}, whether it is a dict or an Enum whose members carry `.label`."""
    if isinstance(vocabulary, type) and issubclass(vocabulary, Enum):
        return {str(member.value): str(getattr(member, "label", member.value)) for member in vocabulary}
    return {str(key): str(value) for key, value in dict(vocabulary).items()}


def phone_labels() -> dict[str, dict[str, str]]:
    return {
        "record_types": dict(RECORD_TYPES),
        "record_done": dict(RECORD_DONE),
        "outbox_statuses": dict(OUTBOX_STATUSES),
        "session_statuses": dict(SESSION_STATUSES),
        "alert_kinds": _labels(ALERT_KINDS),
        "urgency": _labels(rules.URGENCY_LABELS),
        "fields": dict(FIELDS),
    }
