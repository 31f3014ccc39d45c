"""Turning instants into the times people read, and form times into instants."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["LOCAL_TIMEZONE"])


def to_service_local(value: datetime) -> datetime:
    """An instant in the service's own time zone (Europe/London by default)."""
    return value.astimezone(local_zone())


def from_local_naive(value: datetime) -> datetime:
    """A form's date-time (no offset) taken as the service's local time."""
    return value.replace(tzinfo=local_zone())


def at_offset(value: datetime, offset_minutes: int) -> datetime:
    """An instant as the phone showed it, at the UTC offset it had then."""
    return value.astimezone(timezone(timedelta(minutes=offset_minutes)))


def format_when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%a %d %b %Y, %H:%M")


def format_offset(value: datetime) -> str:
    offset = value.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
