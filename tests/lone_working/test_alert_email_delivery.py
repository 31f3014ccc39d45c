"""Alert emails reach a person or say exactly why not: safe headers, failures retrying cannot fix,
emails left unsent while mail was not configured, and a board that tells the truth about each."""
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from lw_helpers import csrf_of, sign_in_client

from app.extensions import db as _db

SUPERVISOR = "supervisor@demo.example"
DUTY = "duty@demo.example"

# Every character str.splitlines() breaks on: the email package refuses a header holding any.
LINE_BREAKS = ["\r", "\n", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def _set_place_and_names(app, session_id, place, worker_name, supervisor_name):
    """Put text in the session's place (its start event, as the projection reads it) and in names."""
    from app.auth.models import User
    from app.lone_working.models import LoneWorkingEvent, LoneWorkingSession
    with app.app_context():
        event = _db.session.get(LoneWorkingEvent, uuid.UUID(session_id))
        event.data = {**event.data, "place": place}
        _db.session.get(LoneWorkingSession, uuid.UUID(session_id)).place = place
        _db.session.scalar(sa.select(User).where(User.email == "worker@demo.example")).name = worker_name
        _db.session.scalar(sa.select(User).where(User.email == SUPERVISOR)).name = supervisor_name
        _db.session.commit()


@pytest.mark.parametrize("breaker", LINE_BREAKS, ids=[f"U+{ord(c[-1]):04X}" for c in LINE_BREAKS])
def test_a_line_break_in_the_place_or_a_name_still_sends_the_email_with_safe_headers(
        app, clock, phone, sync_as, lw, smtp, breaker):
    smtp.start()
    start = phone.start(place="12 Elm Road")
    sync_as([start])
    _set_place_and_names(app, start["id"], f"Flat 2{breaker}12 Elm Road", f"Wendy{breaker}Worker",
                         f"Sam{breaker}Supervisor")
    sync_as([phone.alarm(start["id"], message="Behind the counter")])
    report = lw.sweep()
    assert (report.mail.sent, report.mail.failed, report.mail.undeliverable) == (1, 0, 0), report.mail.errors
    [notification] = lw.notifications()
    assert notification.status == "sent" and notification.last_error is None
    [received] = smtp.inbox.messages
    assert received["to"] == [SUPERVISOR]
    message = received["message"]
    assert message["Subject"] == "[Safer Libraries] ALARM: Wendy Worker - Flat 2 12 Elm Road"
    assert str(message["To"]) == f"Sam Supervisor <{SUPERVISOR}>"
    body = message.get_content()
    assert "Behind the counter" in body and "Flat 2" in body


def test_header_text_is_capped_and_never_holds_a_control_character():
    from app.lone_working.notify import header_safe
    assert header_safe("a\x00b\tc\x7fd \ud800 e") == "a b c d e"
    long = header_safe("x" * 5000)
    assert len(long) == 200 and long.endswith("\u2026")


def _alarm(phone, sync_as, **kw):
    start = phone.start()
    sync_as([start])
    sync_as([phone.alarm(start["id"], **kw)])
    return start


def test_a_recipient_the_server_refuses_for_ever_is_undeliverable_at_once_and_never_retried(
        app, clock, phone, sync_as, lw, smtp):
    smtp.inbox.refuse[SUPERVISOR] = "550 5.1.1 No such user here"
    smtp.start()
    _alarm(phone, sync_as)
    report = lw.sweep()
    assert (report.mail.sent, report.mail.failed, report.mail.undeliverable) == (0, 0, 1)
    [notification] = lw.notifications()
    assert notification.status == "undeliverable" and notification.attempts == 1
    assert "refused the address" in notification.last_error and "550" in notification.last_error
    assert "No such user here" in notification.last_error
    for _ in range(3):  # a retry would have come 30 s, 1 min and 2 min later: none does
        clock.advance(minutes=3)
        assert lw.sweep().mail.undeliverable == 0
    assert smtp.inbox.recipients_asked == [SUPERVISOR]
    assert lw.notifications()[0].attempts == 1

    supervisor = sign_in_client(app, SUPERVISOR)
    board = supervisor.get("/supervise/board").get_data(as_text=True)
    undeliverable = board[board.index('id="mail-undeliverable"'):]
    undeliverable = undeliverable[:undeliverable.index("</ul>")]
    assert (f"email to Sam Supervisor &lt;{SUPERVISOR}&gt; not sent: the mail server refused the address "
            f"({SUPERVISOR}: 550 5.1.1 No such user here). It will not be retried") in undeliverable
    assert 'id="mail-retrying"' not in board and 'id="mail-waiting"' not in board
    page = supervisor.get(f"/supervise/alerts/{notification.alert_id}").get_data(as_text=True)
    assert "email not sent: the mail server refused the address" in page
    assert 'id="alert-mail-undeliverable"' in page


def test_an_address_that_is_not_an_address_is_undeliverable_without_asking_the_server(
        app, clock, phone, sync_as, lw, smtp):
    from app.lone_working.models import ServiceContact
    with app.app_context():
        contact = _db.session.scalar(sa.select(ServiceContact).where(ServiceContact.email == DUTY))
        contact.email = "duty manager at demo.example"
        _db.session.commit()
    smtp.start()
    _alarm(phone, sync_as)
    lw.sweep()
    clock.advance(minutes=10)  # nobody acknowledged: level 2, the duty manager
    report = lw.sweep()
    assert report.escalated == 1 and report.mail.undeliverable == 1 and report.mail.failed == 0
    [duty] = lw.notifications(level=2)
    assert duty.status == "undeliverable"
    assert duty.last_error == "not a valid email address: 'duty manager at demo.example'"
    assert smtp.inbox.recipients_asked == [SUPERVISOR]
    clock.advance(minutes=9)
    lw.sweep()
    assert lw.notifications(level=2)[0].attempts == 1


def test_a_message_that_cannot_be_built_is_undeliverable_not_retried_for_ever(
        app, clock, phone, sync_as, lw, smtp, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("Header values may not contain linefeed or carriage return characters")
    monkeypatch.setattr("app.lone_working.notify.make_msgid", broken)
    smtp.start()
    _alarm(phone, sync_as)
    report = lw.sweep()
    assert report.mail.undeliverable == 1 and report.mail.failed == 0
    [notification] = lw.notifications()
    assert notification.status == "undeliverable"
    assert notification.last_error == ("the message could not be built: ValueError: Header values may not "
                                       "contain linefeed or carriage return characters")
    clock.advance(minutes=9)
    assert lw.sweep().mail.undeliverable == 0 and lw.notifications()[0].attempts == 1


def test_a_temporary_refusal_is_retried_with_backoff_until_the_server_takes_it(app, clock, phone, sync_as, lw, smtp):
    smtp.inbox.refuse[SUPERVISOR] = "450 4.2.1 Mailbox busy, try later"
    smtp.start()
    _alarm(phone, sync_as)
    report = lw.sweep()
    assert (report.mail.failed, report.mail.undeliverable) == (1, 0)
    [notification] = lw.notifications()
    assert notification.status == "failed" and "450" in notification.last_error
    assert notification.next_attempt_at == clock.now + timedelta(seconds=30)
    board = sign_in_client(app, SUPERVISOR).get("/supervise/board").get_data(as_text=True)
    assert "1 alert email failed and will be retried" in board and "Mailbox busy" in board
    assert 'id="mail-undeliverable"' not in board
    del smtp.inbox.refuse[SUPERVISOR]
    clock.advance(seconds=30)
    assert lw.sweep().mail.sent == 1
    assert [m["to"] for m in smtp.inbox.messages] == [[SUPERVISOR]]


def test_emails_left_unsent_without_smtp_host_go_out_once_it_is_set_but_only_for_open_alerts(
        app, clock, phone, sync_as, lw, smtp, user_ids):
    app.config["SMTP_HOST"] = ""
    first = _alarm(phone, sync_as)
    second = phone.start()
    sync_as([second], email="worker2@demo.example")
    sync_as([phone.alarm(second["id"])], email="worker2@demo.example")
    board = sign_in_client(app, SUPERVISOR).get("/supervise/board").get_data(as_text=True)
    assert 'id="mail-not-configured"' in board and "within seconds" not in board  # no sweep will send them
    assert lw.sweep().mail.unconfigured == 2
    assert [n.status for n in lw.notifications()] == ["unconfigured", "unconfigured"]
    resolved, still_open = lw.alerts()
    assert resolved.session_id == uuid.UUID(first["id"])
    with app.app_context():
        from app.auth.models import User
        from app.supervise.services import resolve_alert
        resolve_alert(_db.session.get(User, user_ids["supervisor"]), resolved.id, "false_alarm", "Pocket press",
                      clock.now)

    supervisor = sign_in_client(app, SUPERVISOR)
    page = supervisor.get(f"/supervise/alerts/{still_open.id}").get_data(as_text=True)
    assert "nobody was emailed about this alert" in page

    app.config["SMTP_HOST"] = "127.0.0.1"  # mail is configured (as after a restart with SMTP_HOST set)
    board = supervisor.get("/supervise/board").get_data(as_text=True)
    assert "1 alert email NOT sent: email was not configured (SMTP_HOST was not set); it goes out on the next sweep" \
        in board
    smtp.start()
    clock.advance(seconds=10)
    report = lw.sweep()
    assert report.mail.sent == 1
    subjects = [m["message"]["Subject"] for m in smtp.inbox.messages]
    assert subjects == ["[Safer Libraries] ALARM: Will Walker - 12 Elm Road"]
    statuses = {n.alert_id: n.status for n in lw.notifications()}
    assert statuses == {resolved.id: "unconfigured", still_open.id: "sent"}
    clock.advance(minutes=1)
    assert lw.sweep().mail.sent == 0
    board = supervisor.get("/supervise/board").get_data(as_text=True)
    assert 'id="mail-unconfigured"' not in board and 'id="mail-not-configured"' not in board


def test_a_late_email_about_an_acknowledged_alert_says_who_acknowledged_it(app, clock, phone, sync_as, lw, smtp):
    app.config["SMTP_HOST"] = ""
    _alarm(phone, sync_as)
    lw.sweep()
    [alert] = lw.alerts()
    supervisor = sign_in_client(app, SUPERVISOR)
    token = csrf_of(supervisor, f"/supervise/alerts/{alert.id}")
    clock.advance(minutes=2)
    assert supervisor.post(f"/supervise/alerts/{alert.id}/acknowledge",
                           data={"csrf_token": token, "note": "Calling her"}).status_code == 302
    app.config["SMTP_HOST"] = "127.0.0.1"
    smtp.start()
    clock.advance(minutes=1)
    assert lw.sweep().mail.sent == 1
    lines = smtp.inbox.messages[0]["message"].get_content().splitlines()
    assert ("Already acknowledged by Sam Supervisor at Wed 10 Jun 2026, 10:02 UTC+01:00 (server time); "
            "the alert is still open.") in lines


def test_straight_after_an_alarm_the_board_says_waiting_not_failed(app, clock, phone, sync_as, lw, smtp):
    smtp.start()
    _alarm(phone, sync_as)
    supervisor = sign_in_client(app, SUPERVISOR)
    board = supervisor.get("/supervise/board").get_data(as_text=True)
    assert ("1 alert email waiting to be sent (not tried yet); the escalation sweep sends it within seconds."
            in board)
    assert "did not take" not in board and "retrying" not in board and 'id="mail-retrying"' not in board
    [alert] = lw.alerts()
    page = supervisor.get(f"/supervise/alerts/{alert.id}").get_data(as_text=True)
    assert "waiting to be sent (not tried yet)" in page and "FAILED" not in page

    clock.advance(minutes=3)  # and no sweep ran: say so
    board = supervisor.get("/supervise/board").get_data(as_text=True)
    assert ("1 alert email waiting to be sent (not tried yet), since Wed 10 Jun 2026, 10:00: "
            "is the escalation sweep (flask escalate) running?") in board
    lw.sweep()
    board = supervisor.get("/supervise/board").get_data(as_text=True)
    assert 'id="mail-waiting"' not in board and "alert email" not in board


def test_the_escalate_command_says_what_happened_to_each_email(app, clock, phone, sync_as, lw, smtp):
    smtp.inbox.refuse[SUPERVISOR] = "550 5.1.1 No such user here"
    smtp.start()
    _alarm(phone, sync_as)
    result = app.test_cli_runner().invoke(args=["escalate"])
    assert result.exit_code == 0, result.output
    assert ("0 emails sent, 0 failed, 1 NOT sent and never will be (the mail server refused the address "
            f"({SUPERVISOR}: 550 5.1.1 No such user here))") in result.output

    smtp.stop()
    second = phone.start()
    sync_as([second], email="worker2@demo.example")
    sync_as([phone.alarm(second["id"])], email="worker2@demo.example")
    result = app.test_cli_runner().invoke(args=["escalate"])
    assert result.exit_code == 0, result.output
    assert "0 emails sent, 1 failed and will be retried (last error: ConnectionRefusedError" in result.output

    app.config["SMTP_HOST"] = ""
    third = phone.start()
    sync_as([third])
    sync_as([phone.alarm(third["id"])])
    result = app.test_cli_runner().invoke(args=["escalate"])
    assert "1 NOT sent (Email is not configured (SMTP_HOST is not set); they go out once it is, if still open)" \
        in result.output
