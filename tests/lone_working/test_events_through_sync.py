"""Lone-working events through the sync API: idempotent, order-free, honest about both clocks."""
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from lw_helpers import Phone

from app.extensions import db as _db
from app.lone_working.models import Alert, LoneWorkingEvent, WorkerPins
from app.sync.models import RecordReceipt

EVENT_TYPES = ["session_started", "check_in", "session_extended", "session_finished", "alarm_raised"]

def _make(phone: Phone, type_: str, session_id):
    return {
        "session_started": lambda: phone.start(),
        "check_in": lambda: phone.check_in(session_id),
        "session_extended": lambda: phone.extend(session_id, 30),
        "session_finished": lambda: phone.finish(session_id),
        "alarm_raised": lambda: phone.alarm(session_id, latitude=51.5, longitude=-0.12),
    }[type_]()


@pytest.mark.parametrize("type_", EVENT_TYPES)
def test_every_event_type_sent_twice_is_stored_once(app, phone, sync_as, type_):
    start = phone.start()
    assert sync_as([start])[0] == ["created"]
    record = start if type_ == "session_started" else _make(phone, type_, start["id"])
    if type_ != "session_started":
        assert sync_as([record])[0] == ["created"]
    assert sync_as([record])[0] == ["duplicate"]
    assert sync_as([record, record])[0] == ["duplicate", "duplicate"]
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(LoneWorkingEvent)
                                  .where(LoneWorkingEvent.id == uuid.UUID(record["id"]))) == 1
        if type_ == "alarm_raised":
            assert _db.session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 1


@pytest.mark.parametrize("type_", EVENT_TYPES)
def test_every_event_type_reusing_an_id_with_other_content_is_a_conflict(app, phone, sync_as, type_):
    start = phone.start()
    sync_as([start])
    record = start if type_ == "session_started" else _make(phone, type_, start["id"])
    if type_ != "session_started":
        sync_as([record])
    changed = dict(record, data=dict(record["data"], sequence=record["data"]["sequence"] + 7))
    statuses, results = sync_as([changed])
    assert statuses == ["rejected"] and results[0]["conflict"] is True


def test_the_same_batch_twice_in_one_request_stores_each_event_once(app, phone, sync_as, lw):
    start = phone.start()
    check = phone.check_in(start["id"])
    statuses, _ = sync_as([start, check, start, check])
    assert statuses == ["created", "created", "duplicate", "duplicate"]
    assert len(lw.events(start["id"])) == 2


def test_a_check_in_that_arrives_before_its_session_start_is_kept_and_derived_later(app, clock, phone, sync_as, lw):
    start = phone.start(minutes=120, interval=30)
    clock.advance(minutes=20)
    check = phone.check_in(start["id"])
    assert sync_as([check])[0] == ["created"]
    early = lw.session(start["id"])
    assert early.has_start is False and early.status == "active"
    assert early.last_check_in_at is not None
    assert sync_as([start])[0] == ["created"]
    session = lw.session(start["id"])
    assert session.has_start and session.place == "12 Elm Road"
    assert session.next_check_in_due_at == clock.now + timedelta(minutes=30)  # from the check-in, not the start
    assert session.event_count == 2


def test_pitfall_13_reverse_order_with_a_phone_three_hours_slow(app, clock, sync_as, lw):
    """Replay a check-in and a finish in reverse: phone order wins, both clocks kept, skew flagged."""
    phone = Phone(clock, skew=-timedelta(hours=3))
    start = phone.start(minutes=240, interval=30)
    assert sync_as([start], sent_at=phone.now())[0] == ["created"]
    clock.advance(minutes=20)
    check = phone.check_in(start["id"])
    clock.advance(minutes=20)
    finish = phone.finish(start["id"])
    clock.advance(minutes=15)  # back in signal; the outbox happens to send the newest first
    assert sync_as([finish], sent_at=phone.now())[0] == ["created"]
    assert sync_as([check], sent_at=phone.now())[0] == ["created"]

    session = lw.session(start["id"])
    events = sorted(lw.events(start["id"]), key=lambda e: (e.recorded_at, e.sequence))
    assert [e.kind for e in events] == ["session_started", "check_in", "session_finished"]
    assert session.status == "finished"
    # Both clocks, as they were: the phone's time 3 h behind the server's receipt.
    check_row = next(e for e in events if e.kind == "check_in")
    assert check_row.recorded_at == clock.now - timedelta(hours=3, minutes=35)
    assert check_row.received_at == clock.now
    assert check_row.effective_at == clock.now - timedelta(minutes=35)  # corrected by the measured skew
    assert "3.0 h behind" in check_row.clock_flag
    assert "3.0 h behind" in session.clock_flag


