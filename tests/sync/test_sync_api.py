"""The sync API contract (issue 2, point 6): every rule, through HTTP, with CSRF on."""
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from support import csrf_from

from app.extensions import db as _db
from app.incidents.models import Incident, IncidentKind
from app.sync.models import RecordReceipt


def _post_raw(client, body: bytes, token: str, content_type="application/json", **kwargs):
    return client.post("/api/v1/sync", data=body, content_type=content_type,
                       headers={"X-CSRFToken": token}, **kwargs)


def _assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error


# --- created, duplicate, conflict -----------------------------------------------------------

def test_new_record_is_created_and_stored_with_both_clocks(auth, incident_record, app):
    auth.sign_in()
    record = incident_record()
    response = auth.sync([record])
    assert response.status_code == 200
    body = response.get_json()
    assert body["results"] == [{"id": record["id"], "status": "created"}]
    assert datetime.fromisoformat(body["server_time"]).tzinfo is not None
    with app.app_context():
        receipt = _db.session.get(RecordReceipt, uuid.UUID(record["id"]))
        assert receipt.via == "sync"
        assert receipt.record_type == "incident"
        assert receipt.recorded_at == datetime.fromisoformat(record["recorded_at"])
        assert receipt.recorded_offset_minutes == 60
        assert abs((receipt.received_at - datetime.now(UTC)).total_seconds()) < 60
        incident = _db.session.get(Incident, uuid.UUID(record["id"]))
        assert incident.description == record["data"]["description"]
        assert sorted(incident.kind_codes) == sorted(record["data"]["kinds"])


def test_same_id_same_content_is_duplicate_and_stores_nothing(auth, incident_record, count_rows):
    auth.sign_in()
    record = incident_record()
    assert auth.sync([record]).get_json()["results"][0]["status"] == "created"
    # The phone resends it later, in a batch with a different sent_at.
    later = datetime.now(UTC) + timedelta(minutes=7)
    response = auth.sync([record], sent_at=later)
    assert response.status_code == 200
    assert response.get_json()["results"] == [{"id": record["id"], "status": "duplicate"}]
    assert count_rows(RecordReceipt) == 1
    assert count_rows(Incident) == 1
    assert count_rows(IncidentKind) == 2


def test_same_id_different_content_is_rejected_as_conflict_and_overwrites_nothing(auth, incident_record, app):
    auth.sign_in()
    record = incident_record()
    auth.sync([record])
    changed = incident_record(id=record["id"], description="Somebody else's words.", severity="severe")
    response = auth.sync([changed])
    assert response.status_code == 200
    result = response.get_json()["results"][0]
    assert result["id"] == record["id"]
    assert result["status"] == "rejected"
    assert result["conflict"] is True
    assert "already received" in result["errors"]["id"][0]
    with app.app_context():
        incident = _db.session.get(Incident, uuid.UUID(record["id"]))
        assert incident.description == record["data"]["description"]
        assert incident.severity == "moderate"


def test_same_id_from_another_person_is_a_conflict_not_a_duplicate(app, auth, incident_record, count_rows):
    record = incident_record()
    first, second = auth, type(auth)(app.test_client())
    first.sign_in("worker@demo.example")
    second.sign_in("worker2@demo.example")
    assert first.sync([record]).get_json()["results"][0]["status"] == "created"
    result = second.sync([record]).get_json()["results"][0]
    assert result["status"] == "rejected" and result["conflict"] is True
    assert count_rows(Incident) == 1


def test_same_id_twice_in_one_batch_is_created_then_duplicate(auth, incident_record, count_rows):
    auth.sign_in()
    record = incident_record()
    results = auth.sync([record, record]).get_json()["results"]
    assert [r["status"] for r in results] == ["created", "duplicate"]
    assert count_rows(Incident) == 1


def test_retry_after_lost_answer_is_duplicate(auth, incident_record, app, count_rows):
    """Pitfall 5: the server committed but the phone never heard; the retry must say duplicate."""
    from app.auth.models import User
    from app.sync.services import ingest_records

    auth.sign_in()
    record = incident_record()
    # The first send reached the database; its answer was lost on the way back to the phone.
    with app.app_context():
        worker = _db.session.scalar(sa.select(User).where(User.email == "worker@demo.example"))
        assert ingest_records(worker, [record], sent_at=datetime.now(UTC))[0]["status"] == "created"
        _db.session.remove()
    assert count_rows(Incident) == 1
    # The phone still holds the record and tries again.
    response = auth.sync([record])
    assert response.get_json()["results"] == [{"id": record["id"], "status": "duplicate"}]
    assert count_rows(Incident) == 1
    assert count_rows(RecordReceipt) == 1


