"""Issue 6 point 2: an event made where the phone knows its location is still accepted.

Every worker form sends latitude, longitude and location_accuracy_m (lw_position.js fills them
when the worker allowed location). "Extend" used to be refused for it ("Unknown field"), so the
worker, believing the session extended, went overdue. These tests hold every lone-working event
type to it, through the sync API and through the no-JavaScript form post, and keep the forms'
fields and the schemas in step (tests/e2e/test_form_contract.py does the same in Chromium).
"""
import re
from datetime import timedelta

import pytest
from lw_helpers import sign_in_client

from app.lone_working import forms as lw_forms
from app.lone_working import schemas as lw_schemas

HERE = {"latitude": 52.62872, "longitude": 1.29346, "location_accuracy_m": 12.0}
THERE = {"latitude": 52.63001, "longitude": 1.30112, "location_accuracy_m": 35.0}

# Each worker form and the schema its post is read with (the form's DATA_FIELDS are the API's keys).
FORM_SCHEMAS = {
    lw_forms.StartSessionForm: lw_schemas.SessionStartedV1,
    lw_forms.CheckInForm: lw_schemas.CheckInV1,
    lw_forms.ExtendForm: lw_schemas.SessionExtendedV1,
    lw_forms.FinishForm: lw_schemas.SessionFinishedV1,
    lw_forms.AlarmForm: lw_schemas.AlarmRaisedV1,
}


def _as_the_phone_sends(values: dict) -> dict:
    """outbox_forms.js sends every form field as a string."""
    return {key: str(value) for key, value in values.items()}


def test_every_worker_form_is_paired_with_a_schema_that_accepts_all_its_fields():
    assert set(lw_forms._EventForm.__subclasses__()) == set(FORM_SCHEMAS), "a new worker form needs its schema here"
    for form, schema in FORM_SCHEMAS.items():
        refused = set(form.DATA_FIELDS) - set(schema().fields)
        assert not refused, f"{form.__name__} sends fields {schema.__name__} refuses: {sorted(refused)}"


def test_the_extend_record_with_the_phones_location_is_created_through_sync(app, phone, sync_as, lw):
    start = phone.start(minutes=60, interval=30, **HERE)
    assert sync_as([start])[0] == ["created"]
    planned_end = lw.session(start["id"]).planned_end_at

    extend = phone.extend(start["id"], 30)
    sequence = extend["data"]["sequence"]
    extend["data"].update(_as_the_phone_sends({**THERE, "extend_by_minutes": 30, "sequence": sequence}))
    statuses, results = sync_as([extend])
    assert statuses == ["created"], results

    stored = next(e for e in lw.events(start["id"]) if e.kind == "session_extended")
    assert {key: stored.data[key] for key in THERE} == THERE
    session = lw.session(start["id"])
    assert session.planned_end_at == planned_end + timedelta(minutes=30)
    # The board's last-known location follows the extension.
    assert (session.latitude, session.longitude) == (THERE["latitude"], THERE["longitude"])


@pytest.mark.parametrize("type_", ["check_in", "session_extended", "session_finished", "alarm_raised"])
def test_every_session_event_with_the_phones_location_is_created_and_moves_the_last_known_location(
        app, phone, sync_as, lw, type_):
    start = phone.start(minutes=60, interval=30, **HERE)
    assert sync_as([start])[0] == ["created"]
    record = {
        "check_in": lambda: phone.check_in(start["id"]),
        "session_extended": lambda: phone.extend(start["id"], 15),
        "session_finished": lambda: phone.finish(start["id"]),
        "alarm_raised": lambda: phone.alarm(start["id"]),
    }[type_]()
    record["data"].update(_as_the_phone_sends(THERE))
    statuses, results = sync_as([record])
    assert statuses == ["created"], results
    assert lw.session(start["id"]).latitude == THERE["latitude"]


def test_an_event_with_half_a_location_is_refused(app, phone, sync_as):
    start = phone.start()
    sync_as([start])
    extend = phone.extend(start["id"], 30)
    extend["data"]["latitude"] = "52.6"
    statuses, results = sync_as([extend])
    assert statuses == ["rejected"] and "latitude" in results[0]["errors"]


def _form_fields(html: str, form_id: str) -> dict:
    form = html[html.index(f'id="{form_id}"'):]
    form = form[:form.index("</form>")]
    return dict(re.findall(r'name="([a-z_]+)"[^>]*?value="([^"]*)"', form))


def test_the_extend_form_posted_without_javascript_with_the_phones_location_is_created(app, clock, lw):
    worker = sign_in_client(app, "worker@demo.example")
    start = _form_fields(worker.get("/lone-working/").get_data(as_text=True), "lw-start-form")
    response = worker.post("/lone-working/start", data={
        **start, "place_kind": "home_visit", "place": "12 Elm Road", "planned_end_at": "12:00",
        "check_in_interval_minutes": "30", **_as_the_phone_sends(HERE)})
    assert response.status_code == 302
    session_id = start["record_id"]
    planned_end = lw.session(session_id).planned_end_at

    clock.advance(minutes=10)
    extend = _form_fields(worker.get("/lone-working/").get_data(as_text=True), "lw-extend-form")
    assert extend["session_id"] == session_id
    response = worker.post("/lone-working/extend", data={**extend, "extend_by_minutes": "60",
                                                          **_as_the_phone_sends(THERE)})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Sent. Your session is extended." in worker.get("/lone-working/").get_data(as_text=True)

    stored = next(e for e in lw.events(session_id) if e.kind == "session_extended")
    assert stored.id.hex == extend["record_id"].replace("-", "")
    assert {key: stored.data[key] for key in THERE} == THERE
    session = lw.session(session_id)
    assert session.planned_end_at == planned_end + timedelta(minutes=60)
    assert (session.latitude, session.longitude) == (THERE["latitude"], THERE["longitude"])
