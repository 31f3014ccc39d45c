"""record_incident: the one service function behind the HTML form and the sync API, tested without HTTP."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.incidents.models import Incident
from app.incidents.services import record_incident
from app.sync.models import RecordReceipt

LONDON_SUMMER = timezone(timedelta(hours=1))


@pytest.fixture
def worker(db):
    return db.session.scalar(sa.select(User).where(User.email == "worker@demo.example"))


def _data(worker, **overrides):
    recorded = datetime.now(LONDON_SUMMER)
    data = {"occurred_at": (recorded - timedelta(minutes=30)).isoformat(),
            "branch_id": worker.team.branch_id, "location": "childrens_area", "location_detail": " by the beanbags ",
            "kinds": ["threatening", "filming"], "severity": "high",
            "description": "  A man filmed the children's area and threatened staff who asked him to stop.  ",
            "people_involved": "Man, 30s, black hoodie", "witnesses": "Two parents", "injuries": "",
            "police_informed": True, "police_reference": "CAD 1234", "cctv_footage": True,
            "bodycam_footage": False, "actions_taken": ["asked_to_leave", "police_called"], "debrief_wanted": True}
    data.update(overrides)
    return recorded, data


def test_record_incident_stores_the_report_and_its_receipt(db, worker):
    recorded, data = _data(worker)
    record_id = uuid.uuid4()
    assert record_incident(worker, record_id, recorded, data) == {"id": str(record_id), "status": "created"}
    db.session.expire_all()
    incident = db.session.get(Incident, record_id)
    assert incident.reporter_id == worker.id
    assert incident.library_service_id == worker.library_service_id
    assert incident.team_id == worker.team_id
    assert incident.location_detail == "by the beanbags"
    assert incident.description.startswith("A man filmed")
    assert incident.kind_codes == ["filming", "threatening"]
    assert incident.police_reference == "CAD 1234" and incident.cctv_footage and incident.debrief_wanted
    assert incident.actions_taken == ["asked_to_leave", "police_called"]
    assert incident.occurred_at == datetime.fromisoformat(data["occurred_at"])
    assert incident.occurred_offset_minutes == 60
    receipt = db.session.get(RecordReceipt, record_id)
    assert receipt.via == "form"
    assert receipt.recorded_at == recorded
    assert receipt.clock_skew_seconds is None  # a form post says nothing of the phone's clock


def test_record_incident_twice_is_duplicate_and_stores_once(db, worker):
    recorded, data = _data(worker)
    record_id = uuid.uuid4()
    record_incident(worker, record_id, recorded, data)
    assert record_incident(worker, record_id, recorded, data)["status"] == "duplicate"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 1


def test_record_incident_with_a_reused_id_and_new_content_is_a_conflict(db, worker):
    recorded, data = _data(worker)
    record_id = uuid.uuid4()
    record_incident(worker, record_id, recorded, data)
    result = record_incident(worker, record_id, recorded, {**data, "severity": "low"})
    assert result["status"] == "rejected" and result["conflict"] is True
    db.session.expire_all()
    assert db.session.get(Incident, record_id).severity == "high"


def test_branch_of_another_library_service_is_rejected(db, worker):
    from app.org.services import add_branch, get_or_create_service

    other_branch = add_branch(get_or_create_service("Elsewhere Libraries"), "Far Away Library")
    db.session.commit()
    recorded, data = _data(worker, branch_id=other_branch.id)
    result = record_incident(worker, uuid.uuid4(), recorded, data)
    assert result["status"] == "rejected"
    assert result["errors"] == {"branch_id": ["Choose one of your library service's branches."]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecordReceipt)) == 0


def test_branch_that_does_not_exist_is_rejected(db, worker):
    recorded, data = _data(worker, branch_id=987654)
    result = record_incident(worker, uuid.uuid4(), recorded, data)
    assert result["status"] == "rejected" and "branch_id" in result["errors"]


@pytest.mark.parametrize("minutes_after, accepted", [(-1, True), (5, True), (9, True), (11, False), (60 * 24, False)])
def test_occurred_at_in_the_future_is_rejected(db, worker, minutes_after, accepted):
    """A little after the phone's time is clock noise; more is a report of the future."""
    recorded, data = _data(worker)
    data["occurred_at"] = (recorded + timedelta(minutes=minutes_after)).isoformat()
    result = record_incident(worker, uuid.uuid4(), recorded, data)
    if accepted:
        assert result["status"] == "created"
    else:
        assert result["status"] == "rejected"
        assert result["errors"] == {"occurred_at": ["This time is in the future. Say when it happened."]}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 0


@pytest.mark.parametrize("field, value, message_part", [
    ("description", "   ", "Describe what happened"),
    ("kinds", [], "at least one kind"),
    ("kinds", ["aggressive", "aggressive"], "once"),
    ("location", "roof", "Choose a place from the list."),
    ("severity", "apocalyptic", "Choose a level"),
    ("occurred_at", "2026-05-01T10:00:00", "UTC offset"),
    ("actions_taken", ["shouted_back"], "Choose an action from the list."),
])
def test_invalid_data_is_rejected_with_a_message_for_the_worker(db, worker, field, value, message_part):
    recorded, data = _data(worker, **{field: value})
    result = record_incident(worker, uuid.uuid4(), recorded, data)
    assert result["status"] == "rejected"
    assert message_part in str(result["errors"][field])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecordReceipt)) == 0


def test_staff_without_a_team_can_still_report(db, worker):
    from app.auth.services import create_user

    loner = create_user("loner@demo.example", "Lee Loner", "long enough password", worker.library_service_id)
    recorded, data = _data(worker)
    record_id = uuid.uuid4()
    assert record_incident(loner, record_id, recorded, data)["status"] == "created"
    assert db.session.get(Incident, record_id).team_id is None


def test_optional_text_sent_as_null_is_stored_empty(db, worker):
    recorded, data = _data(worker, witnesses=None, injuries=None, people_involved=None, police_reference=None)
    record_id = uuid.uuid4()
    assert record_incident(worker, record_id, recorded, data)["status"] == "created"
    incident = db.session.get(Incident, record_id)
    assert (incident.witnesses, incident.injuries, incident.people_involved) == ("", "", "")


def test_description_sent_as_null_gets_the_plain_message(db, worker):
    recorded, data = _data(worker, description=None)
    result = record_incident(worker, uuid.uuid4(), recorded, data)
    assert result["errors"]["description"] == ["Describe what happened, including what was said and done."]
