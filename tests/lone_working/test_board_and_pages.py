"""The supervisor's board (scope, order, history) and the worker's pages without JavaScript."""
import re
import uuid
from datetime import timedelta

import sqlalchemy as sa
from lw_helpers import TEST_PASSWORD, csrf_of, sign_in_client

from app.extensions import db as _db
from app.lone_working.models import AlertAction

SUPERVISOR = "supervisor@demo.example"


def _add_people(app):
    """A supervisor of the Riverside team only, a Riverside worker, and someone in another service."""
    from app.auth.models import User
    from app.auth.services import create_user
    from app.org.models import Team
    from app.org.services import add_branch, add_team, get_or_create_service
    with app.app_context():
        riverside = _db.session.scalar(sa.select(Team).where(Team.name == "Riverside team"))
        create_user("river.sup@demo.example", "Rita River", TEST_PASSWORD, riverside.branch.library_service_id,
                    role="supervisor", supervised_team_ids=[riverside.id])
        create_user("river.worker@demo.example", "Ron River", TEST_PASSWORD, riverside.branch.library_service_id,
                    team_id=riverside.id)
        other = get_or_create_service("Other Service")
        team = add_team(add_branch(other, "Other Central"), "Other team")
        create_user("other.admin@demo.example", "Otto Other", TEST_PASSWORD, other.id, role="admin")
        create_user("other.worker@demo.example", "Olga Other", TEST_PASSWORD, other.id, team_id=team.id)
        _db.session.commit()
        return {u.email: u.id for u in _db.session.scalars(sa.select(User))}


def _workers_on_the_board(html):
    return re.findall(r'data-worker="([^"]+)"', html)


def test_staff_never_see_the_board_and_signed_out_people_are_sent_to_sign_in(app, client):
    assert client.get("/supervise/").status_code == 302
    worker = sign_in_client(app, "worker@demo.example")
    for path in ("/supervise/", "/supervise/board", "/supervise/past", "/supervise/alerts/1",
                 f"/supervise/sessions/{uuid.uuid4()}"):
        assert worker.get(path).status_code == 403, path
    assert worker.post("/supervise/alerts/1/resolve", data={"outcome": "test", "note": "x"}).status_code in (400, 403)


def test_each_supervisor_sees_their_teams_and_each_admin_their_service(app, clock, phone, sync_as):
    _add_people(app)
    for email in ("worker@demo.example", "worker2@demo.example", "river.worker@demo.example",
                  "other.worker@demo.example"):
        sync_as([phone.start()], email=email)
    boards = {email: _workers_on_the_board(sign_in_client(app, email).get("/supervise/board").get_data(as_text=True))
              for email in (SUPERVISOR, "river.sup@demo.example", "admin@demo.example", "other.admin@demo.example")}
    assert sorted(boards[SUPERVISOR]) == ["Wendy Worker", "Will Walker"]
    assert boards["river.sup@demo.example"] == ["Ron River"]
    assert sorted(boards["admin@demo.example"]) == ["Ron River", "Wendy Worker", "Will Walker"]
    assert boards["other.admin@demo.example"] == ["Olga Other"]


def test_nobody_can_open_or_act_on_an_alert_outside_their_scope(app, clock, phone, sync_as, lw):
    _add_people(app)
    start = phone.start()
    sync_as([start])
    sync_as([phone.alarm(start["id"])])
    [alert] = lw.alerts()
    outsider = sign_in_client(app, "river.sup@demo.example")
    assert outsider.get(f"/supervise/alerts/{alert.id}").status_code == 404
    assert outsider.get(f"/supervise/sessions/{start['id']}").status_code == 404
    token = csrf_of(outsider, "/lone-working/pins")
    assert outsider.post(f"/supervise/alerts/{alert.id}/resolve",
                         data={"csrf_token": token, "outcome": "test", "note": "not mine"}).status_code == 404
    assert lw.alerts()[0].resolved_at is None


