"""wsgi's app with the server's clock moved on, for running the real `flask escalate` "later".

Tests only: `flask --app moved_clock_app escalate` (with tests/e2e on PYTHONPATH) runs the same
command against the live server's database as if SAFER_E2E_CLOCK_SHIFT_MINUTES had passed, so
a browser test does not wait out a check-in interval and its grace period. Nothing in app/
reads this variable: the clock is moved here, the way tests/lone_working moves it (monkeypatch).
"""
import os
from datetime import timedelta

import app.clock

_real_utcnow = app.clock.utcnow
_shift = timedelta(minutes=float(os.environ["SAFER_E2E_CLOCK_SHIFT_MINUTES"]))


def _moved_utcnow():
    return _real_utcnow() + _shift


app.clock.utcnow = _moved_utcnow  # every module reads the time through app.clock, so this moves them all

from wsgi import app  # noqa: E402,F401  (the app the flask command loads)
