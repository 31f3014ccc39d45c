"""One clock seam: every module reads the time through `app.clock.utcnow`, so one patch moves them all."""
import ast
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db as _db

APP_DIR = Path(__file__).resolve().parent.parent / "app"
MOVED = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)


def _fixed_clock():
    return MOVED


def test_no_module_copies_utcnow_or_reads_the_system_clock_itself():
    offenders = []
    for path in sorted(APP_DIR.rglob("*.py")):
        if path.name == "clock.py" and path.parent == APP_DIR:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "app.clock":
                offenders.append(f"{path.relative_to(APP_DIR)}:{node.lineno} imports from app.clock by name")
            if (isinstance(node, ast.Attribute) and node.attr in {"now", "utcnow", "today"}
                    and isinstance(node.value, ast.Name) and node.value.id in {"datetime", "date"}):
                offenders.append(f"{path.relative_to(APP_DIR)}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert offenders == []


def test_one_patch_of_app_clock_moves_ingest_the_sync_api_and_column_defaults(app, auth, incident_record,
                                                                             monkeypatch):
    from app.auth.models import User
    from app.sync.models import RecordReceipt

    monkeypatch.setattr("app.clock.utcnow", _fixed_clock)
    auth.sign_in()
    assert auth.client.get("/api/v1/session").get_json()["server_time"].startswith("2031-03-04T05:06:07")
    record = incident_record()
    response = auth.sync([record])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["server_time"].startswith("2031-03-04T05:06:07")
    with app.app_context():
        receipt = _db.session.scalar(sa.select(RecordReceipt).where(RecordReceipt.id == uuid.UUID(record["id"])))
        assert receipt.received_at == MOVED
        newcomer = User(email="new.worker@demo.example", name="New Worker", role="staff",
                        library_service_id=_db.session.scalar(sa.select(User.library_service_id).limit(1)))
        newcomer.set_password("a long enough password")
        _db.session.add(newcomer)
        _db.session.commit()
        assert newcomer.created_at == MOVED
        _db.session.remove()
