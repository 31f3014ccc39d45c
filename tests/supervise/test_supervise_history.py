"""Past sessions and a session's timeline, as the supervisor's pages read them (no HTTP)."""
import pytest

from app.extensions import db as _db
from app.lone_working.models import LoneWorkingSession
from app.lone_working.services import set_worker_pins
from app.supervise.services import TextRefused, acknowledge_alert, search_past_sessions, session_timeline


def _places(sessions) -> list[str]:
    return [s.place for s in sessions]


def test_past_sessions_are_the_last_30_days_in_scope_newest_first(people, worker_of, clock):
    wendy, will, ron = worker_of("worker"), worker_of("worker2"), worker_of("river.worker")
    wendy.start(place="Old visit")
    clock.advance(days=31)
    wendy.start(place="12 Elm Road")
    clock.advance(minutes=5)
    will.start(place="Stop 4, Mill Lane")
    ron.start(place="Riverside closing")
    supervisor = people["supervisor"]
    assert _places(search_past_sessions(supervisor, clock.now)) == ["Stop 4, Mill Lane", "12 Elm Road"]
    assert _places(search_past_sessions(people["river.sup"], clock.now)) == ["Riverside closing"]
    assert search_past_sessions(people["worker"], clock.now) == []


def test_past_sessions_match_a_worker_or_a_place_as_typed(people, worker_of, clock):
    worker_of("worker").start(place="12 Elm Road")
    worker_of("worker2").start(place="100% Books, Mill_Lane")
    supervisor = people["supervisor"]
    assert _places(search_past_sessions(supervisor, clock.now, "  wendy ")) == ["12 Elm Road"]
    assert _places(search_past_sessions(supervisor, clock.now, "ELM")) == ["12 Elm Road"]
    assert _places(search_past_sessions(supervisor, clock.now, "100%")) == ["100% Books, Mill_Lane"]
    assert search_past_sessions(supervisor, clock.now, "l_ne") == []  # _ is itself, not any letter
    with pytest.raises(TextRefused):
        search_past_sessions(supervisor, clock.now, "elm\x00")


def test_the_timeline_tells_the_phones_events_in_order_and_the_servers_story(people, worker_of, alert_of, clock):
    wendy = worker_of("worker")
    session_id = wendy.start()
    clock.advance(minutes=10)
    wendy.check_in(session_id)
    clock.advance(minutes=10)
    wendy.alarm(session_id, message="Raised voices")
    clock.advance(minutes=2)
    acknowledge_alert(people["supervisor"], alert_of(session_id).id, "On my way", clock.now)
    timeline = session_timeline(_db.session.get(LoneWorkingSession, session_id))
    assert [e.kind for e in timeline["events"]] == ["session_started", "check_in", "alarm_raised"]
    story = [(entry.kind, entry.title) for entry in timeline["server_story"]]
    assert story[:3] == [("session_started", "Session started"), ("check_in", "Checked in: I'm OK"),
                         ("alarm_raised", "Alarm: I need help")]
    assert ("alert", "Alarm alert raised") in story
    assert story[-1] == ("action", "Acknowledge by Sam Supervisor")
    alert_entry = next(entry for entry in timeline["server_story"] if entry.kind == "alert")
    assert alert_entry.detail == "Raised voices"
    assert [entry.at for entry in timeline["server_story"]] == sorted(entry.at for entry in timeline["server_story"])


def test_finishing_with_the_duress_pin_reads_as_a_silent_alarm(people, worker_of, alert_of, clock):
    set_worker_pins(people["worker"], "1234", "9876")
    wendy = worker_of("worker")
    session_id = wendy.start()
    clock.advance(minutes=5)
    wendy.finish(session_id, pin="9876")
    timeline = session_timeline(_db.session.get(LoneWorkingSession, session_id))
    titles = [entry.title for entry in timeline["server_story"]]
    assert "Finished WITH THE DURESS PIN (silent alarm)" in titles
    assert "Duress alert raised" in titles
    assert alert_of(session_id, kind="duress") is not None
