"""No request to the sync API, however malformed, gets a 500 (issue 2, point 6).

Bodies are thrown at the API in three ways: hand-picked nasty values put in every field of the
batch, of each record's envelope and of an incident's data; raw texts that are not quite JSON
(deep nesting, NaN, bad bytes); and seeded random JSON documents. Every answer must be JSON:
an error of the documented shape, or one result per record.
"""
import json
import random
import string
import uuid
from datetime import UTC, datetime

import pytest

from app.incidents.schemas import IncidentDataV1
from app.sync.models import RecordReceipt

NASTY_VALUES = [
    None, True, False, 0, -1, 1, 2**31, 2**63, 10**30, -(10**30), 1.5, 1e308, -1e308,
    "", " ", "\u0000", "a\u0000b", "\ud800", "x\udfffy", "\U0001F6A8 help", "\u202eevil", "e\u0301",
    "Ω" * 5000, "x" * 300_000,
    "2026-01-01T10:00:00", "2026-01-01T10:00:00+00:00", "2026-02-30T10:00:00+00:00",
    "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59+00:00", "1970-01-01T00:00:00Z", "2100-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00", "23:59", "24:00", "-1:00",
    str(uuid.uuid4()), "incident", "entrance", "aggressive",
    [], [None], [1, 2], ["aggressive", "aggressive"], ["\u0000"], ["x" * 10_000] * 3,
    {}, {"a": 1}, {"$where": "1"}, {"__proto__": {"admin": True}},
]

INCIDENT_FIELDS = sorted(IncidentDataV1().fields)
ENVELOPE_FIELDS = ["id", "type", "schema_version", "recorded_at", "data"]


def _json_bytes(value) -> bytes:
    # ensure_ascii keeps lone surrogates as \\ud800 escapes, as a phone's JSON.stringify sends them.
    return json.dumps(value, ensure_ascii=True).encode()


def _check(response, sent: bytes, batch_size: int | None = None):
    text = response.get_data(as_text=True)
    assert response.status_code < 500, f"{response.status_code} for body {sent[:300]!r}: {text[:500]}"
    assert response.mimetype == "application/json", f"not JSON for {sent[:300]!r}"
    body = response.get_json()
    if response.status_code == 200:
        assert isinstance(body["results"], list)
        if batch_size is not None:
            assert len(body["results"]) == batch_size
        for result in body["results"]:
            # Never "error": a malformed record is refused for its own reasons, not by a server fault.
            assert result["status"] in ("created", "duplicate", "rejected"), result
            if result["status"] == "rejected":
                assert isinstance(result["errors"], dict) and result["errors"]
    else:
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)


@pytest.fixture
def sender(auth):
    """send(bytes, batch_size) posts a raw body with a valid CSRF token and checks the answer."""
    auth.sign_in()
    token = auth.api_token()

    def send(body: bytes, batch_size: int | None = None):
        response = auth.client.post("/api/v1/sync", data=body, content_type="application/json",
                                    headers={"X-CSRFToken": token})
        _check(response, body, batch_size)
        return response

    return send


def _now() -> str:
    return datetime.now(UTC).isoformat()


def test_nasty_values_in_the_batch_envelope_never_500(sender):
    for value in NASTY_VALUES:
        sender(_json_bytes(value))
        sender(_json_bytes({"sent_at": value, "records": []}))
        sender(_json_bytes({"sent_at": _now(), "records": value}))
        sender(_json_bytes({"sent_at": _now(), "records": [value]}), batch_size=1)


def test_nasty_values_in_every_record_envelope_field_never_500(sender, incident_record):
    for field in ENVELOPE_FIELDS:
        records = []
        for value in NASTY_VALUES:
            record = incident_record()
            record[field] = value
            records.append(record)
        # One request a value, so a failure names it; then all of them in one batch.
        for record in records:
            sender(_json_bytes({"sent_at": _now(), "records": [record]}), batch_size=1)
        sender(_json_bytes({"sent_at": _now(), "records": records}), batch_size=len(records))


def test_nasty_values_in_every_incident_field_never_500(sender, incident_record, count_rows):
    for field in INCIDENT_FIELDS:
        for value in NASTY_VALUES:
            record = incident_record(**{field: value})
            response = sender(_json_bytes({"sent_at": _now(), "records": [record]}), batch_size=1)
            result = response.get_json()["results"][0]
            if isinstance(value, str) and ("\u0000" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)):
                assert result["status"] == "rejected", f"{field}={value!r} was stored"
    # Every created answer is a row; nothing was half-stored.
    assert count_rows(RecordReceipt) >= 1


def _lone_working_records(session_id: str) -> dict:
    """One valid record of each lone-working type, as a phone sends them."""
    now = datetime.now(UTC).isoformat()

    def record(type_, data, record_id=None):
        return {"id": record_id or str(uuid.uuid4()), "type": type_, "schema_version": 1, "recorded_at": now,
                "data": data}

    where = {"latitude": 52.2, "longitude": 0.12, "location_accuracy_m": 20}
    return {
        "session_started": record("session_started", {"place_kind": "home_visit", "place": "12 Elm Road",
                                                      "planned_end_at": "23:30", "check_in_interval_minutes": 30,
                                                      "note": "Dog in the house", "sequence": 0, **where}, session_id),
        "check_in": record("check_in", {"session_id": session_id, "sequence": 1, **where}),
        "session_extended": record("session_extended", {"session_id": session_id, "sequence": 2,
                                                        "extend_by_minutes": 30, **where}),
        "session_finished": record("session_finished", {"session_id": session_id, "sequence": 3, **where}),
        "alarm_raised": record("alarm_raised", {"session_id": session_id, "sequence": 4, "message": "Help", **where}),
    }