def test_pitfall_13_a_slow_phone_clock_does_not_make_a_session_falsely_overdue(app, clock, sync_as, lw):
    phone = Phone(clock, skew=-timedelta(hours=3))
    start = phone.start(minutes=240, interval=30)
    sync_as([start], sent_at=phone.now())
    clock.advance(minutes=25)
    sync_as([phone.check_in(start["id"])], sent_at=phone.now())
    session = lw.session(start["id"])
    assert session.next_check_in_due_at == clock.now + timedelta(minutes=30)
    clock.advance(minutes=10)
    assert lw.sweep().raised == 0
    assert lw.alerts() == []


def test_a_phone_clock_running_ahead_cannot_hold_off_the_overdue_alert(app, clock, sync_as, lw):
    phone = Phone(clock, skew=timedelta(hours=3))
    start = phone.start(minutes=600, interval=30)
    sync_as([start], sent_at=clock.now)  # the clock was put right before sending: no skew to correct by
    session = lw.session(start["id"])
    assert session.next_check_in_due_at == clock.now + timedelta(minutes=30)
    clock.advance(minutes=36)
    assert lw.sweep().raised == 1


def test_the_projection_is_the_same_whatever_order_the_events_arrive_in(app, clock, sync_as, lw):
    phone = Phone(clock)
    start = phone.start(minutes=180, interval=20)
    clock.advance(minutes=10)
    c1 = phone.check_in(start["id"])
    clock.advance(minutes=10)
    ext = phone.extend(start["id"], 60)
    clock.advance(minutes=10)
    c2 = phone.check_in(start["id"])
    records = [start, c1, ext, c2]
    sync_as(list(reversed(records)))
    forward = lw.session(start["id"])
    columns = ["status", "planned_end_at", "last_check_in_at", "next_check_in_due_at", "deadline_at", "overdue_at",
               "event_count", "last_sequence"]
    expected_end = start_time = None
    start_time = phone.now() - timedelta(minutes=30)
    expected_end = start_time + timedelta(minutes=180 + 60)
    assert forward.planned_end_at == expected_end
    assert forward.deadline_at == clock.now + timedelta(minutes=20)
    with app.app_context():
        from app.lone_working.services import project_session
        again = project_session(uuid.UUID(start["id"]), now=clock.now)
        assert {c: getattr(again, c) for c in columns} == {c: getattr(forward, c) for c in columns}
        _db.session.rollback()


def test_someone_elses_session_is_refused_and_changes_nothing(app, phone, sync_as, lw):
    start = phone.start()
    sync_as([start])
    intruder_check = phone.check_in(start["id"])
    statuses, results = sync_as([intruder_check], email="worker2@demo.example")
    assert statuses == ["rejected"]
    assert "someone else" in results[0]["errors"]["session_id"][0]
    assert lw.session(start["id"]).event_count == 1


def test_bad_event_data_is_refused_with_reasons(app, phone, sync_as):
    start = phone.start(check_in_interval_minutes=2)
    no_end = phone.record("session_started", {"place_kind": "home_visit", "place": "x"})
    no_place = phone.record("session_started", {"place_kind": "home_visit", "duration_minutes": 30})
    one_coordinate = phone.alarm(latitude=None)
    one_coordinate["data"]["latitude"] = 51.0
    statuses, results = sync_as([start, no_end, no_place, one_coordinate])
    assert statuses == ["rejected"] * 4
    assert "5 minutes" in results[0]["errors"]["check_in_interval_minutes"][0]
    assert "planned_end_at" in results[1]["errors"]
    assert "place" in results[2]["errors"]
    assert "latitude" in results[3]["errors"]


