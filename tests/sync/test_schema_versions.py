"""Pitfall 11, server side: records carry their schema version, and old versions stay accepted.

A test-only record type is registered for each test (monkeypatch removes it afterwards), so the
check does not depend on which versions the real record types have today.
"""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from marshmallow import RAISE, Schema, fields

from app.extensions import db as _db
from app.sync import registry
from app.sync.models import RecordReceipt
from app.sync.registry import RecordRejected, RecordType


class NoteV1(Schema):
    class Meta:
        unknown = RAISE

    text = fields.String(required=True)


class NoteV2(Schema):
    """Version 2 renamed `text` and added a field: a version 1 record would not load with it."""

    class Meta:
        unknown = RAISE

    body = fields.String(required=True)
    urgent = fields.Boolean(load_default=False)


def _store_note(context, receipt, data):
    if data.get("text", data.get("body")) == "refuse me":
        raise RecordRejected({"text": ["Refused by the store function."]})


@pytest.fixture
def register_note(monkeypatch):
    """register_note({1: NoteV1, ...}) (re)registers the test-only type "test_note", as a deploy would."""

    def register(schemas):
        monkeypatch.setitem(registry._record_types, "test_note",
                            RecordType(name="test_note", schemas=schemas, store=_store_note,
                                       description="A note used only by the tests."))

    return register


def _note(version, data, record_id=None, **envelope):
    record = {"id": record_id or str(uuid.uuid4()), "type": "test_note",
              "recorded_at": datetime.now(timezone(timedelta(hours=1))).isoformat(), "data": data, **envelope}
    if version is not None:
        record["schema_version"] = version
    return record


def test_version_1_records_are_still_accepted_after_a_deploy_adds_version_2(auth, register_note, app):
    register_note({1: NoteV1})
    auth.sign_in()
    sent_before = _note(1, {"text": "queued on the old app and sent"})
    assert auth.sync([sent_before]).get_json()["results"][0]["status"] == "created"
    queued = _note(1, {"text": "queued on the old app, still waiting"})

    register_note({1: NoteV1, 2: NoteV2})  # the deploy

    results = auth.sync([queued, _note(2, {"body": "made by the new app", "urgent": True}), sent_before])
    assert [r["status"] for r in results.get_json()["results"]] == ["created", "created", "duplicate"]
    with app.app_context():
        versions = {str(r.id): r.schema_version for r in _db.session.scalars(_db.select(RecordReceipt))}
    assert versions[queued["id"]] == 1
    assert sorted(versions.values()) == [1, 1, 2]


def test_a_record_without_schema_version_is_taken_as_version_1(auth, register_note):
    register_note({1: NoteV1, 2: NoteV2})
    auth.sign_in()
    results = auth.sync([_note(None, {"text": "no version given"}), _note(None, {"body": "v2 shape"})])
    statuses = [r["status"] for r in results.get_json()["results"]]
    assert statuses == ["created", "rejected"]


def test_each_version_is_validated_by_its_own_schema(auth, register_note):
    register_note({1: NoteV1, 2: NoteV2})
    auth.sign_in()
    results = auth.sync([_note(1, {"body": "v2 field in a v1 record"}), _note(2, {"text": "v1 field in v2"})])
    results = results.get_json()["results"]
    assert results[0]["status"] == "rejected" and "body" in results[0]["errors"]
    assert results[1]["status"] == "rejected" and "text" in results[1]["errors"]


@pytest.mark.parametrize("version", [3, 0, -1, 99999999999999999999, "2", 1.5, None, True])
def test_unknown_or_malformed_schema_version_is_rejected_clearly(auth, register_note, version, count_rows):
    register_note({1: NoteV1, 2: NoteV2})
    auth.sign_in()
    record = _note(1, {"text": "x"})
    record["schema_version"] = version
    result = auth.sync([record, _note(1, {"text": "fine"})]).get_json()["results"]
    assert result[0]["status"] == "rejected"
    assert "schema_version" in result[0]["errors"]
    assert result[1]["status"] == "created"
    if version == 3:
        assert result[0]["errors"]["schema_version"] == [
            "Version 3 of test_note is not supported (supported: [1, 2])."]
    assert count_rows(RecordReceipt) == 1


def test_a_version_dropped_from_the_server_is_refused_and_stays_on_the_phone(auth, register_note, count_rows):
    register_note({2: NoteV2})
    auth.sign_in()
    result = auth.sync([_note(1, {"text": "too old"})]).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert "supported: [2]" in result["errors"]["schema_version"][0]
    assert count_rows(RecordReceipt) == 0


def test_store_function_refusal_is_a_rejection_not_a_failure(auth, register_note, count_rows):
    register_note({1: NoteV1})
    auth.sign_in()
    results = auth.sync([_note(1, {"text": "refuse me"}), _note(1, {"text": "keep me"})]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "created"]
    assert results[0]["errors"] == {"text": ["Refused by the store function."]}
    assert count_rows(RecordReceipt) == 1


def test_the_openapi_document_lists_each_types_versions(client, register_note):
    register_note({1: NoteV1, 2: NoteV2})
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["x-record-types"]["test_note"] == [1, 2]
    assert document["x-record-types"]["incident"] == [1]
    assert {"test_note_data_v1", "test_note_data_v2", "incident_data_v1"} <= set(document["components"]["schemas"])


def test_the_incident_type_accepts_its_version_1(auth, incident_record):
    auth.sign_in()
    record = incident_record()
    assert record["schema_version"] == 1
    assert auth.sync([record]).get_json()["results"][0]["status"] == "created"


def test_the_test_type_is_gone_after_each_test():
    """monkeypatch put the registry back: no test-only type leaks into another test."""
    assert "test_note" not in registry.record_types()