# --- one bad record stops nothing ---------------------------------------------------------

def test_mixed_batch_answers_each_record_in_order(auth, incident_record, count_rows):
    auth.sign_in()
    earlier = incident_record()
    auth.sync([earlier])
    good_one = incident_record()
    good_two = incident_record(location="toilets")
    no_description = incident_record(description="   ")
    unknown_kind = incident_record(kinds=["shouting"])
    bad_envelope = {"id": "not-a-uuid", "type": "incident", "recorded_at": "yesterday", "data": {}}
    unknown_type = {**incident_record(), "type": "parcel"}
    not_an_object = ["I am", "a list"]
    conflict = incident_record(id=earlier["id"], description="changed")
    batch = [good_one, no_description, bad_envelope, earlier, unknown_kind, not_an_object, unknown_type,
             conflict, good_two]

    response = auth.sync(batch)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert len(results) == len(batch)
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "duplicate", "rejected",
                                              "rejected", "rejected", "rejected", "created"]
    assert [r["id"] for r in results] == [good_one["id"], no_description["id"], "not-a-uuid", earlier["id"],
                                          unknown_kind["id"], None, unknown_type["id"], conflict["id"],
                                          good_two["id"]]
    assert "description" in results[1]["errors"]
    assert set(results[2]["errors"]) >= {"id", "recorded_at"}
    assert "kinds" in results[4]["errors"]
    assert "_record" in results[5]["errors"]
    assert "type" in results[6]["errors"]
    assert results[7].get("conflict") is True
    assert count_rows(Incident) == 3  # earlier, good_one, good_two


def test_record_from_another_services_branch_is_rejected_without_stopping_the_batch(auth, incident_record, app,
                                                                                    count_rows):
    from app.org.services import add_branch, get_or_create_service

    with app.app_context():
        other_branch_id = add_branch(get_or_create_service("Elsewhere Libraries"), "Far Away Library").id
        _db.session.commit()
    auth.sign_in()
    foreign, fine = incident_record(branch_id=other_branch_id), incident_record()
    results = auth.sync([foreign, fine]).get_json()["results"]
    assert results[0]["status"] == "rejected" and "branch_id" in results[0]["errors"]
    assert results[1]["status"] == "created"
    assert count_rows(Incident) == 1


# --- the shape of the request -------------------------------------------------------------

def test_malformed_json_is_400(auth):
    auth.sign_in()
    token = auth.api_token()
    for body in (b"{", b'{"sent_at": "2026-01-01T00:00:00Z", "records": [}', b"\xff\xfe\x00garbage", b""):
        _assert_error_shape(_post_raw(auth.client, body, token), 400)


def test_body_that_is_not_json_content_type_is_400(auth):
    auth.sign_in()
    response = _post_raw(auth.client, b"sent_at=now", auth.api_token(), content_type="text/plain")
    _assert_error_shape(response, 400)


@pytest.mark.parametrize("payload, field", [
    ([], None),
    ("records", None),
    (42, None),
    ({"sent_at": "2026-01-01T10:00:00+00:00", "records": {"id": "x"}}, "records"),
    ({"sent_at": "2026-01-01T10:00:00+00:00", "records": "[]"}, "records"),
    ({"sent_at": "2026-01-01T10:00:00+00:00"}, "records"),
    ({"records": []}, "sent_at"),
    ({"sent_at": "2026-01-01T10:00:00", "records": []}, "sent_at"),
    ({"sent_at": "not a time", "records": []}, "sent_at"),
    ({"sent_at": None, "records": []}, "sent_at"),
    ({"sent_at": "2026-01-01T10:00:00+00:00", "records": [], "extra": 1}, "extra"),
], ids=["list", "string", "number", "records-object", "records-string", "no-records", "no-sent_at",
        "sent_at-without-offset", "sent_at-not-a-time", "sent_at-null", "unknown-field"])
def test_wrong_shape_is_400_with_json_error(auth, payload, field, count_rows):
    auth.sign_in()
    response = _post_raw(auth.client, json.dumps(payload).encode(), auth.api_token())
    error = _assert_error_shape(response, 400)
    if field is not None:
        assert field in error["details"]
    assert count_rows(RecordReceipt) == 0


