"""The incident form without JavaScript: it posts, stores once, and explains what is wrong."""
import re
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from app.incidents.models import Incident
from app.org.models import Branch
from app.sync.models import RecordReceipt
from app.timefmt import to_service_local


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html)
    assert match, f"no hidden {name} in the page"
    return match.group(1)


@pytest.fixture
def form_page(auth):
    """Sign the worker in and open the form; answers the hidden values the page carries."""
    auth.sign_in()
    response = auth.client.get("/incidents/new")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return {"csrf_token": _hidden(html, "csrf_token"), "record_id": _hidden(html, "record_id"), "html": html}


def _form_data(app, form_page, **overrides):
    with app.app_context():
        branch_id = _db.session.scalar(sa.select(Branch.id).where(Branch.name == "Central Library"))
        occurred = to_service_local(datetime.now().astimezone()) - timedelta(minutes=25)
    data = {"csrf_token": form_page["csrf_token"], "record_id": form_page["record_id"],
            "occurred_at": occurred.strftime("%Y-%m-%dT%H:%M"), "branch_id": str(branch_id),
            "location": "computers", "location_detail": "PC 4", "kinds": ["abusive_language", "damage"],
            "severity": "moderate", "description": "He swore at me and kicked the printer.",
            "people_involved": "Young man, red cap", "police_informed": "y", "police_reference": "REF-77",
            "actions_taken": ["asked_to_leave"], "debrief_wanted": "y", "witnesses": "", "injuries": ""}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_form_page_works_offline_ready_and_has_sensible_defaults(form_page, app):
    html = form_page["html"]
    uuid.UUID(form_page["record_id"])  # a fresh id made when the page was rendered
    with app.app_context():
        central = _db.session.scalar(sa.select(Branch.id).where(Branch.name == "Central Library"))
    assert re.search(rf'<option selected value="{central}">|<option value="{central}" selected', html)
    assert 'value="low" checked' in html or 'checked type="radio" value="low"' in html or \
        re.search(r'<input[^>]*checked[^>]*value="low"', html)
    assert 'name="occurred_at"' in html and re.search(r'name="occurred_at"[^>]*value="\d{4}-\d\d-\d\dT\d\d:\d\d', html)


def test_form_post_without_javascript_stores_the_report(auth, app, form_page):
    response = auth.client.post("/incidents/new", data=_form_data(app, form_page))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/incidents/{form_page['record_id']}"
    shown = auth.client.get(response.headers["Location"])
    assert shown.status_code == 200
    assert "Sent. Your report has reached the server." in shown.get_data(as_text=True)
    with app.app_context():
        incident = _db.session.get(Incident, uuid.UUID(form_page["record_id"]))
        assert incident.description == "He swore at me and kicked the printer."
        assert incident.kind_codes == ["abusive_language", "damage"]
        assert incident.police_informed is True and incident.police_reference == "REF-77"
        assert incident.debrief_wanted is True and incident.cctv_footage is False
        assert incident.location_detail == "PC 4"
        assert incident.receipt.via == "form"
        # The form's local time is the service's local time (Europe/London).
        assert to_service_local(incident.occurred_at).strftime("%Y-%m-%dT%H:%M") == \
            _form_data(app, form_page)["occurred_at"]


def test_the_same_form_posted_twice_is_stored_once(auth, app, form_page):
    data = _form_data(app, form_page)
    first = auth.client.post("/incidents/new", data=data)
    second = auth.client.post("/incidents/new", data=data)  # a double tap, or a resubmit after reload
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 1
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(RecordReceipt)) == 1


def test_a_new_form_gets_a_new_record_id(auth):
    auth.sign_in()
    first = _hidden(auth.client.get("/incidents/new").get_data(as_text=True), "record_id")
    second = _hidden(auth.client.get("/incidents/new").get_data(as_text=True), "record_id")
    assert first != second


def test_form_errors_are_shown_with_400_and_nothing_is_stored(auth, app, form_page):
    data = _form_data(app, form_page, description="  ", kinds=None, location="", location_detail="kept text")
    response = auth.client.post("/incidents/new", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Some answers need another look" in html
    assert "Describe what happened" in html
    assert "Choose at least one kind of behaviour." in html
    assert 'aria-invalid="true"' in html
    assert 'value="kept text"' in html  # what the worker typed is not lost
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(RecordReceipt)) == 0


def test_form_time_in_the_future_is_refused_with_400(auth, app, form_page):
    with app.app_context():
        tomorrow = (to_service_local(datetime.now().astimezone()) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = auth.client.post("/incidents/new", data=_form_data(app, form_page, occurred_at=tomorrow))
    assert response.status_code == 400
    assert "This time is in the future" in response.get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 0


def test_form_branch_of_another_service_is_refused_with_400(auth, app, form_page, people):
    far = people["branches"]["Far Away Library"]
    response = auth.client.post("/incidents/new", data=_form_data(app, form_page, branch_id=str(far)))
    assert response.status_code == 400
    assert "Choose one of your library service" in response.get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 0


def test_form_post_without_csrf_token_is_refused(auth, app, form_page):
    response = auth.client.post("/incidents/new", data=_form_data(app, form_page, csrf_token=None))
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(RecordReceipt)) == 0


def test_form_post_that_leaves_out_optional_text_fields_is_stored(auth, app, form_page):
    """A client that sends only what was filled in (curl, an old cached page) is not refused."""
    data = _form_data(app, form_page, witnesses=None, injuries=None, people_involved=None,
                      location_detail=None, police_reference=None)
    response = auth.client.post("/incidents/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        incident = _db.session.get(Incident, uuid.UUID(form_page["record_id"]))
        assert incident.witnesses == "" and incident.injuries == "" and incident.location_detail == ""


def test_form_with_a_garbled_record_id_still_stores_once(auth, app, form_page):
    response = auth.client.post("/incidents/new", data=_form_data(app, form_page, record_id="not-a-uuid"))
    assert response.status_code == 302
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 1
