"""Test support shared by the tests and the benchmarks: a free port, the CSRF token of a page, the
app under gunicorn, and a requests session signed in through the real form.

The tests import it as `support` (pytest puts tests/ on sys.path for tests/conftest.py); the
benchmarks put tests/ on sys.path themselves. Only the standard library and `requests` (both in the
test extra) are needed, so nothing here imports the app.
"""
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]

_CSRF_INPUT = re.compile(r'<input\b[^>]*\bname="csrf_token"[^>]*>')
_VALUE = re.compile(r'\bvalue="([^"]*)"')


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def csrf_from(html: str) -> str:
    """The CSRF token of the first form in a page (its hidden csrf_token input, attributes in any order)."""
    field = _CSRF_INPUT.search(html)
    value = _VALUE.search(field.group(0)) if field else None
    assert value, "no CSRF token in the page"
    return value.group(1)


class ServerDidNotStart(RuntimeError):
    """gunicorn exited, or did not answer /healthz in time; the message holds its log."""


def launch_gunicorn(port: int, env: dict, log_path: Path, args: tuple[str, ...] = ()) -> subprocess.Popen:
    """Start the app (wsgi:app) under gunicorn on 127.0.0.1:`port` with exactly `env`, its output
    appended to `log_path` (a pipe nobody reads would fill and stall the workers)."""
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *args, "wsgi:app"]
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_until_serving(process: subprocess.Popen, base_url: str, log_path: Path, timeout: float) -> None:
    """Return once /healthz answers 200; ServerDidNotStart (with the log) if the server exits or is late."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(base_url + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still booting
            pass
        if process.poll() is not None:
            raise ServerDidNotStart(f"gunicorn exited:\n{log_path.read_text(errors='replace')[-4000:]}")
        if time.monotonic() > deadline:
            raise ServerDidNotStart(f"gunicorn did not answer:\n{log_path.read_text(errors='replace')[-4000:]}")
        time.sleep(0.1)


def stop_gunicorn(process: subprocess.Popen, timeout: float = 15, quick: bool = False) -> None:
    """Stop it: SIGTERM (graceful) or SIGINT (quick shutdown), then kill if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT if quick else signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


@contextlib.contextmanager
def gunicorn_server(database_url: str, log_path: Path, *, workers: int = 2, threads: int = 1,
                    extra_args: tuple[str, ...] = (), env: dict | None = None, start_timeout: float = 30,
                    stop_timeout: float = 15) -> Iterator[str]:
    """The app (wsgi:app) under gunicorn on 127.0.0.1 and a free port, on `database_url`; yields its base URL.

    The sign-in rate limit is lifted, since tests and benchmarks sign many sessions in at once.
    """
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "gunicorn-test-secret",
                   "SAFER_ENV": "test", "SIGN_IN_RATE_LIMIT": "1000 per minute", **(env or {})}
    args = ("--workers", str(workers), "--threads", str(threads), "--graceful-timeout", "5",
            "--log-level", "warning", *extra_args)
    process = launch_gunicorn(port, environment, log_path, args)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(process, base_url, log_path, start_timeout)
        yield base_url
    finally:
        stop_gunicorn(process, stop_timeout)


def signed_in_session(base_url: str, email: str, password: str,
                      remember: bool = True) -> tuple[requests.Session, str]:
    """A requests session signed in through the real sign-in form, and its API CSRF token."""
    session = requests.Session()
    token = csrf_from(session.get(base_url + "/auth/sign-in").text)
    data = {"email": email, "password": password, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    answer = session.post(base_url + "/auth/sign-in", allow_redirects=False, data=data)
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in as {email} failed: {answer.status_code} {answer.text[:300]}")
    return session, session.get(base_url + "/api/v1/session").json()["csrf_token"]