def test_empty_batch_is_fine(auth):
    auth.sign_in()
    response = auth.sync([])
    assert response.status_code == 200
    assert response.get_json()["results"] == []


# --- limits -------------------------------------------------------------------------------

def test_body_over_the_limit_with_content_length_is_413(auth, app, incident_record, count_rows):
    app.config["SYNC_MAX_BODY_BYTES"] = 5_000
    auth.sign_in()
    token = auth.api_token()
    body = json.dumps({"sent_at": datetime.now(UTC).isoformat(),
                       "records": [incident_record() for _ in range(20)]}).encode()
    assert len(body) > 5_000
    response = _post_raw(auth.client, body, token)
    _assert_error_shape(response, 413)
    assert count_rows(RecordReceipt) == 0


def _as_chunked(app):
    """Make every request arrive as a chunked body does under gunicorn: no Content-Length, and
    wsgi.input_terminated set (the test client always computes a Content-Length otherwise)."""
    inner = app.wsgi_app

    def without_content_length(environ, start_response):
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
        return inner(environ, start_response)

    app.wsgi_app = without_content_length


def test_body_over_the_limit_without_content_length_is_413(auth, app, incident_record, count_rows):
    """A chunked body says nothing of its size up front: reading it must stop at the limit."""
    app.config["SYNC_MAX_BODY_BYTES"] = 5_000
    auth.sign_in()
    token = auth.api_token()
    _as_chunked(app)
    body = json.dumps({"sent_at": datetime.now(UTC).isoformat(),
                       "records": [incident_record() for _ in range(20)]}).encode()
    response = auth.client.post("/api/v1/sync", data=body, content_type="application/json",
                                headers={"X-CSRFToken": token})
    _assert_error_shape(response, 413, "too_large")
    assert count_rows(RecordReceipt) == 0


def test_valid_json_followed_by_padding_over_the_limit_is_413(auth, app, incident_record, count_rows):
    """Cut at the limit, this body would still parse: the limit must not quietly truncate it."""
    app.config["SYNC_MAX_BODY_BYTES"] = 5_000
    auth.sign_in()
    token = auth.api_token()
    _as_chunked(app)
    body = json.dumps({"sent_at": datetime.now(UTC).isoformat(),
                       "records": [incident_record()]}).encode() + b" " * 10_000
    response = auth.client.post("/api/v1/sync", data=body, content_type="application/json",
                                headers={"X-CSRFToken": token})
    _assert_error_shape(response, 413, "too_large")
    assert count_rows(RecordReceipt) == 0


