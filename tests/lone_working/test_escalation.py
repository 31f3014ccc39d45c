"""The sweep: overdue from the server's clock alone, escalation by level, emails once, many sweeps at once."""
import threading
import uuid
from datetime import timedelta

import sqlalchemy as sa
from lw_helpers import csrf_of, sign_in_client

from app.extensions import db as _db
from app.lone_working.escalation import run_sweep
from app.lone_working.models import Alert, Notification

SUPERVISOR = "supervisor@demo.example"
DUTY = "duty@demo.example"
HEAD = "head@demo.example"


def test_a_missed_check_in_raises_one_overdue_alert_after_the_grace_period(app, clock, phone, sync_as, lw, smtp):
    smtp.start()
    start = phone.start(minutes=240, interval=30)
    sync_as([start])
    clock.advance(minutes=34)  # due at +30, grace 5 min
    assert lw.sweep().raised == 0
    clock.advance(minutes=1)
    report = lw.sweep()
    assert report.raised == 1 and report.mail.sent == 1
    clock.advance(seconds=30)
    again = lw.sweep()
    assert again.raised == 0 and again.mail.sent == 0
    [alert] = lw.alerts()
    assert alert.kind == "overdue" and alert.cause_at == clock.now - timedelta(minutes=5, seconds=30)
    assert [m["to"] for m in smtp.inbox.messages] == [[SUPERVISOR]]
    message = smtp.inbox.messages[0]["message"]
    assert "OVERDUE" in message["Subject"] and "Wendy Worker" in message["Subject"]
    assert f"https://safer.example/supervise/alerts/{alert.id}" in message.get_content()


def test_the_planned_end_passing_makes_a_session_overdue_too(app, clock, phone, sync_as, lw):
    start = phone.start(minutes=20, interval=60)
    sync_as([start])
    clock.advance(minutes=26)
    assert lw.sweep().raised == 1


def test_a_finished_session_is_never_overdue(app, clock, phone, sync_as, lw):
    start = phone.start(minutes=60, interval=30)
    sync_as([start])
    clock.advance(minutes=10)
    sync_as([phone.finish(start["id"])])
    clock.advance(hours=5)
    assert lw.sweep().raised == 0


def test_unacknowledged_alerts_climb_the_chain_each_level_at_its_own_time(app, clock, phone, sync_as, lw, smtp):
    smtp.start()
    start = phone.start()
    sync_as([start])
    raised_at = clock.now
    sync_as([phone.alarm(start["id"], latitude=52.2053, longitude=0.1218)])
    lw.sweep()
    assert [m["to"] for m in smtp.inbox.messages] == [[SUPERVISOR]]
    clock.advance(minutes=9, seconds=59)
    assert lw.sweep().escalated == 0
    clock.advance(seconds=1)
    assert lw.sweep().escalated == 1
    clock.advance(minutes=10)
    assert lw.sweep().escalated == 1
    clock.advance(minutes=9)
    assert lw.sweep().escalated == 0  # three levels, then it stays on the board, open
    [alert] = lw.alerts()
    firings = lw.firings(alert.id)
    assert [(f.level, f.fired_at - raised_at) for f in firings] == [
        (1, timedelta(0)), (2, timedelta(minutes=10)), (3, timedelta(minutes=20))]
    assert alert.level == 3 and alert.next_escalation_at is None and alert.resolved_at is None
    assert [m["to"] for m in smtp.inbox.messages] == [[SUPERVISOR], [DUTY], [HEAD]]
    assert "52.20530, 0.12180" in smtp.inbox.to(DUTY)[0]["message"].get_content()
    assert "escalated, level 2" in smtp.inbox.to(DUTY)[0]["message"]["Subject"]


def test_an_unrelated_write_never_resets_the_escalation_clock(app, clock, phone, sync_as, lw):
    start = phone.start()
    sync_as([start])
    sync_as([phone.alarm(start["id"])])
    [alert] = lw.alerts()
    due = alert.next_escalation_at
    clock.advance(minutes=4)
    # The worker's phone keeps talking: check-ins, an extension, another alarm, location.
    sync_as([phone.check_in(start["id"], ), phone.extend(start["id"], 30)])
    sync_as([phone.alarm(start["id"], latitude=51.0, longitude=-1.0)])
    assert lw.alerts()[0].next_escalation_at == due
    clock.set(due)
    lw.sweep()
    assert lw.alerts()[0].level == 2


