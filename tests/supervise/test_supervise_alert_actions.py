"""Acknowledge, resolve and add a note to an alert, and what the board says about its emails (no HTTP)."""
import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from app.lone_working.models import AlertAction, Notification
from app.supervise.services import (
    ActionRefused,
    TextRefused,
    acknowledge_alert,
    add_alert_note,
    alert_history,
    email_category,
    email_state,
    mail_status,
    resolve_alert,
)


@pytest.fixture
def open_alarm(worker_of, alert_of, clock):
    """Wendy (Central team) pressed the alarm during a home visit."""
    wendy = worker_of("worker")
    session_id = wendy.start()
    clock.advance(minutes=3)
    wendy.alarm(session_id, message="Dog loose")
    return alert_of(session_id)


def _actions(alert_id) -> list[tuple[str, str, str | None]]:
    rows = _db.session.scalars(sa.select(AlertAction).where(AlertAction.alert_id == alert_id).order_by(AlertAction.id))
    return [(a.action, a.note, a.outcome) for a in rows]


def test_acknowledging_stops_escalation_and_is_recorded_with_who_and_when(people, open_alarm, clock):
    clock.advance(minutes=1)
    alert = acknowledge_alert(people["supervisor"], open_alarm.id, "  Calling her now ", clock.now)
    assert alert.acknowledged_at == clock.now and alert.acknowledged_by_id == people["supervisor"].id
    assert alert.next_escalation_at is None and alert.resolved_at is None and alert.state == "acknowledged"
    clock.advance(minutes=1)
    again = acknowledge_alert(people["admin"], open_alarm.id, "Me too", clock.now)
    assert again.acknowledged_by_id == people["supervisor"].id  # the first acknowledgement stands
    assert _actions(open_alarm.id) == [("acknowledge", "Calling her now", None), ("acknowledge", "Me too", None)]


def test_resolving_needs_an_outcome_and_a_note_and_happens_once(people, open_alarm, clock):
    supervisor = people["supervisor"]
    with pytest.raises(ActionRefused, match="Choose what it turned out to be"):
        resolve_alert(supervisor, open_alarm.id, "maybe", "Called her", clock.now)
    with pytest.raises(ActionRefused, match="Say what happened"):
        resolve_alert(supervisor, open_alarm.id, "genuine", "   ", clock.now)
    clock.advance(minutes=5)
    alert = resolve_alert(supervisor, open_alarm.id, "false_alarm", "Pressed by mistake", clock.now)
    assert (alert.outcome, alert.outcome_label, alert.resolved_at) == ("false_alarm", "False alarm", clock.now)
    assert alert.acknowledged_at == clock.now and alert.acknowledged_by_id == supervisor.id
    with pytest.raises(ActionRefused, match="Someone else resolved this alert already"):
        resolve_alert(people["admin"], open_alarm.id, "genuine", "Late to the party", clock.now)
    with pytest.raises(ActionRefused, match="already resolved"):
        acknowledge_alert(people["admin"], open_alarm.id, "", clock.now)
    assert _actions(open_alarm.id) == [("resolve", "Pressed by mistake", "false_alarm")]


def test_a_note_is_added_without_changing_the_alert_and_must_say_something(people, open_alarm, clock):
    with pytest.raises(ActionRefused, match="Write the note first"):
        add_alert_note(people["supervisor"], open_alarm.id, " ", clock.now)
    with pytest.raises(TextRefused):
        add_alert_note(people["supervisor"], open_alarm.id, "nul \x00 here", clock.now)
    alert = add_alert_note(people["supervisor"], open_alarm.id, "Left a voicemail", clock.now)
    assert alert.acknowledged_at is None and alert.resolved_at is None
    assert [(a.action, a.actor.name) for a in alert_history(open_alarm.id)["actions"]] == [("note", "Sam Supervisor")]


@pytest.mark.parametrize("act", [
    lambda user, alert_id, now: acknowledge_alert(user, alert_id, "x", now),
    lambda user, alert_id, now: resolve_alert(user, alert_id, "genuine", "x", now),
    lambda user, alert_id, now: add_alert_note(user, alert_id, "x", now),
], ids=["acknowledge", "resolve", "note"])
def test_nobody_acts_on_an_alert_outside_their_scope(people, open_alarm, clock, act):
    for name in ("river.sup", "other.admin", "worker"):
        with pytest.raises(LookupError):
            act(people[name], open_alarm.id, clock.now)
    assert _actions(open_alarm.id) == []


def test_mail_status_says_whether_email_is_configured(app):
    assert mail_status({"SMTP_HOST": ""}) == {"configured": False}
    assert mail_status({"SMTP_HOST": "smtp.example.org"}) == {"configured": True}


def test_email_state_sorts_the_emails_about_open_alerts_in_scope_by_what_happened(people, open_alarm, clock):
    notifications = _db.session.scalars(sa.select(Notification).where(Notification.alert_id == open_alarm.id)
                                        .order_by(Notification.id)).all()
    assert notifications, "the alarm's first level has someone to email"
    assert {email_category(n) for n in notifications} == {"waiting"}
    state = email_state(people["supervisor"], clock.now)
    assert len(state.waiting) == len(notifications) and state.any
    assert email_state(people["river.sup"], clock.now).any is False  # not their team's alert
    first = notifications[0]
    first.status, first.last_error, first.attempts = "failed", "421 try later", 1
    _db.session.commit()
    state = email_state(people["supervisor"], clock.now)
    assert [n.id for n in state.retrying] == [first.id] and state.latest_error == "421 try later"
    resolve_alert(people["supervisor"], open_alarm.id, "genuine", "She is safe", clock.now)
    assert email_state(people["supervisor"], clock.now).any is False  # only open alerts count


@pytest.mark.parametrize("status, last_error, category", [
    ("pending", None, "waiting"),
    ("sending", None, "waiting"),
    ("sending", "timed out", "retrying"),
    ("failed", "421", "retrying"),
    ("sent", None, "sent"),
    ("undeliverable", "550", "undeliverable"),
    ("unconfigured", "not configured", "unconfigured"),
])
def test_email_category_of_every_status(status, last_error, category):
    assert email_category(Notification(status=status, last_error=last_error)) == category
