"""The overdue and escalation rules, with a controlled clock (no database, no real time)."""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.lone_working import rules

LONDON = ZoneInfo("Europe/London")
UTC = UTC


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_session_is_overdue_only_after_the_check_in_plus_grace():
    start = utc(2026, 6, 10, 9, 0)
    due = rules.next_check_in_due(start, 30)
    deadline = rules.deadline(due, planned_end=utc(2026, 6, 10, 13, 0))
    assert deadline == utc(2026, 6, 10, 9, 30)
    assert not rules.is_overdue(utc(2026, 6, 10, 9, 34, 59), deadline, grace_minutes=5)
    assert rules.is_overdue(utc(2026, 6, 10, 9, 35), deadline, grace_minutes=5)


def test_planned_end_before_the_next_check_in_is_the_deadline():
    due = rules.next_check_in_due(utc(2026, 6, 10, 9, 0), 60)
    assert rules.deadline(due, planned_end=utc(2026, 6, 10, 9, 20)) == utc(2026, 6, 10, 9, 20)


def test_finish_time_said_before_midnight_for_after_midnight_means_tomorrow():
    started = datetime(2026, 6, 10, 22, 0, tzinfo=LONDON)
    end = rules.resolve_planned_end("01:00", started, LONDON)
    assert end == datetime(2026, 6, 11, 1, 0, tzinfo=LONDON)
    assert end - started.astimezone(UTC) == timedelta(hours=3)


def test_check_ins_across_midnight_keep_counting_from_the_last_one():
    last = datetime(2026, 6, 10, 23, 50, tzinfo=LONDON)
    assert rules.next_check_in_due(last, 30) == datetime(2026, 6, 11, 0, 20, tzinfo=LONDON)


def test_clocks_going_forward_make_a_night_session_an_hour_shorter():
    # 2026-03-29: at 01:00 GMT the clocks go forward to 02:00 BST.
    started = datetime(2026, 3, 28, 23, 0, tzinfo=LONDON)  # 23:00 GMT = 23:00 UTC
    end = rules.resolve_planned_end("03:00", started, LONDON)
    assert end == utc(2026, 3, 29, 2, 0)  # 03:00 BST
    assert end - started.astimezone(UTC) == timedelta(hours=3)  # 4 hours on the wall, 3 real hours


def test_a_wall_clock_time_skipped_by_the_spring_change_is_read_as_the_instant_after_the_gap():
    # 01:30 does not exist on 2026-03-29 in London; it is taken as 01:30 GMT = 02:30 BST.
    instant = rules.wall_clock_to_instant(datetime(2026, 3, 29, 1, 30), LONDON)
    assert instant.astimezone(UTC) == utc(2026, 3, 29, 1, 30)


def test_clocks_going_back_make_a_night_session_an_hour_longer():
    # 2026-10-25: at 02:00 BST the clocks go back to 01:00 GMT.
    started = datetime(2026, 10, 24, 23, 0, tzinfo=LONDON)  # 23:00 BST = 22:00 UTC
    end = rules.resolve_planned_end("03:00", started, LONDON)
    assert end == utc(2026, 10, 25, 3, 0)  # 03:00 GMT
    assert end - started.astimezone(UTC) == timedelta(hours=5)  # 4 hours on the wall, 5 real hours


def test_a_repeated_wall_clock_hour_in_autumn_takes_the_earlier_instant():
    # 01:30 happens twice on 2026-10-25; the first (BST) is sooner, so the deadline is safer.
    instant = rules.wall_clock_to_instant(datetime(2026, 10, 25, 1, 30), LONDON)
    assert instant.astimezone(UTC) == utc(2026, 10, 25, 0, 30)


def test_check_in_interval_is_absolute_time_across_the_autumn_change():
    # A check-in at 01:50 BST with a 30-minute interval is due at 01:20 GMT: 30 real minutes.
    check_in = utc(2026, 10, 25, 0, 50)
    due = rules.next_check_in_due(check_in, 30)
    assert due == utc(2026, 10, 25, 1, 20)
    assert due.astimezone(LONDON).strftime("%H:%M %Z") == "01:20 GMT"


def test_overdue_across_the_spring_change_is_measured_in_real_minutes():
    deadline = utc(2026, 3, 29, 0, 45)  # 00:45 GMT
    # 01:50 UTC is 02:50 BST on the wall, but only 65 real minutes after the deadline.
    assert rules.is_overdue(utc(2026, 3, 29, 0, 50), deadline, 5)
    assert rules.format_duration(utc(2026, 3, 29, 1, 50) - deadline) == "1 h 05 min"


def test_iso_planned_end_without_offset_is_london_wall_clock():
    end = rules.resolve_planned_end("2026-07-01T17:30", utc(2026, 7, 1, 9), LONDON)
    assert end == utc(2026, 7, 1, 16, 30)
    end_with_offset = rules.resolve_planned_end("2026-07-01T17:30+00:00", utc(2026, 7, 1, 9), LONDON)
    assert end_with_offset == utc(2026, 7, 1, 17, 30)


def test_next_occurrence_counts_calendar_days_not_24_hours():
    after = datetime(2026, 3, 28, 12, 0, tzinfo=LONDON)
    assert rules.next_occurrence_of(time(11, 0), after, LONDON) == datetime(2026, 3, 29, 11, 0, tzinfo=LONDON)
    assert rules.next_occurrence_of(time(11, 0), after, LONDON).astimezone(UTC) == utc(2026, 3, 29, 10, 0)