def test_acknowledging_stops_escalation_but_leaves_the_alert_open(app, clock, phone, sync_as, lw):
    start = phone.start(minutes=600, interval=240)
    sync_as([start])
    sync_as([phone.alarm(start["id"])])
    [alert] = lw.alerts()
    clock.advance(minutes=3)
    supervisor = sign_in_client(app, SUPERVISOR)
    token = csrf_of(supervisor, f"/supervise/alerts/{alert.id}")
    response = supervisor.post(f"/supervise/alerts/{alert.id}/acknowledge",
                               data={"csrf_token": token, "note": "On my way"})
    assert response.status_code == 302
    clock.advance(hours=1)
    assert lw.sweep().escalated == 0
    [alert] = lw.alerts()
    assert alert.level == 1 and alert.acknowledged_at is not None and alert.resolved_at is None


def test_pitfall_14_a_late_check_in_shows_as_late_and_does_not_close_the_alert(app, clock, phone, sync_as, lw):
    start = phone.start(minutes=240, interval=30)
    sync_as([start])
    clock.advance(minutes=28)
    queued = phone.check_in(start["id"])  # made on the phone in time, but no signal
    checked_in_on_phone = clock.now
    clock.advance(minutes=8)
    assert lw.sweep().raised == 1  # the server only knows the deadline passed
    supervisor = sign_in_client(app, SUPERVISOR)
    board = supervisor.get("/supervise/board").get_data(as_text=True)
    assert 'data-urgency="overdue"' in board and "Checked in at" not in board

    clock.advance(minutes=12)  # signal returns; the outbox sends the check-in
    assert sync_as([queued])[0] == ["created"]
    session = lw.session(start["id"])
    assert session.last_check_in_at == checked_in_on_phone
    assert session.last_check_in_received_at == clock.now
    [alert] = lw.alerts()
    assert alert.resolved_at is None and alert.acknowledged_at is None
    board = supervisor.get("/supervise/board").get_data(as_text=True)
    assert 'data-urgency="overdue"' in board
    assert ("Checked in at Wed 10 Jun 2026, 10:28 (UTC+01:00) (phone), "
            "received Wed 10 Jun 2026, 10:48 (late, in time on the phone)") in board
    assert "The alert stays open until a person closes it." in board
    clock.advance(minutes=10)
    assert lw.sweep().escalated == 1  # still nobody has acknowledged: it goes on up the chain
    assert lw.alerts()[0].level == 2


def test_a_resolved_overdue_alert_is_not_raised_again_for_the_same_missed_deadline(app, clock, phone, sync_as, lw,
                                                                                   user_ids):
    start = phone.start(minutes=600, interval=30)
    sync_as([start])
    clock.advance(minutes=40)
    lw.sweep()
    [alert] = lw.alerts()
    with app.app_context():
        from app.auth.models import User
        from app.supervise.services import resolve_alert
        supervisor = _db.session.get(User, user_ids["supervisor"])
        resolve_alert(supervisor, alert.id, "false_alarm", "Phone was flat", clock.now)
    clock.advance(minutes=5)
    assert lw.sweep().raised == 0
    sync_as([phone.check_in(start["id"])])
    clock.advance(minutes=36)  # misses the next one too: that is a new deadline, a new alert
    assert lw.sweep().raised == 1
    assert len(lw.alerts(kind="overdue")) == 2


def test_a_team_without_supervisors_escalates_at_once(app, clock, phone, sync_as, lw):
    with app.app_context():
        from app.org.models import team_supervisors
        _db.session.execute(team_supervisors.delete())
        _db.session.commit()
    start = phone.start()
    sync_as([start])
    sync_as([phone.alarm(start["id"])])
    lw.sweep()
    [alert] = lw.alerts()
    assert alert.level == 2
    assert [n.recipient_email for n in lw.notifications()] == [DUTY]


