"""The words of an incident report, following "Creating safer libraries" and the model byelaws.

Stored values and labels are declared once, here, as enums (app.vocabulary).
"""
from app.vocabulary import LabelledStrEnum


class BehaviourKind(LabelledStrEnum):
    """What kind of behaviour (incident_kind.kind): the behaviours the model library byelaws name,
    then the other kinds the guidance asks for."""

    DISRUPTIVE = "disruptive", "Disruptive behaviour"
    VIOLENT = "violent", "Violent behaviour"
    AGGRESSIVE = "aggressive", "Aggressive behaviour"
    THREATENING = "threatening", "Threatening behaviour"
    DISCRIMINATORY = "discriminatory", "Discriminatory behaviour"
    INDECENT = "indecent", "Indecent behaviour"
    ABUSIVE_LANGUAGE = "abusive_language", "Abusive, offensive or obscene language"
    INJURY = "injury", "Injury or risk of injury"
    DAMAGE = "damage", "Damage to property"
    THEFT = "theft", "Theft"
    DRUGS_ALCOHOL = "drugs_alcohol", "Drugs or alcohol"
    FILMING = "filming", "Filming by \u201csocial media auditors\u201d"
    ONLINE_ABUSE = "online_abuse", "Online abuse"
    SAFEGUARDING = "safeguarding", "Safeguarding concern"
    OTHER = "other", "Other"


class IncidentLocation(LabelledStrEnum):
    """Where exactly it happened (incident.location)."""

    ENTRANCE = "entrance", "Entrance or foyer"
    COUNTER = "counter", "Counter or help desk"
    CHILDRENS_AREA = "childrens_area", "Children\u2019s area"
    COMPUTERS = "computers", "Computers"
    STUDY_AREA = "study_area", "Study or reading area"
    SHELVES = "shelves", "Among the shelves"
    TOILETS = "toilets", "Toilets"
    MEETING_ROOM = "meeting_room", "Meeting room"
    OUTSIDE = "outside", "Outside the building"
    MOBILE_STOP = "mobile_stop", "At a mobile library stop"
    MOBILE_VEHICLE = "mobile_vehicle", "On the mobile library"
    HOME_VISIT = "home_visit", "On a home visit"
    ONLINE = "online", "Online or by phone"
    OTHER = "other", "Somewhere else"


class Severity(LabelledStrEnum):
    """How serious it was (incident.severity)."""

    LOW = "low", "Low \u2013 unsettling, no one hurt"
    MODERATE = "moderate", "Moderate \u2013 someone upset or threatened"
    HIGH = "high", "High \u2013 someone hurt or at risk"
    SEVERE = "severe", "Severe \u2013 serious harm or weapon"


class ActionTaken(LabelledStrEnum):
    """What was done (incident.actions_taken)."""

    NONE = "none", "No action needed"
    CALMED = "calmed", "Talked it down"
    ASKED_TO_LEAVE = "asked_to_leave", "Asked to leave"
    BAN_PROPOSED = "ban_proposed", "Ban proposed"
    POLICE_CALLED = "police_called", "Police called"
    FIRST_AID = "first_aid", "First aid given"
    SAFEGUARDING_REFERRAL = "safeguarding_referral", "Safeguarding referral"
    OTHER = "other", "Other"

# (value, label) lists for forms and filters, in the order people see them.
KINDS = BehaviourKind.choices()
LOCATIONS = IncidentLocation.choices()
SEVERITIES = Severity.choices()
ACTIONS = ActionTaken.choices()
