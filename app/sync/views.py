"""The sync API: /api/v1/session, /api/v1/sync, /api/v1/openapi.json.

Order of checks on every request: signed in (401), then size (413), then CSRF (400), then shape
(400). The sign-in check comes first so a signed-out phone is told to sign in, not that its
token is stale: Flask-WTF's own CSRF hook would answer before login_required, so this
blueprint is exempt from it and calls csrf.protect() itself. The size limit is set before the
CSRF check because that check reads the body's form fields: a body read before the limit is in
place would be read whole when it comes chunked, with no Content-Length to refuse it by.

A refused body (413) is still read to its end and thrown away, up to DRAIN_MAX_BYTES, before the
answer goes: on a kept-alive connection (gunicorn's gthread workers, most proxies) the bytes
left unread would otherwise stand where the next request should start, and the server would
drop the connection after answering "keep-alive". WSGI forbids the application a
`Connection: close` header (gunicorn strips it), so draining is the one honest fix; a body
beyond the drain cap is left to the server, which closes the connection rather than misparse it.
"""
from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from marshmallow import ValidationError

from app import clock
from app.errors import api_error
from app.extensions import csrf
from app.sync.openapi import build_openapi
from app.sync.schemas import SessionSchema, SyncBatchSchema
from app.sync.services import ingest_records

bp = Blueprint("sync", __name__)
csrf.exempt(bp)

PUBLIC_ENDPOINTS = {"sync.openapi"}
_batch_schema = SyncBatchSchema()
# The most of a refused body read and thrown away so the connection stays usable (see above).
DRAIN_MAX_BYTES = 16_000_000
_DRAIN_CHUNK = 64 * 1024


@bp.before_request
def require_sign_in_then_csrf():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return api_error(401, "signed_out", "You are signed out. Sign in again to send what is waiting on this phone.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        limit = current_app.config["SYNC_MAX_BODY_BYTES"]
        if request.content_length is not None and request.content_length > limit:
            return api_error(413, "too_large", f"The body is over {limit} bytes. Send fewer records at a time.")
        # A body of unknown length is read to at most one byte over the limit: see sync().
        request.max_content_length = limit + 1
        csrf.protect()
    return None


@bp.after_request
def drain_refused_body(response):
    """Read what is left of a body answered 413 (by this blueprint or by werkzeug's own limit)."""
    if response.status_code == 413:
        _drain_request_body(request.environ)
    return response


def _drain_request_body(environ) -> None:
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    remaining = None  # unknown: a chunked body, whose stream the server ends where the body does
    if request.content_length is not None:
        already_read = getattr(request, "_cached_data", None)
        remaining = request.content_length - (len(already_read) if already_read is not None else 0)
        if remaining > DRAIN_MAX_BYTES:
            return  # too big to be worth reading: the server closes the connection instead
    elif not environ.get("wsgi.input_terminated"):
        return  # neither a length nor an end of stream: nothing is safe to read
    drained = 0
    while drained <= DRAIN_MAX_BYTES and (remaining is None or remaining > 0):
        chunk = stream.read(_DRAIN_CHUNK if remaining is None else min(_DRAIN_CHUNK, remaining))
        if not chunk:
            return
        drained += len(chunk)
        if remaining is not None:
            remaining -= len(chunk)


@bp.get("/session")
def get_session():
    """Who is signed in, and a fresh CSRF token for the next send."""
    return jsonify(SessionSchema().dump({"user": current_user, "csrf_token": generate_csrf(),
                                         "server_time": clock.utcnow()}))


@bp.post("/sync")
def sync():
    """Store a batch of phone-made records; one result per record, in order."""
    if not request.is_json:
        return api_error(400, "bad_request", "Send JSON with Content-Type: application/json.")
    limit = current_app.config["SYNC_MAX_BODY_BYTES"]
    if len(request.get_data(cache=True)) > limit:  # a chunked body (no Content-Length) over the limit
        return api_error(413, "too_large", f"The body is over {limit} bytes. Send fewer records at a time.")
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON decoder can go
        payload = None
    if payload is None:
        return api_error(400, "bad_json", "The body is not valid JSON.")
    if not isinstance(payload, dict):
        return api_error(400, "bad_shape", "The body must be a JSON object with sent_at and records.")
    records = payload.get("records")
    max_records = current_app.config["SYNC_MAX_RECORDS"]
    if isinstance(records, list) and len(records) > max_records:
        return api_error(413, "too_many_records", f"A batch holds at most {max_records} records.")
    try:
        batch = _batch_schema.load(payload)
    except ValidationError as error:
        return api_error(400, "bad_shape", "The batch does not have the expected shape.", error.messages)
    results = ingest_records(current_user, batch["records"], sent_at=batch["sent_at"], via="sync")
    return jsonify({"results": results, "server_time": clock.utcnow().isoformat()})


@bp.get("/openapi.json")
def openapi():
    """The API's OpenAPI 3 document."""
    return jsonify(build_openapi(current_app))
