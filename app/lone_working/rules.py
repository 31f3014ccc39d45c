"""The lone-working rules as pure functions of their inputs and the clock.

Nothing here reads the database or the real clock: `now` is always a parameter, so the rules
are tested with a controlled clock (daylight-saving changes, sessions crossing midnight).
All instants are aware datetimes; anything a person typed as a wall-clock time is turned
into an instant with zoneinfo (Europe/London by default).
"""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 24 * 60

URGENCY_RANK = {"alarm": 0, "overdue": 1, "due_soon": 2, "fine": 3, "finished": 4}
URGENCY_LABELS = {"alarm": "Alarm", "overdue": "Overdue", "due_soon": "Due soon", "fine": "Fine",
                  "finished": "Finished"}

# Notification retries: 30 s, 1, 2, 4, 8 min... never more than 15 minutes apart.
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)


def _utc(moment: datetime) -> datetime:
    """Arithmetic on instants is done in UTC: Python adds a timedelta to a zoned datetime on
    the wall clock (23:00 BST + 4 h = 03:00 GMT, which is 5 real hours after)."""
    return moment.astimezone(UTC)


def wall_clock_to_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock date and time (no offset) in `zone`, as an aware instant.

    Ambiguous times (the hour repeated when the clocks go back) take the first, earlier
    instant; times that do not exist (the hour skipped when the clocks go forward) are read
    with the offset before the change, i.e. moved forward by the gap. Both choices make a
    deadline come sooner rather than later.
    """
    if local.tzinfo is not None:
        return _utc(local)
    return _utc(local.replace(tzinfo=zone, fold=0))


def next_occurrence_of(wall_time: time, after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant after `after` at which the clocks in `zone` show `wall_time`.

    "Finish at 01:00" said at 22:00 means 01:00 tomorrow (a session crossing midnight).
    Days are counted on the calendar, not as 24 hours, so DST days come out right.
    """
    local_day: date = after.astimezone(zone).date()
    for days in range(0, 3):
        wall = datetime.combine(local_day + timedelta(days=days), wall_time)
        candidate = wall_clock_to_instant(wall, zone)
        if candidate > after:
            return candidate
        # When the clocks go back an hour is shown twice: its second showing may still be ahead
        # ("01:30" said at 01:45 BST is 01:30 GMT, 45 minutes later, not tomorrow). In the hour
        # skipped in spring, fold=1 is earlier than the candidate, so never after it.
        if wall.tzinfo is None:
            repeated = _utc(wall.replace(tzinfo=zone, fold=1))
            if repeated > after:
                return repeated
    raise ValueError("no next occurrence")  # unreachable: a wall time recurs every day


def resolve_planned_end(value: str, started_at: datetime, zone: ZoneInfo) -> datetime:
    """A planned end as the phone or form gave it, as an instant.

    Accepted: an ISO date-time with offset (taken as is), an ISO date-time without offset
    (wall clock in `zone`), or "HH:MM" (the next time the clocks show it after the start).
    """
    value = value.strip()
    if len(value) <= 8 and ":" in value and "T" not in value:
        return next_occurrence_of(time.fromisoformat(value), started_at, zone)
    parsed = datetime.fromisoformat(value)
    return wall_clock_to_instant(parsed, zone)


def effective_time(recorded_at: datetime, received_at: datetime, skew_seconds: int | None,
                   skew_limit_seconds: int) -> datetime:
    """When the server believes a worker acted.

    The phone's time, corrected by the measured clock skew when the phone's clock is known to
    be wrong (more than the flag limit), and never later than the server received it: a phone
    whose clock runs ahead must not push the next deadline into the future.
    """
    moment = _utc(recorded_at)
    if skew_seconds is not None and abs(skew_seconds) > skew_limit_seconds:
        moment = moment + timedelta(seconds=skew_seconds)
    return min(moment, _utc(received_at))


def next_check_in_due(anchor: datetime, interval_minutes: int) -> datetime:
    """The next check-in is due one interval after the last check-in (or the start)."""
    return _utc(anchor) + timedelta(minutes=interval_minutes)


def deadline(next_due: datetime | None, planned_end: datetime | None) -> datetime | None:
    """The session's next deadline: the next check-in or the planned end, whichever is first.

    Either may be missing on the phone (a start with no interval chosen); None if both are.
    """
    if next_due is None:
        return _utc(planned_end) if planned_end is not None else None
    return _utc(min(next_due, planned_end)) if planned_end is not None else _utc(next_due)


