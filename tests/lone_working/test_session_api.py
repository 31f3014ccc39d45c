"""GET /api/v1/lone-working/session: the worker's own session as the server projects it.

The phone reads this instead of the lone-working HTML page; its countdown runs to `deadline_at`
on the server's clock (`server_time`), and `overdue_at` (deadline + grace) is a different instant.
"""
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from lw_helpers import sign_in_client
from openapi_spec_validator import validate

from app.extensions import db as _db

PATH = "/api/v1/lone-working/session"


def _time(text):
    return datetime.fromisoformat(text)


def test_signed_out_is_401_json_never_a_redirect(client):
    for accept in ("application/json", "text/html", "*/*"):
        response = client.get(PATH, headers={"Accept": accept})
        assert response.status_code == 401
        assert "Location" not in response.headers
        assert response.get_json()["error"]["code"] == "signed_out"
        assert response.headers["Cache-Control"] == "no-store"


def test_no_session_answers_null_with_the_servers_time_and_the_services_settings(app, clock):
    body = sign_in_client(app, "worker@demo.example").get(PATH).get_json()
    assert body["session"] is None
    assert _time(body["server_time"]) == clock.now
    assert body["settings"] == {"grace_minutes": 5, "due_soon_minutes": 10, "default_check_in_minutes": 30,
                                "clock_skew_limit_seconds": app.config["CLOCK_SKEW_FLAG_SECONDS"]}


def test_running_session_has_deadline_and_overdue_at_as_two_different_instants(app, clock, phone, sync_as):
    start = phone.start(minutes=240, interval=30, place="12 Elm Road")
    sync_as([start])
    clock.advance(minutes=10)
    check_in = phone.check_in(start["id"])
    sync_as([check_in])
    clock.advance(minutes=2)

    body = sign_in_client(app, "worker@demo.example").get(PATH).get_json()
    session = body["session"]
    checked_in_at = clock.now - timedelta(minutes=2)
    assert session["id"] == start["id"] and session["status"] == "active"
    assert session["place_label"] == "12 Elm Road"
    assert session["check_in_interval_minutes"] == 30
    assert _time(session["started_at"]) == clock.now - timedelta(minutes=12)
    assert _time(session["planned_end_at"]) == clock.now - timedelta(minutes=12) + timedelta(minutes=240)
    assert _time(session["next_check_in_due_at"]) == checked_in_at + timedelta(minutes=30)
    assert _time(session["deadline_at"]) == checked_in_at + timedelta(minutes=30)
    assert _time(session["overdue_at"]) == checked_in_at + timedelta(minutes=35)   # + 5 min grace
    assert session["last_sequence"] == 1
    assert _time(session["last_check_in"]["phone_time"]) == checked_in_at
    assert session["last_check_in"]["phone_offset_minutes"] == 60
    assert _time(session["last_check_in"]["received_at"]) == checked_in_at
    assert _time(session["last_contact"]["received_at"]) == checked_in_at
    assert session["alert"] is None
    assert _time(body["server_time"]) == clock.now


def test_only_your_own_session_is_answered(app, clock, phone, sync_as):
    start = phone.start(place="12 Elm Road")
    sync_as([start])   # Wendy's session
    assert sign_in_client(app, "worker2@demo.example").get(PATH).get_json()["session"] is None
    supervisor = sign_in_client(app, "supervisor@demo.example").get(PATH).get_json()
    assert supervisor["session"] is None
    assert sign_in_client(app, "worker@demo.example").get(PATH).get_json()["session"]["id"] == start["id"]


def test_a_finished_session_is_no_longer_answered(app, clock, phone, sync_as):
    start = phone.start()
    sync_as([start])
    clock.advance(minutes=5)
    sync_as([phone.finish(start["id"])])
    assert sign_in_client(app, "worker@demo.example").get(PATH).get_json()["session"] is None


def test_overdue_alert_shows_who_acknowledged_it_and_when(app, clock, phone, sync_as, lw):
    from app.auth.models import User
    from app.lone_working.models import Alert
    from app.supervise.services import acknowledge_alert

    start = phone.start(minutes=240, interval=30)
    sync_as([start])
    clock.advance(minutes=36)
    lw.sweep()
    worker = sign_in_client(app, "worker@demo.example")
    alert = worker.get(PATH).get_json()["session"]["alert"]
    assert alert["kind"] == "overdue" and alert["kind_label"] == "Overdue"
    assert alert["acknowledged"] is False and alert["acknowledged_by"] is None and alert["resolved"] is False

    clock.advance(minutes=1)
    with app.app_context():
        supervisor = _db.session.scalar(sa.select(User).where(User.email == "supervisor@demo.example"))
        alert_id = _db.session.scalar(sa.select(Alert.id))
        acknowledge_alert(supervisor, alert_id, "Calling her now", clock.now)
    alert = worker.get(PATH).get_json()["session"]["alert"]
    assert alert["acknowledged"] is True and alert["acknowledged_by"] == "Sam Supervisor"
    assert _time(alert["acknowledged_at"]) == clock.now
    assert _time(alert["raised_at"]) == clock.now - timedelta(minutes=1)


def test_a_duress_alert_is_never_shown_to_whoever_holds_the_phone(app, clock, phone, sync_as):
    """A duress alert is silent: the worker's own API must never give it away."""
    from app.auth.models import User
    from app.lone_working.models import Alert
    from app.lone_working.services import set_worker_pins

    with app.app_context():
        worker = _db.session.scalar(sa.select(User).where(User.email == "worker@demo.example"))
        set_worker_pins(worker, "2468", "1357")
        _db.session.commit()
    start = phone.start()
    sync_as([start])
    statuses, _ = sync_as([phone.finish(start["id"], pin="1357")])
    assert statuses == ["created"]
    second = phone.start()
    sync_as([second])
    with app.app_context():
        # Tie the duress alert to the running session: the API must filter it by kind, not by status.
        duress = _db.session.scalar(sa.select(Alert).where(Alert.kind == "duress"))
        duress.session_id = uuid.UUID(second["id"])
        _db.session.commit()
    body = sign_in_client(app, "worker@demo.example").get(PATH).get_json()
    assert body["session"]["id"] == second["id"]
    assert body["session"]["alert"] is None
    assert "duress" not in str(body).lower()


def test_openapi_describes_the_endpoint_and_the_answer_matches_it(app, client, clock, phone, sync_as):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    operation = document["paths"][PATH]["get"]
    assert set(operation["responses"]) >= {"200", "401"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WorkerSessionState"}
    schemas = document["components"]["schemas"]
    state = schemas["WorkerSessionState"]
    assert set(state["required"]) == {"session", "settings", "server_time"}
    assert state["properties"]["session"]["anyOf"][0] == {"$ref": "#/components/schemas/WorkerSession"}
    session_schema = schemas["WorkerSession"]
    assert {"deadline_at", "overdue_at", "next_check_in_due_at", "planned_end_at", "last_sequence",
            "last_check_in", "last_contact", "alert"} <= set(session_schema["properties"])
    assert "grace" in session_schema["properties"]["overdue_at"]["description"]

    sync_as([phone.start()])
    body = sign_in_client(app, "worker@demo.example").get(PATH).get_json()
    assert set(body) == set(state["properties"])
    assert set(body["session"]) == set(session_schema["properties"])