def test_nasty_values_in_every_lone_working_field_never_500_and_never_hold_back_an_alarm(sender, count_rows):
    """Each nasty value goes in a batch behind an alarm: the alarm is stored every time, and the
    nasty record is answered on its own (rejected, or created when the value is acceptable)."""
    from app.lone_working.models import Alert

    alarms = 0
    for type_, template in _lone_working_records(str(uuid.uuid4())).items():
        for field in sorted(set(template["data"]) | {"branch_id", "duration_minutes", "planned_end_at", "pin"}):
            for value in NASTY_VALUES:
                records = _lone_working_records(str(uuid.uuid4()))
                nasty = records[type_]
                nasty["data"][field] = value
                alarm = {**records["alarm_raised"], "id": str(uuid.uuid4())}
                alarm["data"] = {"sequence": 1, "message": f"alarm behind {type_}.{field}"}
                batch = [alarm, records["session_started"], nasty] if type_ != "session_started" else [alarm, nasty]
                response = sender(_json_bytes({"sent_at": _now(), "records": batch}), batch_size=len(batch))
                results = response.get_json()["results"]
                assert results[0]["status"] == "created", (type_, field, value, results[0])
                alarms += 1 + (type_ == "alarm_raised" and results[-1]["status"] == "created")
    assert count_rows(Alert, Alert.kind == "alarm") == alarms


def test_missing_fields_never_500(sender, incident_record):
    for field in INCIDENT_FIELDS:
        record = incident_record()
        record["data"].pop(field, None)
        sender(_json_bytes({"sent_at": _now(), "records": [record]}), batch_size=1)
    for field in ENVELOPE_FIELDS:
        record = incident_record()
        record.pop(field)
        sender(_json_bytes({"sent_at": _now(), "records": [record]}), batch_size=1)


def test_raw_bodies_that_are_not_quite_json_never_500(sender):
    depth = 100_000
    bodies = [
        b"[" * depth + b"]" * depth,
        b'{"a":' * depth + b"1" + b"}" * depth,
        f'{{"sent_at": "{_now()}", "records": ['.encode() + b"[" * depth + b"]" * depth + b"]}",
        f'{{"sent_at": "{_now()}", "records": [{{"data": '.encode() + b'{"a":' * 5000 + b"1"
        + b"}" * 5000 + b"}]}",
        b'{"sent_at": NaN, "records": []}',
        b'{"sent_at": "2026-01-01T00:00:00Z", "records": [Infinity, -Infinity, NaN]}',
        b'{"sent_at": "2026-01-01T00:00:00Z", "records": [{"id": 1e999999}]}',
        b'{"sent_at": "2026-01-01T00:00:00Z", "records": [' + b"9" * 4000 + b"]}",
        b'{"sent_at": "2026-01-01T00:00:00Z", "records": [{"id": 1' + b"0" * 5000 + b"}]}",
        b'{"sent_at": "a\x00b", "records": []}',
        b'{"sent_at": "2026-01-01T00:00:00Z", "records": [], "sent_at": "x"}',
        b"\xef\xbb\xbf{}",
        b"\xff\xfe{\x00}\x00",
        b'"\\ud800"',
        b"null", b"true", b"0", b'""', b"[]", b"{}",
        "{\"sent_at\": \"2026-01-01T00:00:00Z\", \"records\": [\"\U0001F6A8\"]}".encode("utf-16"),
        b"{" + b" " * 100_000 + b"}",
    ]
    for body in bodies:
        sender(body)


def _random_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 6 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([rng.randint(-2**70, 2**70), rng.randint(-5, 5)])
    if kind == 3:
        return rng.uniform(-1e300, 1e300)
    if kind == 4:
        alphabet = string.printable + "\u0000\u00e9\u202e\U0001F600\ud800"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
    if kind == 5:
        return rng.choice(NASTY_VALUES)
    if kind == 6:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    keys = ["id", "type", "schema_version", "recorded_at", "data", "sent_at", "records"] + INCIDENT_FIELDS
    return {rng.choice(keys + ["", "x"]): _random_json(rng, depth + 1) for _ in range(rng.randrange(0, 6))}


def test_random_documents_and_mutated_records_never_500(sender, incident_record):
    rng = random.Random(20261125)
    for _ in range(150):
        sender(_json_bytes(_random_json(rng)))
    for _ in range(150):
        record = incident_record()
        for _ in range(rng.randrange(1, 4)):
            data_is_dict = isinstance(record["data"], dict) and record["data"]
            target = record["data"] if data_is_dict and rng.random() < 0.7 else record
            target[rng.choice(sorted(target))] = _random_json(rng)
        sender(_json_bytes({"sent_at": rng.choice([_now(), _random_json(rng)]), "records": [record]}))


def test_api_still_works_after_the_fuzzing(sender, incident_record, count_rows):
    """A 400 or a rejected record must not leave the session or the database in a bad state."""
    for value in NASTY_VALUES:
        sender(_json_bytes({"sent_at": _now(), "records": [incident_record(description=value)]}))
    record = incident_record()
    response = sender(_json_bytes({"sent_at": _now(), "records": [record]}), batch_size=1)
    assert response.get_json()["results"][0]["status"] == "created"
