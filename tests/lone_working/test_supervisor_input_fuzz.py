"""Every supervisor form and query parameter, fed what breaks databases: NUL (PostgreSQL cannot
store or compare it), lone surrogates (they cannot be encoded), numbers past 32 and 64 bits
(PostgreSQL INTEGER and BIGINT, SQLite INTEGER). No request answers 500, and nothing changes.

Run on SQLite, and on PostgreSQL with TEST_DATABASE_URL set.
"""
import uuid

import pytest
import sqlalchemy as sa
from lw_helpers import csrf_of, sign_in_client

from app.extensions import db as _db
from app.lone_working.models import Alert, AlertAction

SUPERVISOR = "supervisor@demo.example"
NUL_TEXTS = ["\x00", "Called her\x00, she is fine", "\x00" * 500]
# A lone surrogate can only travel as its (invalid) UTF-8 bytes, "%ED%A0%80"; with other junk,
# as raw query or form bytes.
RAW_JUNK = ["%ED%A0%80", "%ED%B0%80x", "%00", "%FF%FE", "%C0%80"]
BIG_NUMBERS = [str(2**31), str(2**31 - 1), str(2**63), str(2**64), str(-2**63 - 1), "9" * 40, "0", "-1"]
NOT_NUMBERS = ["\x00", "1\x00", "1e9", " 1", "١٢"]  # Arabic-Indic digits: int() takes them


@pytest.fixture
def open_alert(app, clock, phone, sync_as, lw):
    start = phone.start(note="Closing alone")
    sync_as([start])
    sync_as([phone.alarm(start["id"], message="Help")])
    [alert] = lw.alerts()
    return alert


def _state(app, alert_id):
    with app.app_context():
        alert = _db.session.get(Alert, alert_id)
        row = (alert.level, alert.acknowledged_at, alert.acknowledged_by_id, alert.resolved_at, alert.outcome,
               alert.next_escalation_at)
        actions = _db.session.scalar(sa.select(sa.func.count()).select_from(AlertAction))
        _db.session.remove()
        return row, actions


def _post_raw(client, path, body: str):
    return client.post(path, data=body.encode("ascii"), content_type="application/x-www-form-urlencoded")


def test_nul_in_an_acknowledge_resolve_or_note_text_is_a_form_error_that_changes_nothing(app, open_alert):
    supervisor = sign_in_client(app, SUPERVISOR)
    url = f"/supervise/alerts/{open_alert.id}"
    token = csrf_of(supervisor, url)
    before = _state(app, open_alert.id)
    for text in NUL_TEXTS:
        for action, extra in (("acknowledge", {}), ("resolve", {"outcome": "false_alarm"}), ("note", {})):
            response = supervisor.post(f"{url}/{action}", data={"csrf_token": token, "note": text, **extra})
            assert response.status_code == 400, (action, repr(text), response.status_code)
            assert "This text holds a character that cannot be stored" in response.get_data(as_text=True)
            assert _state(app, open_alert.id) == before, (action, repr(text))
    # And the same forms still work with ordinary text.
    assert supervisor.post(f"{url}/acknowledge", data={"csrf_token": token, "note": "On my way"}).status_code == 302
    assert _state(app, open_alert.id) != before