def deadline_kind(next_due: datetime | None, planned_end: datetime | None) -> str | None:
    """Which deadline comes first: "end" (the planned end, strictly before the check-in) or
    "check_in"; None if there is neither. The phone words its countdown by it."""
    if planned_end is not None and (next_due is None or planned_end < next_due):
        return "end"
    return "check_in" if next_due is not None else None


def overdue_time(deadline_at: datetime, grace_minutes: int) -> datetime:
    """A session is overdue once its deadline plus the service's grace period has passed."""
    return _utc(deadline_at) + timedelta(minutes=grace_minutes)


def is_overdue(now: datetime, deadline_at: datetime | None, grace_minutes: int) -> bool:
    return deadline_at is not None and now >= overdue_time(deadline_at, grace_minutes)


def extended_end(current_end: datetime | None, acted_at: datetime, minutes: int) -> datetime:
    """Extending adds time to the planned end, or to the moment of extending if that is later."""
    base = max(current_end, acted_at) if current_end is not None else acted_at
    return _utc(base) + timedelta(minutes=minutes)


def urgency(now: datetime, *, active: bool, deadline_at: datetime | None, grace_minutes: int,
            due_soon_minutes: int, open_alert_kinds: set[str]) -> str:
    """Where a session sits on the board: alarm, overdue, due_soon, fine or finished.

    An open alarm or duress alert outranks everything; an open overdue alert keeps a session
    overdue even after a (late) check-in, until a person closes it.
    """
    if open_alert_kinds & {"alarm", "duress"}:
        return "alarm"
    if "overdue" in open_alert_kinds:
        return "overdue"
    if not active:
        return "finished"
    if is_overdue(now, deadline_at, grace_minutes):
        return "overdue"
    if deadline_at is not None and now >= deadline_at - timedelta(minutes=due_soon_minutes):
        return "due_soon"
    return "fine"


def is_stale_contact(now: datetime, last_contact_received_at: datetime | None, stale_minutes: int) -> bool:
    """No word from the phone for longer than the service's stale-contact limit."""
    return last_contact_received_at is None or now - last_contact_received_at > timedelta(minutes=stale_minutes)


@dataclass(frozen=True)
class LateCheckIn:
    """A check-in that reached the server after an overdue alert was raised (pitfall 14)."""

    checked_in_at: datetime  # the phone's time
    received_at: datetime
    in_time_on_phone: bool  # the phone's time was before the missed deadline


def late_check_in(check_in_at: datetime | None, check_in_received_at: datetime | None,
                  alert_cause_at: datetime, alert_raised_at: datetime) -> LateCheckIn | None:
    """Describe a check-in received after the alert was raised; None if there is none.

    It never closes the alert: a person must.
    """
    if check_in_at is None or check_in_received_at is None or check_in_received_at <= alert_raised_at:
        return None
    return LateCheckIn(check_in_at, check_in_received_at, check_in_at <= alert_cause_at)


def next_escalation_time(fired_at: datetime, next_level_delay_minutes: int | None) -> datetime | None:
    """When the next level fires if nobody acknowledges; None after the last level."""
    if next_level_delay_minutes is None:
        return None
    return _utc(fired_at) + timedelta(minutes=next_level_delay_minutes)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait before retrying a failed email, after `attempts` attempts."""
    # The exponent is capped: 2 ** 42 times 30 s no longer fits in a timedelta, and the sweep
    # calls this after every failure, however long the mail server has been down.
    doublings = min(max(attempts - 1, 0), 16)
    return min(BACKOFF_FIRST * (2 ** doublings), BACKOFF_MAX)


def format_duration(delta: timedelta) -> str:
    """"1 h 05 min", "12 min", "40 s": for the board."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{hours} h {minutes:02d} min"
    return f"{days} d {text}" if days else text


def format_countdown(delta: timedelta) -> str:
    """"1 h 05 min", "4 min 05 s", "40 s": the phone's countdown, seconds shown under an hour."""
    seconds = int(abs(delta.total_seconds()))
    if 60 <= seconds < 60 * 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return format_duration(delta)


def interval_label(minutes: int | None) -> str:
    """How often to check in, as the start form and the status screen say it ("Every 30 minutes",
    "Every hour", "Every 1 h 30 min"); "" when there is no interval."""
    if not minutes:
        return ""
    if minutes < 60:
        return f"Every {minutes} minutes"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "Every hour" if hours == 1 else f"Every {hours} hours"
    return f"Every {minutes // 60} h {minutes % 60} min"
