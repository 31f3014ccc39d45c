"""Fixtures for the sync API: reading what the database holds, and a live server under gunicorn."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from app.extensions import db as _db

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def count_rows(app):
    """count_rows(Model, *where) -> how many rows the database holds, read in a fresh app context."""

    def count(model, *where):
        with app.app_context():
            return _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    return count


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LIVE_PASSWORD = "live server password"


@pytest.fixture
def live_server(app, tmp_path, request):
    """The app under gunicorn (2 sync workers, so two requests really run at once) on the test database.

    A test module may set LIVE_SERVER_WORKERS and LIVE_SERVER_THREADS for more at once.

    The `app` fixture has already made the schema and the demo accounts in that database; the
    worker accounts get LIVE_PASSWORD. Yields the base URL.
    """
    from app.auth.models import User

    with app.app_context():
        for user in _db.session.scalars(sa.select(User).where(User.email.like("worker%"))):
            user.set_password(LIVE_PASSWORD)
        _db.session.commit()
        _db.session.remove()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "live-server-secret",
        "SAFER_ENV": "test",
        "SIGN_IN_RATE_LIMIT": "1000 per minute",
    }
    # The server's log goes to a file: a pipe nobody reads would fill and stall the workers.
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
             "--workers", str(getattr(request.module, "LIVE_SERVER_WORKERS", 2)),
             "--threads", str(getattr(request.module, "LIVE_SERVER_THREADS", 1)),
             "--graceful-timeout", "5", "--log-level", "warning", "wsgi:app"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base_url + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or a worker still booting
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