def test_every_supervisor_form_and_parameter_survives_hostile_input_without_a_500(app, open_alert):
    supervisor = sign_in_client(app, SUPERVISOR)
    url = f"/supervise/alerts/{open_alert.id}"
    token = csrf_of(supervisor, url)
    before = _state(app, open_alert.id)
    seen = []

    def check(response, what, expected=None):
        seen.append(what)
        assert response.status_code < 500, (what, response.status_code)
        if expected is not None:
            assert response.status_code in expected, (what, response.status_code)
        assert _state(app, open_alert.id) == before, what

    # The resolve form's outcome: anything but a known outcome is refused.
    for value in NUL_TEXTS + BIG_NUMBERS + NOT_NUMBERS + ["genuine\x00"]:
        check(supervisor.post(f"{url}/resolve", data={"csrf_token": token, "outcome": value, "note": "x"}),
              f"resolve outcome={value!r}", {400})
    for raw in RAW_JUNK:
        check(_post_raw(supervisor, f"{url}/resolve", f"csrf_token={token}&outcome={raw}&note=x"),
              f"resolve outcome raw {raw}", {400})
    # A CSRF token with NUL or junk.
    for action in ("acknowledge", "resolve", "note"):
        for value in NUL_TEXTS:
            check(supervisor.post(f"{url}/{action}", data={"csrf_token": value, "note": "x", "outcome": "test"}),
                  f"{action} csrf={value!r}", {400})
        for raw in RAW_JUNK:
            check(_post_raw(supervisor, f"{url}/{action}", f"csrf_token={raw}&note=x&outcome=test"),
                  f"{action} csrf raw {raw}", {400})
    # The alert id in every alert URL: no alert, never an overflow.
    for number in BIG_NUMBERS:
        path = f"/supervise/alerts/{number}"
        check(supervisor.get(path), f"GET {path}", {404})
        for action in ("acknowledge", "resolve", "note"):
            check(supervisor.post(f"{path}/{action}", data={"csrf_token": token, "note": "x", "outcome": "test"}),
                  f"POST {path}/{action}", {404})
    for junk in ("%00", "1%00", "%ED%A0%80", "abc"):
        check(supervisor.get(f"/supervise/alerts/{junk}"), f"GET alerts/{junk}", {404})
    # A session id that is not a UUID, or no session.
    for junk in ("%00", "%ED%A0%80", "9" * 40, str(uuid.uuid4())):
        check(supervisor.get(f"/supervise/sessions/{junk}"), f"GET sessions/{junk}", {404})
    # The past-session search box.
    for value in NUL_TEXTS + BIG_NUMBERS + NOT_NUMBERS + ["%", "_", "\\", "'", "x" * 10_000]:
        check(supervisor.get("/supervise/past", query_string={"q": value}), f"past q={value[:20]!r}")
    for raw in RAW_JUNK:
        check(supervisor.get(f"/supervise/past?q={raw}"), f"past q raw {raw}")
    # The board ignores parameters, whatever they hold.
    for path in ("/supervise/", "/supervise/board"):
        check(supervisor.get(path, query_string={"q": "\x00", "page": str(2**63)}), f"{path} params", {200})
    # The incident list's filters.
    for name in ("branch", "page", "kind", "from", "to"):
        for value in NUL_TEXTS + BIG_NUMBERS + NOT_NUMBERS + ["2026-01-01\x00", "99999-01-01", "0001-01-01"]:
            check(supervisor.get("/incidents/", query_string={name: value}), f"incidents {name}={value[:20]!r}",
                  {200})
        for raw in RAW_JUNK:
            check(supervisor.get(f"/incidents/?{name}={raw}"), f"incidents {name} raw {raw}", {200})
    assert len(seen) > 200  # every loop above ran


def test_a_nul_in_the_search_box_says_the_search_text_is_not_valid(app, clock, phone, sync_as):
    sync_as([phone.start(place="Mill Lane stop")])
    supervisor = sign_in_client(app, SUPERVISOR)
    response = supervisor.get("/supervise/past", query_string={"q": "mill\x00"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The search text is not valid: it holds a character that cannot be searched for." in html
    assert "Mill Lane" not in html
    assert "Mill Lane" in supervisor.get("/supervise/past", query_string={"q": "mill"}).get_data(as_text=True)


def test_percent_and_underscore_in_the_search_box_match_themselves(app, clock, phone, sync_as):
    sync_as([phone.start(place="Mill Lane stop")])
    supervisor = sign_in_client(app, SUPERVISOR)
    assert "Mill Lane" not in supervisor.get("/supervise/past", query_string={"q": "%"}).get_data(as_text=True)
    assert "Mill Lane" not in supervisor.get("/supervise/past", query_string={"q": "mill_lane"}).get_data(as_text=True)


def test_the_services_refuse_lone_surrogates_and_nul_and_change_nothing(app, clock, open_alert, user_ids):
    from app.auth.models import User
    from app.supervise.services import (
        TextRefused,
        acknowledge_alert,
        add_alert_note,
        resolve_alert,
        search_past_sessions,
    )
    before = _state(app, open_alert.id)
    with app.app_context():
        supervisor = _db.session.get(User, user_ids["supervisor"])
        for text in ("\ud800", "ok \udfff", "\x00"):
            for act in (lambda text=text: acknowledge_alert(supervisor, open_alert.id, text, clock.now),
                        lambda text=text: resolve_alert(supervisor, open_alert.id, "genuine", text, clock.now),
                        lambda text=text: add_alert_note(supervisor, open_alert.id, text, clock.now),
                        lambda text=text: search_past_sessions(supervisor, clock.now, text)):
                with pytest.raises(TextRefused):
                    act()
        _db.session.remove()
    assert _state(app, open_alert.id) == before
