"""One record never fails its batch (docs/design.md): whatever goes wrong with one record, the
others, an alarm above all, are stored and answered; no request answers 500.

Each test runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
"""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db
from app.incidents.models import Incident
from app.lone_working.models import Alert, LoneWorkingEvent
from app.sync import registry
from app.sync.models import RecordReceipt

BST = timezone(timedelta(hours=1))


def _record(type_: str, data: dict, record_id: str | None = None) -> dict:
    return {"id": record_id or str(uuid.uuid4()), "type": type_, "schema_version": 1,
            "recorded_at": datetime.now(BST).isoformat(), "data": data}


def _alarm(message="Man with a knife at the door") -> dict:
    return _record("alarm_raised", {"message": message, "sequence": 1})


def _start(**data) -> dict:
    base = {"place_kind": "home_visit", "place": "12 Elm Road", "duration_minutes": 60, "sequence": 0}
    return _record("session_started", {**base, **data})


def _statuses(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return [result["status"] for result in response.get_json()["results"]]


def _alarm_alerts(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Alert).where(Alert.kind == "alarm"))


@pytest.mark.parametrize("planned_end_at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00",
                                            "9999-12-31T23:59:59", "2100-01-01T00:00:00+00:00"])
def test_an_alarm_is_stored_beside_a_start_with_an_extreme_planned_end(app, auth, planned_end_at):
    auth.sign_in()
    alarm, start = _alarm(), _start(planned_end_at=planned_end_at, duration_minutes=None)
    answer = auth.sync([alarm, start])
    assert _statuses(answer) == ["created", "rejected"]
    assert "planned_end_at" in answer.get_json()["results"][1]["errors"]
    assert _alarm_alerts(app) == 1


@pytest.mark.parametrize("branch_id", [2**31, 2**63, -(2**63) - 1, 10**30])
def test_an_alarm_is_stored_beside_records_naming_an_impossible_branch(app, auth, incident_record, branch_id):
    auth.sign_in()
    alarm = _alarm()
    answer = auth.sync([_start(place_kind="branch", branch_id=branch_id), alarm,
                        incident_record(branch_id=branch_id), incident_record()])
    assert _statuses(answer) == ["rejected", "created", "rejected", "created"]
    results = answer.get_json()["results"]
    assert "branch_id" in results[0]["errors"] and "branch_id" in results[2]["errors"]
    assert _alarm_alerts(app) == 1


def test_the_start_form_refuses_an_extreme_planned_end_without_a_500(app, auth):
    """The no-JavaScript start form goes through the same schema: a clear error, nothing stored."""
    import re
    auth.sign_in()
    page = auth.client.get("/lone-working/").get_data(as_text=True)
    start_form = page[page.index('id="lw-start-form"'):]
    fields = {name: re.search(rf'name="{name}" (?:type="hidden" )?value="([^"]+)"', start_form).group(1)
              for name in ("csrf_token", "record_id")}
    answer = auth.client.post("/lone-working/start", data={
        **fields, "place_kind": "other", "place": "Village hall", "planned_end_at": "9999-12-31T23:59:59-05:00",
        "check_in_interval_minutes": "30"})
    assert answer.status_code in (200, 400, 422)
    assert "between 1970 and 2100" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecordReceipt)) == 0


def _failing_for(record_id: str, original, error: Exception):
    def store(context, receipt, data):
        if str(receipt.id) == record_id:
            raise error
        return original(context, receipt, data)
    return store


@pytest.fixture
def break_record_type(monkeypatch):
    """break_record_type(name, record_id, error, kind="store"|"rows"): that record's storing raises."""

    def breaker(name, record_id, error, kind):
        original = registry.get_record_type(name)
        failing = _failing_for(record_id, getattr(original, kind), error)
        changed = registry.RecordType(**{**original.__dict__, kind: failing})
        monkeypatch.setitem(registry._record_types, name, changed)

    return breaker


def test_an_unexpected_error_in_one_record_answers_error_for_it_alone(app, auth, incident_record,
                                                                      break_record_type, caplog):
    auth.sign_in()
    poison = _start()
    break_record_type("session_started", poison["id"], RuntimeError("a bug in one store function"), "store")
    alarm, report = _alarm(), incident_record()
    answer = auth.sync([poison, alarm, report])
    results = answer.get_json()["results"]
    assert _statuses(answer) == ["error", "created", "created"]
    assert results[0]["id"] == poison["id"]
    assert results[0]["reference"] in results[0]["message"]
    assert "stays on this phone" in results[0]["message"]
    assert f"[ref {results[0]['reference']}]" in caplog.text and "a bug in one store function" in caplog.text
    assert _alarm_alerts(app) == 1
    with app.app_context():
        assert db.session.get(RecordReceipt, uuid.UUID(poison["id"])) is None
        assert db.session.get(LoneWorkingEvent, uuid.UUID(poison["id"])) is None
        assert db.session.get(Incident, uuid.UUID(report["id"])) is not None


