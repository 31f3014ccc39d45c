"""The words of an incident report, following "Creating safer libraries" and the model byelaws."""

# The behaviours the model library byelaws name, then the other kinds the guidance asks for.
KINDS = [
    ("disruptive", "Disruptive behaviour"),
    ("violent", "Violent behaviour"),
    ("aggressive", "Aggressive behaviour"),
    ("threatening", "Threatening behaviour"),
    ("discriminatory", "Discriminatory behaviour"),
    ("indecent", "Indecent behaviour"),
    ("abusive_language", "Abusive, offensive or obscene language"),
    ("injury", "Injury or risk of injury"),
    ("damage", "Damage to property"),
    ("theft", "Theft"),
    ("drugs_alcohol", "Drugs or alcohol"),
    ("filming", "Filming by \u201csocial media auditors\u201d"),
    ("online_abuse", "Online abuse"),
    ("safeguarding", "Safeguarding concern"),
    ("other", "Other"),
]

LOCATIONS = [
    ("entrance", "Entrance or foyer"),
    ("counter", "Counter or help desk"),
    ("childrens_area", "Children\u2019s area"),
    ("computers", "Computers"),
    ("study_area", "Study or reading area"),
    ("shelves", "Among the shelves"),
    ("toilets", "Toilets"),
    ("meeting_room", "Meeting room"),
    ("outside", "Outside the building"),
    ("mobile_stop", "At a mobile library stop"),
    ("mobile_vehicle", "On the mobile library"),
    ("home_visit", "On a home visit"),
    ("online", "Online or by phone"),
    ("other", "Somewhere else"),
]

SEVERITIES = [
    ("low", "Low \u2013 unsettling, no one hurt"),
    ("moderate", "Moderate \u2013 someone upset or threatened"),
    ("high", "High \u2013 someone hurt or at risk"),
    ("severe", "Severe \u2013 serious harm or weapon"),
]

ACTIONS = [
    ("none", "No action needed"),
    ("calmed", "Talked it down"),
    ("asked_to_leave", "Asked to leave"),
    ("ban_proposed", "Ban proposed"),
    ("police_called", "Police called"),
    ("first_aid", "First aid given"),
    ("safeguarding_referral", "Safeguarding referral"),
    ("other", "Other"),
]

KIND_LABELS = dict(KINDS)
LOCATION_LABELS = dict(LOCATIONS)
SEVERITY_LABELS = dict(SEVERITIES)
ACTION_LABELS = dict(ACTIONS)
