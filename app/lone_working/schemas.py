"""The lone-working events' data, as the phone sends it and as the forms are turned into.

Every event but session_started names its session by `session_id`: the id of the session's
session_started record (made on the phone). `sequence` is the phone's per-session counter,
used to order events with the same phone time. Empty strings from forms count as absent.
"""
from datetime import datetime, time

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from app.lone_working.models import PlaceKind
from app.lone_working.rules import MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES

# The years a planned end may name (the sync envelope's own times are held to the same window).
PLAUSIBLE_YEARS = (1970, 2100)
# Ids are 32-bit integers in the database: a larger number can name no row and would overflow.
MAX_ID = 2**31 - 1


class TrimmedString(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return ""
        return super()._deserialize(value, attr, data, **kwargs).strip()


class PlannedEnd(fields.String):
    """An ISO date-time (with or without offset) or a wall-clock "HH:MM"; kept as given.

    It is turned into an instant against the session's start (see rules.resolve_planned_end).
    """

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            if len(text) <= 8 and ":" in text and "T" not in text:
                time.fromisoformat(text)
            else:
                moment = datetime.fromisoformat(text)
                # Years near 1 or 9999 overflow when turned into UTC or moved by an offset.
                if not PLAUSIBLE_YEARS[0] <= moment.year < PLAUSIBLE_YEARS[1]:
                    raise ValidationError("Give a planned end between 1970 and 2100; check the phone's clock.")
        except ValueError as error:
            raise ValidationError("Give the planned end as a time (HH:MM) or a date and time.") from error
        return text


class PinAttempt:
    """A PIN typed to finish. Its text never reaches a stored row, log or content hash.

    The sync service hashes a record's data to tell duplicates from conflicts; it renders
    unknown values with str(), which here says only that a PIN was given.
    """

    __slots__ = ("_pin",)

    def __init__(self, pin: str):
        self._pin = pin

    def reveal(self) -> str:
        return self._pin

    def __str__(self) -> str:
        return "pin-given"

    __repr__ = __str__


class PinField(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            return None
        if not text.isdigit() or not 4 <= len(text) <= 8:
            raise ValidationError("Your PIN is 4 to 8 digits.")
        return PinAttempt(text)


class EventData(Schema):
    """What every event carries: the phone's sequence and, when the worker allows it, where the
    phone was. Every worker form sends the location fields (lw_position.js fills them), so they
    belong here, not to some event types only: a type without them refused its whole record."""

    class Meta:
        unknown = RAISE

    sequence = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1),
                              error_messages={"invalid": "The sequence must be a whole number."})
    latitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))
    location_accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 100000))

    @pre_load
    def _empty_strings_are_absent(self, data, **_):
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value != ""}
        return data

    @validates_schema
    def _coordinates_in_pairs(self, data, **_):
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ValidationError("Send both latitude and longitude, or neither.", "latitude")


class SessionEventData(EventData):
    session_id = fields.UUID(required=True, error_messages={
        "required": "Say which session this belongs to.", "invalid_uuid": "The session id is not valid."})


class SessionStartedV1(EventData):
    """session_started: the record's own id becomes the session's id."""

    place_kind = fields.String(required=True,
                               validate=validate.OneOf(PlaceKind.values(), error="Choose the kind of place."),
                               error_messages={"required": "Choose the kind of place."})
    branch_id = fields.Integer(load_default=None, allow_none=True,
                               validate=validate.Range(min=1, max=MAX_ID, error="Choose a branch from the list."),
                               error_messages={"invalid": "Choose a branch from the list."})
    place = TrimmedString(load_default="", validate=validate.Length(max=300))
    planned_end_at = PlannedEnd(load_default=None, allow_none=True)
    duration_minutes = fields.Integer(
        load_default=None, allow_none=True,
        validate=validate.Range(min=5, max=7 * 24 * 60, error="Give between 5 minutes and 7 days."))
    check_in_interval_minutes = fields.Integer(
        load_default=None, allow_none=True,
        validate=validate.Range(min=MIN_INTERVAL_MINUTES, max=MAX_INTERVAL_MINUTES,
                                error="Check in every 5 minutes to 24 hours (1440 minutes)."))
    note = TrimmedString(load_default="", validate=validate.Length(max=1000))

    @validates_schema
    def _where_and_until_when(self, data, **_):
        errors = {}
        if data.get("place_kind") == "branch" and not data.get("branch_id"):
            errors["branch_id"] = ["Choose the branch."]
        elif data.get("place_kind") in ("mobile_stop", "home_visit", "other") and not data.get("place"):
            errors["place"] = ["Say where: the route or stop, the address, or a short description."]
        if data.get("planned_end_at") is None and data.get("duration_minutes") is None:
            errors["planned_end_at"] = ["Say when you expect to finish."]
        if errors:
            raise ValidationError(errors)


class CheckInV1(SessionEventData):
    """check_in: the worker's "I'm OK". Nothing else counts as a check-in."""


class SessionExtendedV1(SessionEventData):
    extend_by_minutes = fields.Integer(load_default=None, allow_none=True,
                                       validate=validate.Range(min=5, max=MAX_INTERVAL_MINUTES,
                                                               error="Extend by 5 minutes to 24 hours."))
    planned_end_at = PlannedEnd(load_default=None, allow_none=True)

    @validates_schema
    def _one_way_to_extend(self, data, **_):
        if (data.get("extend_by_minutes") is None) == (data.get("planned_end_at") is None):
            raise ValidationError("Give either how many minutes to add or the new planned end.", "extend_by_minutes")


class SessionFinishedV1(SessionEventData):
    pin = PinField(load_default=None, allow_none=True)


class AlarmRaisedV1(EventData):
    """alarm_raised: "I need help". A session is optional: an alarm works without one."""

    session_id = fields.UUID(load_default=None, allow_none=True)
    message = TrimmedString(load_default="", validate=validate.Length(max=500))
