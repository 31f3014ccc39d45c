"""The incident report form. Rules live in the marshmallow schema; this form renders and collects."""
import uuid

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice

from app.incidents.vocabulary import ACTIONS, KINDS, LOCATIONS, SEVERITIES


def as_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class CheckboxListField(SelectMultipleField):
    """Several choices as large checkboxes (a multi-select list is hard to use on a phone)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class IncidentForm(FlaskForm):
    # Made when the page is rendered, so a form posted twice is stored once. With JavaScript,
    # the outbox gives every submission a fresh id instead (the page may be a cached copy).
    record_id = HiddenField(default=lambda: str(uuid.uuid4()))
    occurred_at = DateTimeLocalField("When did it happen?", format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    branch_id = SelectField("Where?", coerce=int, validate_choice=False)
    location = SelectField("Where exactly?", choices=as_choices([("", "Choose\u2026")] + LOCATIONS),
                           validate_choice=False)
    location_detail = StringField("More about the place (optional)", description="For example the stop name or street")
    kinds = CheckboxListField("What kind of behaviour? Choose all that apply", choices=as_choices(KINDS),
                              validate_choice=False)
    severity = RadioField("How serious was it?", choices=as_choices(SEVERITIES), default="low", validate_choice=False)
    description = TextAreaField("What happened?",
                                description="What was said and done, in order, in the words used if you can.")
    people_involved = TextAreaField(
        "People involved (optional)",
        description="Describe them: age, clothing, anything distinctive. Names are not needed.")
    witnesses = TextAreaField("Witnesses (optional)")
    injuries = TextAreaField("Injuries (optional)", description="Who was hurt and how. Leave empty if no one was.")
    police_informed = BooleanField("The police were told")
    police_reference = StringField("Police reference (optional)")
    cctv_footage = BooleanField("There is CCTV footage")
    bodycam_footage = BooleanField("There is bodycam footage")
    actions_taken = CheckboxListField("What was done?", choices=as_choices(ACTIONS), validate_choice=False)
    debrief_wanted = BooleanField("I would like a debrief or someone to talk to")

    # Fields whose names and meaning are the same as the API's incident data.
    DATA_FIELDS = ("branch_id", "location", "location_detail", "kinds", "severity", "description",
                   "people_involved", "witnesses", "injuries", "police_informed", "police_reference",
                   "cctv_footage", "bodycam_footage", "actions_taken", "debrief_wanted")