def test_body_exactly_at_the_limit_without_content_length_is_read(auth, app, incident_record, count_rows):
    auth.sign_in()
    token = auth.api_token()
    _as_chunked(app)
    body = json.dumps({"sent_at": datetime.now(UTC).isoformat(), "records": [incident_record()]}).encode()
    app.config["SYNC_MAX_BODY_BYTES"] = len(body)
    response = auth.client.post("/api/v1/sync", data=body, content_type="application/json",
                                headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.get_json()["results"][0]["status"] == "created"
    assert count_rows(Incident) == 1


def test_batch_over_the_record_limit_is_413_and_stores_nothing(auth, app, incident_record, count_rows):
    limit = app.config["SYNC_MAX_RECORDS"]
    auth.sign_in()
    response = auth.sync([incident_record() for _ in range(limit + 1)])
    error = _assert_error_shape(response, 413, "too_many_records")
    assert str(limit) in error["message"]
    assert count_rows(RecordReceipt) == 0


def test_batch_at_the_record_limit_is_accepted(auth, app, incident_record, count_rows):
    limit = app.config["SYNC_MAX_RECORDS"]
    auth.sign_in()
    response = auth.sync([incident_record() for _ in range(limit)])
    assert response.status_code == 200
    assert {r["status"] for r in response.get_json()["results"]} == {"created"}
    assert count_rows(Incident) == limit


# --- CSRF and sign-in ---------------------------------------------------------------------

def test_sync_without_csrf_header_is_refused(auth, incident_record, count_rows):
    auth.sign_in()
    response = auth.client.post("/api/v1/sync", json={"sent_at": datetime.now(UTC).isoformat(),
                                                      "records": [incident_record()]})
    error = _assert_error_shape(response, 400, "csrf_failed")
    assert "CSRF" in error["message"]
    assert count_rows(RecordReceipt) == 0


def test_sync_with_a_forged_csrf_token_is_refused(auth, incident_record, count_rows):
    auth.sign_in()
    response = auth.sync([incident_record()], token="forged-token")
    _assert_error_shape(response, 400, "csrf_failed")
    assert count_rows(RecordReceipt) == 0


def test_csrf_token_from_another_session_is_refused(app, auth, incident_record, count_rows):
    other = type(auth)(app.test_client())
    other.sign_in("worker2@demo.example")
    auth.sign_in()
    response = auth.sync([incident_record()], token=other.api_token())
    _assert_error_shape(response, 400, "csrf_failed")
    assert count_rows(RecordReceipt) == 0


@pytest.mark.parametrize("headers", [{}, {"X-CSRFToken": "stale-or-forged"}, {"X-CSRFToken": ""}],
                         ids=["no-token", "bad-token", "empty-token"])
@pytest.mark.parametrize("accept", ["application/json", "text/html", "*/*"])
def test_signed_out_sync_is_401_json_before_any_csrf_check(client, incident_record, headers, accept, count_rows):
    """Pitfalls 2 and 4: never a redirect a fetch would follow, and 'signed out' wins over 'bad token'."""
    response = client.post("/api/v1/sync", json={"sent_at": datetime.now(UTC).isoformat(),
                                                 "records": [incident_record()]},
                           headers={**headers, "Accept": accept})
    _assert_error_shape(response, 401, "signed_out")
    assert "Location" not in response.headers
    assert count_rows(RecordReceipt) == 0


def test_signed_out_malformed_body_is_still_401(client):
    response = client.post("/api/v1/sync", data=b"{{{", content_type="application/json")
    _assert_error_shape(response, 401, "signed_out")


def test_after_sign_out_the_old_token_gets_401_not_csrf_error(auth, incident_record, count_rows):
    """A session that ended while records waited: the queued send is told to sign in."""
    auth.sign_in()
    token = auth.api_token()
    form_token = csrf_from(auth.client.get("/").get_data(as_text=True))  # the home page's sign-out form
    auth.client.post("/auth/sign-out", data={"csrf_token": form_token})
    auth.client.delete_cookie("remember_token", domain="localhost")
    response = auth.sync([incident_record()], token=token)
    _assert_error_shape(response, 401, "signed_out")
    assert count_rows(RecordReceipt) == 0


# --- the session endpoint -----------------------------------------------------------------

def test_session_answers_user_and_csrf_token(auth, user_ids):
    auth.sign_in("supervisor@demo.example")
    response = auth.client.get("/api/v1/session")
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["id"] == user_ids["supervisor"]
    assert body["user"]["email"] == "supervisor@demo.example"
    assert body["user"]["role"] == "supervisor"
    assert body["user"]["library_service"]["name"] == "Demo Library Service"
    assert body["user"]["team"]["name"] == "Central lending team"
    assert isinstance(body["csrf_token"], str) and len(body["csrf_token"]) > 20
    assert "password_hash" not in json.dumps(body)
    assert response.headers["Cache-Control"] == "no-store"


def test_session_token_is_accepted_by_sync(auth, incident_record):
    auth.sign_in()
    token = auth.client.get("/api/v1/session").get_json()["csrf_token"]
    assert auth.sync([incident_record()], token=token).status_code == 200


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_session_signed_out_is_401_json(client, accept):
    response = client.get("/api/v1/session", headers={"Accept": accept})
    _assert_error_shape(response, 401, "signed_out")
    assert "Location" not in response.headers


# --- clock skew ---------------------------------------------------------------------------

@pytest.mark.parametrize("phone_offset, word", [(timedelta(hours=-3), "behind"), (timedelta(hours=3), "ahead of")])
def test_batch_from_a_phone_clock_3_hours_off_is_measured_and_flagged(auth, incident_record, app, phone_offset,
                                                                       word):
    """Pitfall 13 (server side): the skew is measured from sent_at and kept on the receipt."""
    auth.sign_in()
    phone_now = datetime.now(timezone(timedelta(hours=1))) + phone_offset
    record = incident_record(recorded_at=phone_now.isoformat(),
                             occurred_at=(phone_now - timedelta(minutes=15)).isoformat())
    response = auth.sync([record], sent_at=phone_now)
    assert response.get_json()["results"][0]["status"] == "created"
    with app.app_context():
        receipt = _db.session.get(RecordReceipt, uuid.UUID(record["id"]))
        assert abs(receipt.clock_skew_seconds + phone_offset.total_seconds()) < 60
        assert receipt.clock_flag == f"phone clock 3.0 h {word} the server"
        # Both clocks are kept as they were: the phone's own time is not "corrected".
        assert receipt.recorded_at == phone_now
    page = auth.client.get(f"/incidents/{record['id']}")
    assert f"phone clock 3.0 h {word} the server" in page.get_data(as_text=True)


def test_batch_from_a_phone_with_the_right_time_is_not_flagged(auth, incident_record, app):
    auth.sign_in()
    record = incident_record()
    auth.sync([record])
    with app.app_context():
        receipt = _db.session.get(RecordReceipt, uuid.UUID(record["id"]))
        assert abs(receipt.clock_skew_seconds) < 60
        assert receipt.clock_flag is None


# --- input no database can hold (found by tests/sync/test_sync_fuzz.py: each was a 500) ---

@pytest.mark.parametrize("text", ["a\u0000b", "broken emoji \ud83d", "\udfff"], ids=["nul", "high-surrogate",
                                                                                  "low-surrogate"])
def test_text_no_database_can_store_is_rejected_clearly(auth, incident_record, text, count_rows):
    auth.sign_in()
    bad, fine = incident_record(description=text), incident_record()
    body = json.dumps({"sent_at": datetime.now(UTC).isoformat(), "records": [bad, fine]}).encode()
    response = _post_raw(auth.client, body, auth.api_token())
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert results[0]["status"] == "rejected"
    assert "unusual characters" in results[0]["errors"]["description"][0]
    assert results[1]["status"] == "created"
    assert count_rows(Incident) == 1


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59+00:00",
                                  "2100-01-01T00:00:00+00:00", "9999-12-31T23:59:59-23:59"])
