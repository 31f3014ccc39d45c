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
import socket

import pytest
import sqlalchemy as sa
from support import ServerDidNotStart, gunicorn_server, signed_in_session

from app.extensions import db as _db
from app.sync.models import RecordReceipt

PASSWORD = "refused body password"
# A request line a misparsing server would answer: /offline is an HTML page, easy to tell apart.
SMUGGLED = b"GET /offline HTTP/1.1\r\nHost: smuggled\r\n\r\n"


@pytest.fixture(params=["sync", "gthread"])
def gunicorn_url(request, app, tmp_path):
    """The app under gunicorn (one worker of the given class, keep-alive 30 s) on the test database."""
    from app.auth.models import User

    with app.app_context():
        user = _db.session.scalar(sa.select(User).where(User.email == "worker@demo.example"))
        user.set_password(PASSWORD)
        _db.session.commit()
        _db.session.remove()
    worker = ("--worker-class", "gthread") if request.param == "gthread" else ("--worker-class", "sync")
    try:
        with gunicorn_server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "gunicorn.log", workers=1,
                             threads=2 if request.param == "gthread" else 1,
                             extra_args=(*worker, "--keep-alive", "30")) as url:
            yield url
    except ServerDidNotStart as error:
        pytest.fail(str(error))


def _sign_in(url: str) -> tuple[str, str]:
    """(Cookie header, API CSRF token) of a worker signed in through the real form."""
    session, api_token = signed_in_session(url, "worker@demo.example", PASSWORD, remember=False)
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
