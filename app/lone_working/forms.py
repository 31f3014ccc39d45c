"""The worker's lone-working forms. Field names are the API's data keys; rules live in the schemas.

With JavaScript, outbox_forms.js writes each <form data-outbox-type> to the outbox (fresh record id,
the phone's time) and sends it; without, it posts here and the view calls the same ingest.
`record_id` is made when the page is rendered, so a form posted twice is stored once.
"""
import uuid

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app.lone_working.models import Outcome, PlaceKind

INTERVAL_CHOICES = [5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1440]
EXTEND_CHOICES = [(15, "15 minutes"), (30, "30 minutes"), (60, "1 hour"), (120, "2 hours")]


def _new_id() -> str:
    return str(uuid.uuid4())


class _EventForm(FlaskForm):
    record_id = HiddenField(default=_new_id)
    sequence = HiddenField(default="0")
    latitude = HiddenField()
    longitude = HiddenField()
    location_accuracy_m = HiddenField()

    DATA_FIELDS: tuple[str, ...] = ("sequence", "latitude", "longitude", "location_accuracy_m")

    def event_data(self) -> dict:
        """The API data this form says (empty answers left out)."""
        data = {}
        for name in self.DATA_FIELDS:
            value = self[name].data
            if value not in (None, ""):
                data[name] = value
        return data

    def record_uuid(self) -> uuid.UUID:
        try:
            return uuid.UUID(self.record_id.data)
        except (TypeError, ValueError):
            return uuid.uuid4()


class StartSessionForm(_EventForm):
    place_kind = RadioField("Where are you working?", default="branch", validate_choice=False,
                            choices=[SelectChoice(k, v) for k, v in PlaceKind.choices()])
    branch_id = SelectField("Branch", validate_choice=False)
    place = StringField("Where exactly", description="The route or stop, the address, or a short description")
    planned_end_at = StringField("Finish by", render_kw={"type": "time"},
                                 description="If it is before now, it means tomorrow")
    duration_minutes = HiddenField()
    check_in_interval_minutes = SelectField("Check in", validate_choice=False)
    note = TextAreaField("Note (optional)", description="For example: known risk at this address; closing alone")

    DATA_FIELDS = _EventForm.DATA_FIELDS + ("place_kind", "branch_id", "place", "planned_end_at", "duration_minutes",
                                            "check_in_interval_minutes", "note")


class CheckInForm(_EventForm):
    session_id = HiddenField()
    DATA_FIELDS = _EventForm.DATA_FIELDS + ("session_id",)


class ExtendForm(_EventForm):
    session_id = HiddenField()
    extend_by_minutes = SelectField("Extend by", default="30", validate_choice=False,
                                    choices=[SelectChoice(str(m), label) for m, label in EXTEND_CHOICES])
    DATA_FIELDS = _EventForm.DATA_FIELDS + ("session_id", "extend_by_minutes")


class FinishForm(_EventForm):
    session_id = HiddenField()
    pin = PasswordField("Your PIN", render_kw={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"})
    DATA_FIELDS = _EventForm.DATA_FIELDS + ("session_id", "pin")


class AlarmForm(_EventForm):
    session_id = HiddenField()
    message = StringField("Anything to add (optional)")
    DATA_FIELDS = _EventForm.DATA_FIELDS + ("session_id", "message")


class PinsForm(FlaskForm):
    password = PasswordField("Your password", render_kw={"autocomplete": "current-password"})
    finish_pin = PasswordField("Finish PIN (4 to 8 digits)", render_kw={"inputmode": "numeric", "autocomplete": "off"})
    duress_pin = PasswordField("Duress PIN (4 to 8 digits, different)",
                               render_kw={"inputmode": "numeric", "autocomplete": "off"},
                               description="Finishing with this PIN looks like an ordinary finish on your phone, "
                                           "but silently alerts your supervisors.")


class AcknowledgeForm(FlaskForm):
    note = TextAreaField("Note", description="For example: called her, she is fine; on my way")


class ResolveForm(FlaskForm):
    outcome = RadioField("What was it?", validate_choice=False,
                         choices=[SelectChoice(k, v) for k, v in Outcome.choices()])
    note = TextAreaField("What happened")


class NoteForm(FlaskForm):
    note = TextAreaField("Add a note")