def test_times_outside_1970_to_2100_are_rejected_clearly(auth, incident_record, when, count_rows):
    auth.sign_in()
    token = auth.api_token()
    records = [incident_record(recorded_at=when), incident_record(occurred_at=when)]
    response = _post_raw(auth.client, json.dumps({"sent_at": datetime.now(UTC).isoformat(),
                                                  "records": records}).encode(), token)
    results = response.get_json()["results"]
    assert "check the phone's clock" in results[0]["errors"]["recorded_at"][0]
    assert "check the phone's clock" in results[1]["errors"]["occurred_at"][0]
    response = _post_raw(auth.client, json.dumps({"sent_at": when, "records": [incident_record()]}).encode(), token)
    error = _assert_error_shape(response, 400, "bad_shape")
    assert "sent_at" in error["details"]
    assert count_rows(RecordReceipt) == 0


def test_phone_clock_reset_to_1970_is_stored_and_flagged(auth, incident_record, app):
    """A phone whose battery died may think it is 1970: its records are kept, with the skew flagged."""
    auth.sign_in()
    phone_now = datetime(1970, 1, 1, 0, 5, tzinfo=UTC)
    record = incident_record(recorded_at=phone_now.isoformat(),
                             occurred_at=(phone_now - timedelta(minutes=2)).isoformat())
    assert auth.sync([record], sent_at=phone_now).get_json()["results"][0]["status"] == "created"
    with app.app_context():
        receipt = _db.session.get(RecordReceipt, uuid.UUID(record["id"]))
        assert receipt.clock_skew_seconds > 55 * 365 * 86400
        assert "behind the server" in receipt.clock_flag


def test_json_nested_deeper_than_the_decoder_can_go_is_400(auth):
    auth.sign_in()
    depth = 100_000
    response = _post_raw(auth.client, b"[" * depth + b"]" * depth, auth.api_token())
    _assert_error_shape(response, 400, "bad_json")


def test_branch_id_beyond_any_integer_column_is_rejected(auth, incident_record, count_rows):
    auth.sign_in()
    results = auth.sync([incident_record(branch_id=2**63), incident_record(branch_id=10**30),
                         incident_record(branch_id=0)]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert all(r["errors"]["branch_id"] == ["Choose where it happened."] for r in results)
    assert count_rows(RecordReceipt) == 0