def test_without_smtp_host_nothing_pretends_to_be_sent(app, clock, phone, sync_as, lw, caplog):
    app.config["SMTP_HOST"] = ""
    start = phone.start()
    sync_as([start])
    sync_as([phone.alarm(start["id"])])
    report = lw.sweep()
    assert report.mail.sent == 0 and report.mail.unconfigured == 1
    [notification] = lw.notifications()
    assert notification.status == "unconfigured" and notification.sent_at is None
    assert "SMTP_HOST is not set" in caplog.text and "NOT sent" in caplog.text
    board = sign_in_client(app, SUPERVISOR).get("/supervise/").get_data(as_text=True)
    assert "Email is not configured" in board and 'id="alarm-takeover"' in board


def test_a_mail_server_that_is_down_loses_nothing_and_is_retried_when_it_returns(app, clock, phone, sync_as, lw, smtp):
    start = phone.start()
    sync_as([start])
    sync_as([phone.alarm(start["id"])])
    report = lw.sweep()  # the SMTP server is not running yet
    assert report.mail.sent == 0 and report.mail.failed == 1
    [notification] = lw.notifications()
    assert notification.status == "failed" and "Connection refused" in notification.last_error
    assert notification.next_attempt_at == clock.now + timedelta(seconds=30)
    supervisor = sign_in_client(app, SUPERVISOR)
    board = supervisor.get("/supervise/board").get_data(as_text=True)
    assert 'id="alarm-takeover"' in board
    assert ("1 alert email failed and will be retried (next try Wed 10 Jun 2026, 10:00). "
            "Last error: ConnectionRefusedError: [Errno 111] Connection refused.") in board
    alert_page = supervisor.get(f"/supervise/alerts/{notification.alert_id}").get_data(as_text=True)
    assert "FAILED after 1 attempt" in alert_page

    smtp.start()
    clock.advance(seconds=10)
    assert lw.sweep().mail.sent == 0  # backing off: not due yet
    clock.advance(seconds=20)
    assert lw.sweep().mail.sent == 1
    clock.advance(minutes=5)
    assert lw.sweep().mail.sent == 0
    [notification] = lw.notifications()
    assert notification.status == "sent" and notification.attempts == 2 and notification.last_error is None
    assert [m["to"] for m in smtp.inbox.messages] == [[SUPERVISOR]]


def _overdue_sessions(app, clock, count):
    """`count` sessions of the demo workers that are all overdue now."""
    from app.auth.models import User
    from app.lone_working.services import record_event
    with app.app_context():
        workers = [_db.session.scalar(sa.select(User).where(User.email == e))
                   for e in ("worker@demo.example", "worker2@demo.example")]
        for index in range(count):
            result = record_event(workers[index % 2], "session_started", uuid.uuid4(),
                                  {"place_kind": "other", "place": f"Stop {index}", "duration_minutes": 600,
                                   "check_in_interval_minutes": 30}, via="form")
            assert result["status"] == "created"
    clock.advance(minutes=36)


def test_concurrent_sweeps_raise_escalate_and_email_each_alert_once(app, clock, lw, smtp):
    smtp.start()
    _overdue_sessions(app, clock, 12)
    barrier = threading.Barrier(4)
    errors = []

    def sweep():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                run_sweep()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def race():
        threads = [threading.Thread(target=sweep) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    race()
    assert errors == []
    alerts = lw.alerts()
    assert len(alerts) == 12 and len({a.session_id for a in alerts}) == 12
    assert len(smtp.inbox.messages) == 12
    clock.advance(minutes=10)
    race()  # level 2 for all, by four sweeps at once
    assert errors == []
    assert all(len(lw.firings(a.id)) == 2 for a in lw.alerts())
    recipients = [tuple(m["to"]) + (m["message"]["Subject"],) for m in smtp.inbox.messages]
    assert len(recipients) == 24 and len(set(recipients)) == 24
    assert len(smtp.inbox.to(DUTY)) == 12
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                                  .where(Notification.status == "sent")) == 24
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 12


def test_the_escalate_command_sweeps_once(app, clock, phone, sync_as, lw, smtp):
    smtp.start()
    start = phone.start(minutes=600, interval=30)
    sync_as([start])
    clock.advance(minutes=40)
    result = app.test_cli_runner().invoke(args=["escalate"])
    assert result.exit_code == 0, result.output
    assert "1 overdue alerts raised" in result.output and "1 emails sent" in result.output
    assert len(smtp.inbox.messages) == 1