def test_the_board_puts_alarms_first_then_overdue_then_due_soon_then_fine(app, clock, phone, sync_as):
    _add_people(app)
    fine = phone.start(minutes=600, interval=120)
    sync_as([fine], email="worker@demo.example")
    due_soon = phone.start(minutes=600, interval=35)
    sync_as([due_soon], email="worker2@demo.example")
    clock.advance(minutes=15)
    overdue_and_alarm = phone.start(minutes=600, interval=5)
    sync_as([overdue_and_alarm], email="river.worker@demo.example")
    late = phone.start(minutes=600, interval=5)
    sync_as([late], email="river.worker@demo.example")
    clock.advance(minutes=11)
    sync_as([phone.alarm(overdue_and_alarm["id"])], email="river.worker@demo.example")
    admin = sign_in_client(app, "admin@demo.example")
    html = admin.get("/supervise/board").get_data(as_text=True)
    order = re.findall(r'data-urgency="([a-z_]+)" data-session-id="([^"]*)"', html)
    assert order == [("alarm", overdue_and_alarm["id"]), ("overdue", late["id"]),
                     ("due_soon", due_soon["id"]), ("fine", fine["id"])]
    takeover = html.index('id="alarm-takeover"')
    assert takeover < html.index('id="board-list"')
    assert "Due 6 min ago" in html  # time overdue, from the server clock


def test_the_board_fragment_is_only_the_live_region_and_never_cached(app, clock, phone, sync_as):
    sync_as([phone.start()])
    supervisor = sign_in_client(app, SUPERVISOR)
    page = supervisor.get("/supervise/").get_data(as_text=True)
    assert 'id="board-live"' in page and 'src="/static/js/board.js' in page and "<script>" not in page
    live = page[page.index('id="board-live"'):page.index("<h2>Past sessions")]
    assert "<input" not in live and "<textarea" not in live  # refreshing it never loses typing
    fragment = supervisor.get("/supervise/board")
    assert fragment.headers["X-Board-Fragment"] == "1" and fragment.headers["Cache-Control"] == "no-store"
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "Wendy Worker" in body


def test_board_shows_both_clocks_and_a_stale_contact_warning(app, clock, phone, sync_as):
    start = phone.start(minutes=600, interval=240)
    sync_as([start])
    clock.advance(minutes=61)
    html = sign_in_client(app, SUPERVISOR).get("/supervise/board").get_data(as_text=True)
    assert "Last contact: Wed 10 Jun 2026, 10:00 (UTC+01:00) (phone), received Wed 10 Jun 2026, 10:00 (server)" in html
    assert "No contact from the phone for over 60 min." in html


def test_acknowledge_and_resolve_are_separate_and_every_action_is_kept(app, clock, phone, sync_as, lw):
    start = phone.start()
    sync_as([start])
    sync_as([phone.alarm(start["id"])])
    [alert] = lw.alerts()
    supervisor = sign_in_client(app, SUPERVISOR)
    url = f"/supervise/alerts/{alert.id}"
    token = csrf_of(supervisor, url)
    clock.advance(minutes=2)
    acknowledged = supervisor.post(f"{url}/acknowledge", data={"csrf_token": token, "note": "Calling her now"})
    assert acknowledged.status_code == 302
    assert lw.alerts()[0].state == "acknowledged"
    clock.advance(minutes=3)
    assert supervisor.post(f"{url}/resolve", data={"csrf_token": token, "note": ""}).status_code == 400
    assert supervisor.post(f"{url}/resolve", data={"csrf_token": token, "outcome": "false_alarm",
                                                   "note": "Called her, she's fine: pocket press"}).status_code == 302
    admin = sign_in_client(app, "admin@demo.example")
    admin_token = csrf_of(admin, url)
    again = admin.post(f"{url}/resolve", data={"csrf_token": admin_token, "outcome": "genuine", "note": "overwrite?"})
    assert again.status_code == 409
    assert admin.post(f"{url}/note", data={"csrf_token": admin_token, "note": "Debrief booked"}).status_code == 302
    [alert] = lw.alerts()
    assert alert.state == "resolved" and alert.outcome == "false_alarm"
    with app.app_context():
        actions = [(a.action, a.actor.name, a.note, a.outcome, a.at - alert.raised_at) for a in
                   _db.session.scalars(sa.select(AlertAction).order_by(AlertAction.id))]
    assert actions == [
        ("acknowledge", "Sam Supervisor", "Calling her now", None, timedelta(minutes=2)),
        ("resolve", "Sam Supervisor", "Called her, she's fine: pocket press", "false_alarm", timedelta(minutes=5)),
        ("note", "Ada Admin", "Debrief booked", None, timedelta(minutes=5)),
    ]
    history = admin.get(url).get_data(as_text=True)
    assert "Acknowledged by Sam Supervisor" in history and "as False alarm" in history
    assert "Resolved by Sam Supervisor" in history and "Debrief booked" in history