def test_a_bulk_record_that_breaks_the_batch_insert_is_set_aside_and_the_rest_stored(app, auth, incident_record,
                                                                                       break_record_type):
    """An incident whose rows the database refuses (here a branch that does not exist) fails the
    batch's single INSERT; the batch is then stored record by record and only that one fails."""
    auth.sign_in()
    good = [incident_record() for _ in range(3)]
    poison = incident_record()
    original = registry.get_record_type("incident").rows

    def rows_with_a_missing_branch(context, receipt, data):
        rows = original(context, receipt, data)
        if str(receipt.id) == poison["id"]:
            rows[0][1][0]["branch_id"] = 999_999  # a foreign key the database itself refuses
        return rows

    incident = registry.get_record_type("incident")
    changed = registry.RecordType(**{**incident.__dict__, "rows": rows_with_a_missing_branch})
    registry._record_types["incident"] = changed
    try:
        alarm = _alarm()
        answer = auth.sync([good[0], poison, alarm, good[1], good[2]])
    finally:
        registry._record_types["incident"] = registry.RecordType(**{**changed.__dict__, "rows": original})
    assert _statuses(answer) == ["created", "error", "created", "created", "created"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 3
        assert db.session.get(RecordReceipt, uuid.UUID(poison["id"])) is None
    assert _alarm_alerts(app) == 1


def test_a_record_whose_validation_crashes_answers_error_and_the_rest_are_stored(app, auth, incident_record,
                                                                                 monkeypatch):
    from app.sync import services
    auth.sign_in()
    poison = incident_record()
    original = services._validate

    def crashing(raw):
        if isinstance(raw, dict) and raw.get("id") == poison["id"]:
            raise OverflowError("date value out of range")
        return original(raw)

    monkeypatch.setattr(services, "_validate", crashing)
    answer = auth.sync([poison, _alarm()])
    assert _statuses(answer) == ["error", "created"]
    assert _alarm_alerts(app) == 1


def test_a_deadlock_or_busy_database_is_tried_again_and_stores_once(app, auth, incident_record, monkeypatch):
    from app.sync import services
    auth.sign_in()
    original = services._ingest_prepared
    calls = []

    def busy_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            original(*args, **kwargs)  # it did its work, then the database gave up on it
            raise OperationalError("COMMIT", {}, Exception("database is locked"))
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_ingest_prepared", busy_once)
    report = incident_record()
    answer = auth.sync([report, _alarm()])
    assert _statuses(answer) == ["created", "created"]
    assert len(calls) == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecordReceipt)) == 2
    assert _alarm_alerts(app) == 1


def test_a_database_busy_through_every_try_answers_503_json_not_500(app, auth, incident_record, monkeypatch):
    from app.sync import services
    auth.sign_in()

    def always_busy(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(services, "_ingest_prepared", always_busy)
    monkeypatch.setattr(services.time, "sleep", lambda seconds: None)
    answer = auth.sync([incident_record()])
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["error"]["code"] and "Nothing was lost" in body["error"]["message"]


def test_a_record_another_request_stored_meanwhile_answers_duplicate_not_error(app, auth, incident_record,
                                                                               monkeypatch):
    """The receipt look-up saw nothing, then another request committed the same id first."""
    from app.sync import services
    auth.sign_in()
    report = incident_record()
    first = auth.sync([report])
    assert _statuses(first) == ["created"]
    monkeypatch.setattr(services, "_existing_receipts",
                        lambda ids, original=services._existing_receipts: {} if len(ids) > 1 else original(ids))
    answer = auth.sync([report, incident_record()])
    assert _statuses(answer) == ["duplicate", "created"]


def test_an_integrity_error_that_is_not_a_race_answers_error(app, auth, break_record_type):
    auth.sign_in()
    poison = _start()
    break_record_type("session_started", poison["id"], IntegrityError("INSERT", {}, Exception("constraint")), "store")
    answer = auth.sync([poison, _alarm()])
    assert _statuses(answer) == ["error", "created"]


def test_the_openapi_document_describes_the_error_answer(client):
    document = client.get("/api/v1/openapi.json").get_json()
    result = document["components"]["schemas"]["RecordResult"]
    assert "error" in result["properties"]["status"]["enum"]
    assert {"message", "reference"} <= set(result["properties"])
