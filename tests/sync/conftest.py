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


@pytest.fixture
def live_server(app):
    """The app under gunicorn (2 sync workers, so two requests really run at once) on the test database.

    The `app` fixture has already made the schema and the demo accounts in that database.
    Yields the base URL.
    """
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "live-server-secret",
        "SAFER_ENV": "test",
        "SIGN_IN_RATE_LIMIT": "1000 per minute",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(base_url + "/healthz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.stdout.read().decode(errors="replace")
            pytest.fail(f"gunicorn did not start:\n{output}")
        time.sleep(0.1)
    yield base_url
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()