def test_phone_clock_three_hours_slow_is_corrected_by_the_measured_skew():
    received = utc(2026, 6, 10, 12, 0)
    recorded = utc(2026, 6, 10, 8, 55)  # the phone says 08:55; its clock is 3 h slow
    effective = rules.effective_time(recorded, received, skew_seconds=3 * 3600, skew_limit_seconds=300)
    assert effective == utc(2026, 6, 10, 11, 55)


def test_a_phone_clock_running_ahead_cannot_push_a_deadline_past_when_the_server_heard():
    received = utc(2026, 6, 10, 12, 0)
    recorded = utc(2026, 6, 10, 15, 0)  # 3 h in the future, no skew measured (form or old batch)
    assert rules.effective_time(recorded, received, skew_seconds=None, skew_limit_seconds=300) == received


def test_small_skews_leave_the_phone_time_as_it_is():
    received = utc(2026, 6, 10, 12, 0)
    recorded = utc(2026, 6, 10, 11, 40)  # queued offline for 20 min, clock right
    assert rules.effective_time(recorded, received, skew_seconds=2, skew_limit_seconds=300) == recorded


@pytest.mark.parametrize("kinds, expected", [
    ({"alarm"}, "alarm"), ({"duress"}, "alarm"), ({"overdue", "alarm"}, "alarm"), ({"overdue"}, "overdue"),
    (set(), "fine"),
])
def test_open_alerts_rank_above_the_clock(kinds, expected):
    now = utc(2026, 6, 10, 9, 0)
    assert rules.urgency(now, active=True, deadline_at=now + timedelta(hours=1), grace_minutes=5,
                         due_soon_minutes=10, open_alert_kinds=kinds) == expected


def test_urgency_follows_the_server_clock_alone():
    deadline = utc(2026, 6, 10, 9, 30)
    def at(h, m):
        return rules.urgency(utc(2026, 6, 10, h, m), active=True, deadline_at=deadline, grace_minutes=5,
                             due_soon_minutes=10, open_alert_kinds=set())
    assert at(9, 0) == "fine"
    assert at(9, 20) == "due_soon"
    assert at(9, 33) == "due_soon"  # past the deadline but inside the grace period
    assert at(9, 35) == "overdue"
    rank = rules.URGENCY_RANK
    assert rank["alarm"] < rank["overdue"] < rank["due_soon"] < rank["fine"]


def test_an_open_overdue_alert_keeps_a_finished_session_on_the_board():
    assert rules.urgency(utc(2026, 6, 10, 9), active=False, deadline_at=None, grace_minutes=5, due_soon_minutes=10,
                         open_alert_kinds={"overdue"}) == "overdue"
    assert rules.urgency(utc(2026, 6, 10, 9), active=False, deadline_at=None, grace_minutes=5, due_soon_minutes=10,
                         open_alert_kinds=set()) == "finished"


def test_late_check_in_is_described_not_treated_as_closing_the_alert():
    deadline, raised = utc(2026, 6, 10, 9, 30), utc(2026, 6, 10, 9, 35)
    late = rules.late_check_in(utc(2026, 6, 10, 9, 28), utc(2026, 6, 10, 10, 10), deadline, raised)
    assert late is not None and late.in_time_on_phone
    after = rules.late_check_in(utc(2026, 6, 10, 9, 50), utc(2026, 6, 10, 9, 51), deadline, raised)
    assert after is not None and not after.in_time_on_phone
    assert rules.late_check_in(utc(2026, 6, 10, 9, 28), utc(2026, 6, 10, 9, 29), deadline, raised) is None


def test_escalation_levels_fire_after_their_own_delay():
    fired = utc(2026, 6, 10, 9, 35)
    assert rules.next_escalation_time(fired, 10) == utc(2026, 6, 10, 9, 45)
    assert rules.next_escalation_time(fired, None) is None


def test_failed_emails_are_retried_with_capped_backoff():
    assert [rules.retry_delay(n).total_seconds() for n in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]


def test_extending_adds_to_the_planned_end_or_to_now_if_that_has_passed():
    end = utc(2026, 6, 10, 12, 0)
    assert rules.extended_end(end, utc(2026, 6, 10, 11, 0), 30) == utc(2026, 6, 10, 12, 30)
    assert rules.extended_end(end, utc(2026, 6, 10, 12, 20), 30) == utc(2026, 6, 10, 12, 50)


def test_stale_contact_after_the_services_limit():
    now = utc(2026, 6, 10, 12, 0)
    assert rules.is_stale_contact(now, now - timedelta(minutes=61), 60)
    assert not rules.is_stale_contact(now, now - timedelta(minutes=59), 60)
    assert rules.is_stale_contact(now, None, 60)


def test_a_duration_is_real_time_even_when_the_start_is_given_in_london_time():
    # 4 hours from 23:00 BST on 2026-10-24 is 02:00 GMT: the wall clock shows 3 hours later.
    started = datetime(2026, 10, 24, 23, 0, tzinfo=LONDON)
    end = rules.extended_end(None, started, 240)
    assert end == utc(2026, 10, 25, 2, 0)
    assert end.astimezone(LONDON).strftime("%H:%M %Z") == "02:00 GMT"
    assert rules.next_check_in_due(started, 240) == end
