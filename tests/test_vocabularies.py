"""Vocabularies are enums carrying their labels (app/vocabulary.py); the stored values never change."""
import json

import pytest

from app.incidents.vocabulary import KINDS, LOCATIONS, ActionTaken, BehaviourKind, IncidentLocation, Severity
from app.lone_working.models import (
    ALERT_KINDS,
    EVENT_KINDS,
    OUTCOMES,
    PLACE_KINDS,
    AlertKind,
    EventKind,
    NotificationStatus,
    Outcome,
    PlaceKind,
    SessionStatus,
)

# The values rows and phones already hold: changing one would need a data migration.
STORED_VALUES = {
    EventKind: ["session_started", "check_in", "session_extended", "session_finished", "alarm_raised"],
    AlertKind: ["alarm", "duress", "overdue"],
    Outcome: ["genuine", "false_alarm", "test"],
    PlaceKind: ["branch", "mobile_stop", "home_visit", "other"],
    SessionStatus: ["active", "finished"],
    NotificationStatus: ["pending", "sending", "sent", "failed", "undeliverable", "unconfigured"],
    Severity: ["low", "moderate", "high", "severe"],
    ActionTaken: ["none", "calmed", "asked_to_leave", "ban_proposed", "police_called", "first_aid",
                  "safeguarding_referral", "other"],
}


@pytest.mark.parametrize("vocabulary", list(STORED_VALUES), ids=lambda v: v.__name__)
def test_stored_values_are_unchanged_and_every_value_has_a_label(vocabulary):
    assert vocabulary.values() == STORED_VALUES[vocabulary]
    assert all(member.label and member.label != member.value for member in vocabulary
               if member.value not in {"test", "other"})


def test_a_member_is_its_stored_string_in_comparisons_json_and_text():
    assert AlertKind.ALARM == "alarm" and AlertKind("alarm") is AlertKind.ALARM
    assert json.dumps({"kind": AlertKind.DURESS}) == '{"kind": "duress"}'
    assert f"{AlertKind.OVERDUE}:x" == "overdue:x"
    assert {AlertKind.ALARM: 1}.get("alarm") == 1


def test_unknown_stored_values_are_shown_as_they_are():
    assert AlertKind.label_of("alarm") == "Alarm"
    assert AlertKind.label_of("a_kind_from_a_newer_phone") == "a_kind_from_a_newer_phone"
    assert Outcome.label_of(None) == ""
    assert PlaceKind.label_of(None, "Place not yet received") == "Place not yet received"


def test_the_mappings_and_choice_lists_are_the_enums_labels():
    assert ALERT_KINDS == {"alarm": "Alarm", "duress": "Duress", "overdue": "Overdue"}
    assert Outcome.labels() == OUTCOMES and PlaceKind.labels() == PLACE_KINDS
    assert tuple(EventKind.values()) == EVENT_KINDS
    assert BehaviourKind.choices() == KINDS and IncidentLocation.choices() == LOCATIONS
    assert BehaviourKind.ABUSIVE_LANGUAGE.label == "Abusive, offensive or obscene language"


def test_models_label_their_values_from_the_enums():
    import app.models  # noqa: F401  (every model mapped, so relationships resolve)
    from app.incidents.models import Incident
    from app.lone_working.models import Alert, LoneWorkingSession

    alert = Alert(kind="duress", outcome="false_alarm")
    assert (alert.kind_label, alert.outcome_label) == ("Duress", "False alarm")
    incident = Incident(location="childrens_area", severity="high", actions_taken=["first_aid"])
    assert incident.location_label == "Children\u2019s area"
    assert incident.severity_label == Severity.HIGH.label
    assert incident.action_labels == ["First aid given"]
    assert LoneWorkingSession(place_kind="home_visit", place="").place_label == "Home visit"