def test_the_timeline_shows_the_phone_order_both_clocks_and_a_duress_finish(app, clock, phone, sync_as, user_ids):
    with app.app_context():
        from app.auth.models import User
        from app.lone_working.services import set_worker_pins
        set_worker_pins(_db.session.get(User, user_ids["worker"]), "1234", "9876")
    start = phone.start()
    clock.advance(minutes=10)
    check = phone.check_in(start["id"])
    clock.advance(minutes=10)
    finish = phone.finish(start["id"], pin="9876")
    sync_as([finish, check, start])
    supervisor = sign_in_client(app, SUPERVISOR)
    html = supervisor.get(f"/supervise/sessions/{start['id']}").get_data(as_text=True)
    phone_part = html[html.index('id="phone-events"'):html.index('id="server-story"')]
    assert re.findall(r'data-kind="([a-z_]+)"', phone_part) == ["session_started", "check_in", "session_finished"]
    assert "Finished WITH THE DURESS PIN" in phone_part
    assert "Phone: Wed 10 Jun 2026, 10:10 (UTC+01:00) · Server received: Wed 10 Jun 2026, 10:20" in phone_part
    board = supervisor.get("/supervise/board").get_data(as_text=True)
    assert 'data-alert-kind="duress"' in board


def test_past_sessions_of_the_last_30_days_can_be_searched(app, clock, phone, sync_as):
    sync_as([phone.start(place="Mill Lane stop")])
    clock.advance(days=31)
    sync_as([phone.start(place="Church Street")])
    supervisor = sign_in_client(app, SUPERVISOR)
    assert "Church Street" in supervisor.get("/supervise/past?q=church").get_data(as_text=True)
    found = supervisor.get("/supervise/past?q=mill").get_data(as_text=True)
    assert "Mill Lane" not in found and "No sessions found" in found


def _form_fields(html, form_id):
    form = html[html.index(f'id="{form_id}"'):]
    form = form[:form.index("</form>")]
    return form, dict(re.findall(r'name="([a-z_]+)"[^>]*?value="([^"]*)"', form))


def test_worker_pages_work_without_javascript_start_check_in_extend_finish(app, clock, lw):
    worker = sign_in_client(app, "worker@demo.example")
    page = worker.get("/lone-working/").get_data(as_text=True)
    assert "This is not an emergency service. In danger, " in page
    form, fields = _form_fields(page, "lw-start-form")
    assert 'data-outbox-type="session_started"' in form
    response = worker.post("/lone-working/start", data={
        "csrf_token": fields["csrf_token"], "record_id": fields["record_id"], "sequence": "0",
        "place_kind": "mobile_stop", "place": "Route 3, Mill Lane", "planned_end_at": "23:30",
        "check_in_interval_minutes": "30", "note": ""})
    assert response.status_code == 302
    session = lw.session(fields["record_id"])
    assert session.place == "Route 3, Mill Lane" and session.planned_end_at.isoformat() == "2026-06-10T22:30:00+00:00"

    status = worker.get("/lone-working/").get_data(as_text=True)
    assert f'data-session-id="{fields["record_id"]}"' in status and "Next check-in due in 30 min" in status
    for form_id, path, extra in (("lw-check-in-form", "/lone-working/check-in", {}),
                                 ("lw-extend-form", "/lone-working/extend", {"extend_by_minutes": "60"})):
        clock.advance(minutes=10)
        _, f = _form_fields(worker.get("/lone-working/").get_data(as_text=True), form_id)
        assert worker.post(path, data={**f, **extra}).status_code == 302
    session = lw.session(fields["record_id"])
    assert session.last_check_in_at is not None and session.planned_end_at.isoformat() == "2026-06-10T23:30:00+00:00"
    assert session.last_sequence == 2

    _, f = _form_fields(worker.get("/lone-working/").get_data(as_text=True), "lw-finish-form")
    finished = worker.post("/lone-working/finish", data=f, follow_redirects=True).get_data(as_text=True)
    assert "Finished. Glad you are safe." in finished
    assert lw.session(fields["record_id"]).status == "finished"
    again = worker.get("/lone-working/").get_data(as_text=True)
    assert "Route 3, Mill Lane" in again[again.index('id="lw-recent"'):]  # start again in one tap