def test_an_alarm_or_an_extension_never_counts_as_a_check_in(app, clock, phone, sync_as, lw):
    start = phone.start(minutes=240, interval=30)
    sync_as([start])
    clock.advance(minutes=20)
    sync_as([phone.alarm(start["id"]), phone.extend(start["id"], 60)])
    session = lw.session(start["id"])
    assert session.last_check_in_at is None
    assert session.next_check_in_due_at == clock.now + timedelta(minutes=10)  # still from the start
    assert session.last_contact_received_at == clock.now  # but it was contact


def test_an_open_alarm_never_blocks_a_new_one(app, phone, sync_as, lw):
    start = phone.start()
    sync_as([start])
    assert sync_as([phone.alarm(start["id"])])[0] == ["created"]
    assert sync_as([phone.alarm(start["id"])])[0] == ["created"]
    assert sync_as([phone.alarm()])[0] == ["created"]  # and without any session
    alerts = lw.alerts(kind="alarm")
    assert len(alerts) == 3 and all(a.resolved_at is None for a in alerts)
    assert alerts[2].session_id is None


def test_duress_finish_answers_like_a_normal_finish_and_raises_a_silent_alert(app, phone, sync_as, lw, user_ids):
    with app.app_context():
        from app.auth.models import User
        from app.lone_working.services import set_worker_pins
        set_worker_pins(_db.session.get(User, user_ids["worker"]), "1234", "9876")
    normal_start, duress_start = phone.start(), phone.start(place="3 Oak Lane")
    sync_as([normal_start, duress_start])
    normal = phone.finish(normal_start["id"], pin="1234")
    duress = phone.finish(duress_start["id"], pin="9876")
    normal_statuses, normal_results = sync_as([normal])
    duress_statuses, duress_results = sync_as([duress])
    assert normal_statuses == duress_statuses == ["created"]
    assert set(normal_results[0]) == set(duress_results[0]) == {"id", "status"}
    assert lw.session(normal_start["id"]).status == lw.session(duress_start["id"]).status == "finished"
    alerts = lw.alerts()
    assert [(a.kind, str(a.session_id)) for a in alerts] == [("duress", duress_start["id"])]
    assert alerts[0].level == 1


def test_a_pin_is_never_stored_anywhere(app, phone, sync_as, user_ids):
    with app.app_context():
        from app.auth.models import User
        from app.lone_working.services import set_worker_pins
        set_worker_pins(_db.session.get(User, user_ids["worker"]), "482913", "731664")
    start = phone.start()
    sync_as([start, phone.finish(start["id"], pin="731664")])
    with app.app_context():
        dump = []
        for model in (LoneWorkingEvent, RecordReceipt, Alert, WorkerPins):
            for row in _db.session.scalars(sa.select(model)):
                dump.append(repr({c.key: getattr(row, c.key) for c in sa.inspect(model).column_attrs}))
        text = "\n".join(dump)
    assert "731664" not in text and "482913" not in text
    assert "scrypt" in text  # the PINs are there only as slow hashes


def test_finishing_needs_the_pin_once_one_is_set(app, phone, sync_as, lw, user_ids):
    with app.app_context():
        from app.auth.models import User
        from app.lone_working.services import set_worker_pins
        set_worker_pins(_db.session.get(User, user_ids["worker"]), "1234", "9876")
    start = phone.start()
    sync_as([start])
    statuses, results = sync_as([phone.finish(start["id"]), phone.finish(start["id"], pin="5555")])
    assert statuses == ["rejected", "rejected"]
    assert "PIN" in results[0]["errors"]["pin"][0]
    assert "still running" in results[1]["errors"]["pin"][0]
    assert lw.session(start["id"]).status == "active"
    assert lw.alerts() == []
