"""The incident record's data, as the phone sends it and as the form is turned into."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from app.incidents.vocabulary import ACTIONS, KINDS, LOCATIONS, SEVERITIES
from app.sync.schemas import PLAUSIBLE_TIME


class TrimmedString(fields.String):
    """A string with surrounding white space removed; None counts as empty."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        # marshmallow refuses None before _deserialize is reached ("Field may not be null"), so
        # None is made empty here: an optional text left out of a form post is simply empty.
        return super().deserialize("" if value is None else value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _codes(pairs):
    return [code for code, _ in pairs]


def _one_of(pairs, what):
    article = "an" if what[0] in "aeiou" else "a"
    return validate.OneOf(_codes(pairs), error=f"Choose {article} {what} from the list.")


class IncidentDataV1(Schema):
    """Version 1 of an incident report's data."""

    class Meta:
        unknown = RAISE

    occurred_at = fields.AwareDateTime(required=True, validate=PLAUSIBLE_TIME, error_messages={
        "required": "Say when it happened.", "invalid": "Give a date and time.",
        "invalid_awareness": "Give a date and time with its UTC offset."})
    branch_id = fields.Integer(required=True,
                               validate=validate.Range(min=1, max=2**31 - 1, error="Choose where it happened."),
                               error_messages={"required": "Choose where it happened.",
                                                            "invalid": "Choose where it happened."})
    location = fields.String(required=True, validate=_one_of(LOCATIONS, "place"),
                             error_messages={"required": "Choose where in or around the branch."})
    location_detail = TrimmedString(load_default="", validate=validate.Length(max=200))
    kinds = fields.List(fields.String(validate=_one_of(KINDS, "kind of behaviour")), required=True,
                        validate=validate.Length(min=1, max=len(KINDS), error="Choose at least one kind of behaviour."),
                        error_messages={"required": "Choose at least one kind of behaviour."})
    severity = fields.String(required=True, validate=_one_of(SEVERITIES, "level"),
                             error_messages={"required": "Say how serious it was."})
    description = TrimmedString(required=True, validate=validate.Length(max=20000),
                                error_messages={"required": "Describe what happened."})
    people_involved = TrimmedString(load_default="", validate=validate.Length(max=10000))
    witnesses = TrimmedString(load_default="", validate=validate.Length(max=10000))
    injuries = TrimmedString(load_default="", validate=validate.Length(max=10000))
    police_informed = fields.Boolean(load_default=False)
    police_reference = TrimmedString(load_default="", validate=validate.Length(max=100))
    cctv_footage = fields.Boolean(load_default=False)
    bodycam_footage = fields.Boolean(load_default=False)
    actions_taken = fields.List(fields.String(validate=_one_of(ACTIONS, "action")), load_default=list,
                                validate=validate.Length(max=len(ACTIONS)))
    debrief_wanted = fields.Boolean(load_default=False)

    @validates("description")
    def _description_not_blank(self, value, **_):
        if not value:
            raise ValidationError("Describe what happened, including what was said and done.")

    @validates("kinds")
    def _kinds_distinct(self, value, **_):
        if len(set(value)) != len(value):
            raise ValidationError("Each kind of behaviour may be chosen once.")