def test_a_form_posted_twice_is_stored_once(app, clock, lw):
    worker = sign_in_client(app, "worker@demo.example")
    _, fields = _form_fields(worker.get("/lone-working/").get_data(as_text=True), "lw-start-form")
    data = {**fields, "place_kind": "home_visit", "place": "4 Ash Row", "planned_end_at": "12:00",
            "check_in_interval_minutes": "15"}
    assert worker.post("/lone-working/start", data=data).status_code == 302
    assert worker.post("/lone-working/start", data=data).status_code == 302
    assert lw.session(fields["record_id"]).event_count == 1


def test_a_duress_finish_looks_exactly_like_a_normal_finish_to_the_worker(app, clock, lw, user_ids):
    with app.app_context():
        from app.auth.models import User
        from app.lone_working.services import set_worker_pins
        set_worker_pins(_db.session.get(User, user_ids["worker"]), "1234", "9876")
    pages = []
    for pin in ("1234", "9876"):
        worker = sign_in_client(app, "worker@demo.example")
        _, fields = _form_fields(worker.get("/lone-working/").get_data(as_text=True), "lw-start-form")
        worker.post("/lone-working/start", data={**fields, "place_kind": "home_visit", "place": "4 Ash Row",
                                                  "duration_minutes": "60", "check_in_interval_minutes": "15"})
        form, finish = _form_fields(worker.get("/lone-working/").get_data(as_text=True), "lw-finish-form")
        assert 'name="pin"' in form and 'data-outbox-priority="0"' in form
        response = worker.post("/lone-working/finish", data={**finish, "pin": pin})
        followed = worker.get(response.headers["Location"])
        pages.append((response.status_code, response.headers["Location"],
                      re.sub(r'(value|data-[a-z-]+)="[^"]*"', "", followed.get_data(as_text=True))))
    assert pages[0] == pages[1]
    assert [a.kind for a in lw.alerts()] == ["duress"]


def test_the_alarm_page_works_without_javascript_and_offers_what_works_without_signal(app, clock, lw):
    worker = sign_in_client(app, "worker@demo.example")
    page = worker.get("/lone-working/alarm")
    html = page.get_data(as_text=True)
    assert page.headers["X-Offline-Page"] == "keep"
    assert "This is not an emergency service. In danger, " in html
    assert 'href="tel:999"' in html and 'href="tel:+447700900123"' in html
    sms = re.search(r'id="lw-sms" href="([^"]+)"', html).group(1)
    assert sms.startswith("sms:+447700900123?body=HELP%3A%20Wendy%20Worker%20needs%20help.")
    form, fields = _form_fields(html, "lw-alarm-form")
    assert 'data-outbox-type="alarm_raised"' in form and 'data-outbox-priority="0"' in form
    sent = worker.post("/lone-working/alarm", data={**fields, "latitude": "51.5", "longitude": "-0.1"})
    assert sent.status_code == 200 and "Alarm sent." in sent.get_data(as_text=True)
    [alert] = lw.alerts()
    assert alert.kind == "alarm" and alert.latitude == 51.5


def test_setting_pins_needs_the_password_and_two_different_pins(app):
    worker = sign_in_client(app, "worker@demo.example")
    token = csrf_of(worker, "/lone-working/pins")
    bad = worker.post("/lone-working/pins", data={"csrf_token": token, "password": "wrong",
                                                  "finish_pin": "1234", "duress_pin": "9876"})
    assert bad.status_code == 400 and "password is not right" in bad.get_data(as_text=True)
    same = worker.post("/lone-working/pins", data={"csrf_token": token, "password": TEST_PASSWORD,
                                                   "finish_pin": "1234", "duress_pin": "1234"})
    assert same.status_code == 400 and "must be different" in same.get_data(as_text=True)
    ok = worker.post("/lone-working/pins", data={"csrf_token": token, "password": TEST_PASSWORD,
                                                 "finish_pin": "1234", "duress_pin": "9876"})
    assert ok.status_code == 302
    assert 'data-needs-pin="true"' in worker.get("/lone-working/").get_data(as_text=True)
