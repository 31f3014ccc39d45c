"""The server's clock, in one place so tests can move it.

Every module reads the time as `clock.utcnow()` through this module (`from app import clock`),
never a `from app.clock import utcnow` copy, so patching `app.clock.utcnow` once moves every
clock in the app: ingest, the sync API's server_time, the board, the sweep and column defaults.
"""
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def column_default_now() -> datetime:
    """For a column's `default=`: looks `utcnow` up when a row is inserted, so a moved clock moves it too."""
    return utcnow()
