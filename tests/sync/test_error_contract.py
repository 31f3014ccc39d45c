"""Every error of the API has the documented shape (issue 6, point 6c).

README: errors share one shape, {"error": {"code", "message", "details"}}. `details` is always
there, an empty object when there is nothing to add, so a client can read it without checking.
Each case below is one way the API can refuse a request.
"""
import json
from datetime import UTC, datetime

import pytest

from app.sync.models import RecordReceipt


def _batch(records) -> bytes:
    return json.dumps({"sent_at": datetime.now(UTC).isoformat(), "records": records}).encode()


def _as_chunked(app):
    """Requests arrive as a chunked body does under gunicorn: no Content-Length, input terminated."""
    inner = app.wsgi_app

    def without_content_length(environ, start_response):
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
        return inner(environ, start_response)

    app.wsgi_app = without_content_length


def _signed_out_session(app, auth, incident_record):
    return auth.client.get("/api/v1/session")


def _signed_out_sync(app, auth, incident_record):
    return auth.client.post("/api/v1/sync", data=_batch([incident_record()]), content_type="application/json",
                            headers={"X-CSRFToken": "whatever"})


def _no_csrf_token(app, auth, incident_record):
    auth.sign_in()
    return auth.client.post("/api/v1/sync", data=_batch([incident_record()]), content_type="application/json")


def _not_json(app, auth, incident_record):
    auth.sign_in()
    return auth.client.post("/api/v1/sync", data=b"sent_at=now", content_type="text/plain",
                            headers={"X-CSRFToken": auth.api_token()})


def _bad_json(app, auth, incident_record):
    auth.sign_in()
    return auth.client.post("/api/v1/sync", data=b"{", content_type="application/json",
                            headers={"X-CSRFToken": auth.api_token()})


def _not_an_object(app, auth, incident_record):
    auth.sign_in()
    return auth.client.post("/api/v1/sync", data=b"[]", content_type="application/json",
                            headers={"X-CSRFToken": auth.api_token()})


def _wrong_shape(app, auth, incident_record):
    auth.sign_in()
    return auth.client.post("/api/v1/sync", data=b'{"records": []}', content_type="application/json",
                            headers={"X-CSRFToken": auth.api_token()})


def _too_large_with_length(app, auth, incident_record):
    app.config["SYNC_MAX_BODY_BYTES"] = 2_000
    auth.sign_in()
    return auth.client.post("/api/v1/sync", data=_batch([incident_record() for _ in range(10)]),
                            content_type="application/json", headers={"X-CSRFToken": auth.api_token()})


def _too_large_chunked(app, auth, incident_record):
    app.config["SYNC_MAX_BODY_BYTES"] = 2_000
    auth.sign_in()
    token = auth.api_token()
    _as_chunked(app)
    return auth.client.post("/api/v1/sync", data=_batch([incident_record() for _ in range(10)]),
                            content_type="application/json", headers={"X-CSRFToken": token})


def _too_many_records(app, auth, incident_record):
    app.config["SYNC_MAX_RECORDS"] = 3
    auth.sign_in()
    return auth.sync([incident_record() for _ in range(4)])


def _unknown_api_path(app, auth, incident_record):
    return auth.client.get("/api/v1/no-such-thing")


def _wrong_method(app, auth, incident_record):
    auth.sign_in()
    return auth.client.get("/api/v1/sync")


def _server_error(app, auth, incident_record):
    import app.sync.views as views

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away mid-batch")

    auth.sign_in()
    token = auth.api_token()
    original, views.ingest_records = views.ingest_records, broken
    try:
        return auth.client.post("/api/v1/sync", data=_batch([incident_record()]), content_type="application/json",
                                headers={"X-CSRFToken": token})
    finally:
        views.ingest_records = original


CASES = {
    "session-signed-out": (_signed_out_session, 401, "signed_out"),
    "sync-signed-out": (_signed_out_sync, 401, "signed_out"),
    "no-csrf-token": (_no_csrf_token, 400, "csrf_failed"),
    "not-json": (_not_json, 400, "bad_request"),
    "bad-json": (_bad_json, 400, "bad_json"),
    "not-an-object": (_not_an_object, 400, "bad_shape"),
    "wrong-shape": (_wrong_shape, 400, "bad_shape"),
    "too-large-content-length": (_too_large_with_length, 413, "too_large"),
    "too-large-chunked": (_too_large_chunked, 413, "too_large"),
    "too-many-records": (_too_many_records, 413, "too_many_records"),
    "unknown-path": (_unknown_api_path, 404, "not_found"),
    "wrong-method": (_wrong_method, 405, "method_not_allowed"),
    "server-error": (_server_error, 500, "server_error"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_api_error_has_code_message_and_details(app, auth, incident_record, case, count_rows):
    make_request, status, code = CASES[case]
    response = make_request(app, auth, incident_record)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"].strip()
    assert isinstance(error["details"], dict)
    if code == "bad_shape" and case == "wrong-shape":
        assert "sent_at" in error["details"]  # details, when there are some, say what was wrong
    else:
        assert error["details"] == {}
    assert count_rows(RecordReceipt) == 0
