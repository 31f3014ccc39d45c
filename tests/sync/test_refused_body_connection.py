"""A body refused with 413 must not poison the HTTP/1.1 connection it came on (issue 6, point 6a).

Over a raw keep-alive connection to gunicorn: an oversized POST (with a Content-Length, then
chunked) is answered 413 in the API's error shape, and then either the server keeps its word
("Connection: keep-alive") and answers the next request on the same connection correctly, or
it says "close" and closes. The refused body is full of request lines: had the server taken
the unread rest of it for the next request, an answer to one of those would show up.

Both kinds of gunicorn worker are run: `sync` (closes after every answer) and `gthread` (keeps
connections alive, and drops one whose body was left unread after answering "keep-alive").
"""
import json
import os
import re
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
from app.sync.models import RecordReceipt

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "refused body password"
# A request line a misparsing server would answer: /offline is an HTML page, easy to tell apart.
SMUGGLED = b"GET /offline HTTP/1.1\r\nHost: smuggled\r\n\r\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sync", "gthread"])
def gunicorn_url(request, app, tmp_path):
    """The app under gunicorn with the given worker class, on the test database."""
    from app.auth.models import User

    with app.app_context():
        user = _db.session.scalar(sa.select(User).where(User.email == "worker@demo.example"))
        user.set_password(PASSWORD)
        _db.session.commit()
        _db.session.remove()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "refused-body",
           "SAFER_ENV": "test", "SIGN_IN_RATE_LIMIT": "1000 per minute"}
    worker = ["--worker-class", "gthread", "--threads", "2"] if request.param == "gthread" else []
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", *worker, "--bind", f"127.0.0.1:{port}",
             "--keep-alive", "30", "--graceful-timeout", "5", "--log-level", "warning", "wsgi:app"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _sign_in(url: str) -> tuple[str, str]:
    """(Cookie header, API CSRF token) of a worker signed in through the real form."""
    session = requests.Session()
    page = session.get(url + "/auth/sign-in")
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text).group(1)
    answer = session.post(url + "/auth/sign-in", allow_redirects=False,
                          data={"email": "worker@demo.example", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, answer.text[:300]
    api_token = session.get(url + "/api/v1/session").json()["csrf_token"]
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies), api_token


def _read_response(stream) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 response from a buffered socket file: (status, lower-cased headers, body)."""
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), f"not an HTTP response: {status_line!r}"
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = stream.read(int(headers["content-length"]))
    else:
        assert headers.get("transfer-encoding") == "chunked", headers
        body = b""
        while (size := int(stream.readline().split(b";")[0], 16)) > 0:
            body += stream.read(size)
            stream.readline()
        stream.readline()
    return int(status_line.split()[1]), headers, body


def _oversized_body(size: int) -> bytes:
    """The start of a batch, then `size` bytes of request lines padded with spaces."""
    filler = (SMUGGLED + b" " * (1024 - len(SMUGGLED))) * (size // 1024 + 1)
    return b'{"sent_at": "2026-01-01T00:00:00+00:00", "records": [' + filler + b"]}"


def _healthz_is_answered(stream, sock, close: bool) -> None:
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (b"Connection: close\r\n" if close else b"")
                 + b"\r\n")
    status, headers, body = _read_response(stream)
    assert status == 200, body[:300]
    assert json.loads(body) == {"status": "ok"}


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_refused_body_leaves_the_connection_usable_or_closed(gunicorn_url, app, framing, count_rows):
    cookie, token = _sign_in(gunicorn_url)
    limit = app.config["SYNC_MAX_BODY_BYTES"]
    body = _oversized_body(2 * limit)
    head = (f"POST /api/v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nX-CSRFToken: {token}\r\n"
            "Content-Type: application/json\r\nConnection: keep-alive\r\n")
    if framing == "content-length":
        request_bytes = (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    else:
        chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
        request_bytes = (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + b"".join(
            f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"

    host, port = gunicorn_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock, sock.makefile("rb") as stream:
        # The whole request is sent: a client does not stop sending because the server has answered.
        sock.sendall(request_bytes)
        status, headers, answer = _read_response(stream)
        assert status == 413, answer[:300]
        assert json.loads(answer)["error"] == {
            "code": "too_large", "message": f"The body is over {limit} bytes. Send fewer records at a time.",
            "details": {}}
        if headers.get("connection", "").lower() == "close":
            # The server said it would close: it must, with nothing more sent.
            assert stream.read() == b""
        else:
            # Kept alive: the next request on this very connection is answered, and is the only thing
            # answered (the server closes after it, as that request asks, with nothing else before).
            _healthz_is_answered(stream, sock, close=True)
            assert stream.read() == b"", "the server answered something it read from the refused body"

    # And a new connection is answered as usual.
    with socket.create_connection((host, int(port)), timeout=30) as sock, sock.makefile("rb") as stream:
        _healthz_is_answered(stream, sock, close=True)
    assert count_rows(RecordReceipt) == 0
